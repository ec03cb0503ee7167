//! Every generated network can check its own gradients: `gradcheck` passes on
//! a correct network and catches a wrong gradient.

use denpa::ndarray::{array, ArrayD, ArrayViewD, ArrayViewMutD};
use denpa::runtime::AsArg;
use denpa::Network;

denpa_macros::net! {
    network Mlp {
        dtype f64
        input x: [3]
        target t: [2]
        h = tanh(dense(x, 4))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
    }
}

fn batch() -> (denpa::ndarray::Array2<f64>, denpa::ndarray::Array2<f64>) {
    (
        array![[0.1, 0.5, -0.3], [0.7, -0.2, 0.4]],
        array![[1.0, 0.0], [0.0, 1.0]],
    )
}

#[test]
fn a_correct_network_passes() {
    let (x, t) = batch();
    let report = Mlp::with_seed(3).gradcheck(x.view(), t.view()).unwrap();
    assert_eq!(report.comparisons.len(), 3 * 4 + 4 + 4 * 2 + 2);
    assert!(report.passed(1e-6), "{report}");
}

/// A test-only corruption: the same network, with one gradient element off
/// by 1%, as a wrong derivative rule would make it.
#[derive(Clone)]
struct Corrupted(Mlp);

impl Network for Corrupted {
    type Scalar = f64;
    const NAME: &'static str = "Corrupted";
    const INPUTS: &'static [(&'static str, &'static [usize])] = Mlp::INPUTS;
    const TARGETS: &'static [(&'static str, &'static [usize])] = Mlp::TARGETS;
    const OUTPUTS: &'static [(&'static str, &'static [usize])] = <Mlp as Network>::OUTPUTS;
    const INPUT_RANGES: &'static [Option<usize>] = Mlp::INPUT_RANGES;
    const TARGET_RANGES: &'static [Option<usize>] = Mlp::TARGET_RANGES;
    const SOURCE: &'static str = Mlp::SOURCE;

    fn with_seed(seed: u64) -> Self {
        Corrupted(Mlp::with_seed(seed))
    }
    fn parameters(&self) -> Vec<(&'static str, ArrayViewD<'_, f64>)> {
        self.0.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        self.0.parameters_mut()
    }
    fn optimizer_state(&self) -> (u64, Vec<(&'static str, ArrayViewD<'_, f64>)>) {
        self.0.optimizer_state()
    }
    fn optimizer_state_mut(&mut self) -> (&mut u64, Vec<(&'static str, ArrayViewMutD<'_, f64>)>) {
        self.0.optimizer_state_mut()
    }
    fn forward_dyn<'a, A: AsArg<'a, f64>>(
        &self,
        inputs: &[A],
    ) -> Result<Vec<(&'static str, ArrayD<f64>)>, denpa::Error> {
        self.0.forward_dyn(inputs)
    }
    fn loss_dyn<'a, 'b, A: AsArg<'a, f64>, B: AsArg<'b, f64>>(
        &self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<f64, denpa::Error> {
        self.0.loss_dyn(inputs, targets)
    }
    fn train_step_dyn<'a, 'b, A: AsArg<'a, f64>, B: AsArg<'b, f64>>(
        &mut self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<f64, denpa::Error> {
        self.0.train_step_dyn(inputs, targets)
    }
    fn gradients_dyn<'a, 'b, A: AsArg<'a, f64>, B: AsArg<'b, f64>>(
        &self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<(f64, Vec<(&'static str, ArrayD<f64>)>), denpa::Error> {
        let (loss, mut grads) = self.0.gradients_dyn(inputs, targets)?;
        grads[0].1[[1, 2]] *= 1.01;
        Ok((loss, grads))
    }
}

#[test]
fn a_wrong_gradient_is_caught_and_located() {
    let (x, t) = batch();
    let net = Corrupted(Mlp::with_seed(3));
    let report = denpa::runtime::gradcheck(
        &net,
        &[x.view().into_dyn()],
        &[t.view().into_dyn()],
        1e-6,
        1e-6,
    )
    .unwrap();
    assert!(!report.passed(1e-6));
    let worst = report.worst().unwrap();
    assert_eq!(
        (worst.parameter, worst.index.as_slice()),
        ("h_w", [1, 2].as_slice())
    );
    assert!((worst.relative_error - 0.01).abs() < 1e-3, "{report}");
    // Every other element still agrees.
    assert_eq!(
        report
            .comparisons
            .iter()
            .filter(|c| c.relative_error > 1e-6)
            .count(),
        1
    );
}

#[test]
fn the_report_reads_well() {
    let (x, t) = batch();
    let text = Mlp::with_seed(3)
        .gradcheck(x.view(), t.view())
        .unwrap()
        .to_string();
    assert!(text.starts_with("26 gradient elements compared"), "{text}");
    assert!(text.contains("h_w") && text.contains("y_b"), "{text}");
}

#[test]
fn the_network_explains_itself_and_keeps_its_source() {
    assert!(Mlp::SOURCE.starts_with("network Mlp {"));
    assert!(Mlp::explain().starts_with("Mlp — how it learns"));
    assert!(Mlp::explain().contains("A = ∂ℓ/∂z_y"), "{}", Mlp::explain());
}
