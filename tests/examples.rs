//! The example networks do what the textbook says they do.

use denpa::ndarray::{array, Array2};

denpa_macros::net!("examples/and_gate.nn");
denpa_macros::net!("examples/xor.nn");

fn truth_table() -> Array2<f32> {
    array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
}

#[test]
fn and_gate_with_the_textbook_weights_gives_0_0_0_1() {
    let net = AndGate::new();
    assert_eq!(net.w, array![[0.5], [0.5]]);
    assert_eq!(net.b, array![-0.7]);
    let y = net.forward(truth_table().view()).unwrap();
    assert_eq!(y, array![[0.0], [0.0], [0.0], [1.0]]);
}

#[test]
fn and_gate_learns_nothing_through_step() {
    // step has no gradient: every parameter's gradient is exactly zero.
    let net = AndGate::new();
    let t = array![[0.0], [0.0], [0.0], [1.0]];
    let (loss, grads) = net.gradients(truth_table().view(), t.view()).unwrap();
    assert_eq!(loss, 0.0);
    assert!(grads.w.iter().chain(grads.b.iter()).all(|g| *g == 0.0));
}

/// Trains XOR from a seed; true when all four predictions are on the right
/// side of 0.5.
fn xor_learns(mut net: Xor) -> bool {
    let x = truth_table();
    let t = array![[0.0], [1.0], [1.0], [0.0]];
    let first = net.loss(x.view(), t.view()).unwrap();
    for _ in 0..5000 {
        net.train_step(x.view(), t.view()).unwrap();
    }
    let last = net.loss(x.view(), t.view()).unwrap();
    assert!(
        last < first,
        "training did not lower the loss: {first} → {last}"
    );
    let y = net.forward(x.view()).unwrap();
    (0..4).all(|i| (y[[i, 0]] > 0.5) == (t[[i, 0]] > 0.5))
}

#[test]
fn xor_learns_from_the_default_seed() {
    assert!(xor_learns(Xor::new()));
}

#[test]
fn xor_learns_from_at_least_9_of_10_seeds() {
    let learned: Vec<u64> = (1..=10)
        .filter(|&seed| xor_learns(Xor::with_seed(seed)))
        .collect();
    assert!(learned.len() >= 9, "only seeds {learned:?} learned XOR");
}

#[test]
fn the_same_seed_gives_the_same_parameters() {
    assert_eq!(Xor::with_seed(7), Xor::with_seed(7));
    assert_ne!(Xor::with_seed(7).W1, Xor::with_seed(8).W1);
}

#[test]
fn a_wrong_shaped_batch_is_refused_with_names_and_shapes() {
    let net = Xor::new();
    let x = array![[0.0f32, 0.0, 1.0]];
    let err = net.forward(x.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Xor: the argument `x` has shape [1, 3], expected [batch, 2]"
    );
    let t = array![[0.0f32], [1.0]];
    let err = net.loss(truth_table().view(), t.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Xor: the argument `t` has shape [2, 1], expected [4, 1]"
    );
    let empty = Array2::<f32>::zeros((0, 2));
    let none = Array2::<f32>::zeros((0, 1));
    let err = net.loss(empty.view(), none.view()).unwrap_err();
    assert!(matches!(err, denpa::Error::EmptyBatch { network: "Xor" }));
}

#[test]
fn a_non_finite_loss_leaves_the_parameters_unchanged() {
    let mut net = Xor::new();
    let before = net.clone();
    let x = array![[f32::NAN, 0.0]];
    let t = array![[1.0f32]];
    let err = net.train_step(x.view(), t.view()).unwrap_err();
    assert!(matches!(err, denpa::Error::NonFinite { .. }), "{err}");
    assert_eq!(net, before);
}
