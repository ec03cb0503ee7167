//! The fused losses stay finite where the textbook formulas would not: logits
//! of ±1000 give a finite loss and a finite, correct gradient.

use denpa::ndarray::{array, ArrayD};
use denpa::Network;

denpa_macros::net! {
    network Softmax {
        dtype f64
        input x: [2]
        target t: [3]
        param W: [2, 3] = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0]]
        output y = softmax(x @ W)
        loss = cross_entropy(y, t)
    }
}

denpa_macros::net! {
    network Sigmoid {
        dtype f64
        input x: [2]
        target t: [2]
        param W: [2, 2] = [[1000.0, -1000.0], [-1000.0, 1000.0]]
        output y = sigmoid(x @ W)
        loss = binary_cross_entropy(y, t)
    }
}

#[test]
fn softmax_cross_entropy_with_logits_of_a_thousand() {
    let net = Softmax::new();
    // Logits [1000, -1000, 0] and [-1000, 1000, 500]: the wrong class wins
    // by 1000 in the first row.
    let x = array![[1.0, 0.0], [0.0, 1.0]];
    let t = array![[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
    let (loss, grads) = net.gradients(x.view(), t.view()).unwrap();
    assert!(loss.is_finite(), "{loss}");
    // Row 1: −ln softmax = 2000 (exactly, to rounding); row 2: ln(1 + e^−500) ≈ 0.
    assert!((loss - 1000.0).abs() < 1e-9, "{loss}");
    assert!(grads.W.iter().all(|g| g.is_finite()), "{:?}", grads.W);
    // ∂E/∂z = softmax(z) − t, so row 1's gradient is (1, −1, 0)/2 on x = (1, 0).
    assert!(
        (grads.W[[0, 0]] - 0.5).abs() < 1e-12 && (grads.W[[0, 1]] + 0.5).abs() < 1e-12,
        "{:?}",
        grads.W
    );
}

#[test]
fn sigmoid_binary_cross_entropy_with_logits_of_a_thousand() {
    let net = Sigmoid::new();
    let x = array![[1.0, 0.0]];
    let t = array![[0.0, 1.0]];
    let (loss, grads) = net.gradients(x.view(), t.view()).unwrap();
    // Logits (1000, −1000), targets (0, 1): each term is softplus(1000) = 1000.
    assert!((loss - 2000.0).abs() < 1e-9, "{loss}");
    // ∂ℓ/∂z = σ(z) − t = (1, −1).
    assert!(
        (grads.W[[0, 0]] - 1.0).abs() < 1e-12 && (grads.W[[0, 1]] + 1.0).abs() < 1e-12,
        "{:?}",
        grads.W
    );
    assert!(grads.W.iter().all(|g| g.is_finite()));
}

denpa_macros::net! {
    network Masked {
        input x: [3]
        target t: [2]
        h = relu(dense(x, 2))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

// The same with 20 hidden units: too wide for the scalar form.
denpa_macros::net! {
    network MaskedWide {
        input x: [3]
        target t: [2]
        h = relu(dense(x, 20))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

/// relu(NaN) is 0, so a NaN in the input can vanish from the loss; it would
/// still reach W ← W − η·xᵀδ. The general form folds that update into one
/// product and checks its factors first (x through x·W, which any NaN in x
/// spoils); the scalar form checks the gradient sums in its locals. Either
/// refuses, leaving every parameter as it was; `refused` is what it names.
fn a_nan_hidden_by_relu_stops<N>(refused: &str)
where
    N: Network<Scalar = f32> + Clone + PartialEq + std::fmt::Debug,
{
    let mut net = N::with_seed(0);
    let t = array![[1.0f32, 0.0], [0.0, 1.0]].into_dyn();
    let step = |net: &mut N, x: ArrayD<f32>| net.train_step_dyn(&[x.view()], &[t.view()]);
    let x = array![[0.5f32, f32::NAN, 1.0], [1.0, 0.0, -1.0]].into_dyn();
    assert!(net.loss_dyn(&[x.view()], &[t.view()]).unwrap().is_finite());
    let before = net.clone();
    let err = step(&mut net, x).unwrap_err();
    assert!(matches!(err, denpa::Error::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains(refused), "{err}");
    assert_eq!(net, before);
    // An infinite input is refused the same way.
    let x = array![[0.5f32, f32::INFINITY, 1.0], [1.0, 0.0, -1.0]].into_dyn();
    assert!(step(&mut net, x).is_err());
    assert_eq!(net, before);
    // And a finite batch trains.
    let x = array![[0.5f32, 0.2, 1.0], [1.0, 0.0, -1.0]].into_dyn();
    step(&mut net, x).unwrap();
    assert_ne!(net, before);
}

#[test]
fn a_nan_that_relu_hides_from_the_loss_still_stops_the_step() {
    a_nan_hidden_by_relu_stops::<Masked>("the gradient of h_w");
    a_nan_hidden_by_relu_stops::<MaskedWide>("x, a factor of the gradient of h_w");
}
