//! The fused losses stay finite where the textbook formulas would not: logits
//! of ±1000 give a finite loss and a finite, correct gradient.

use denpa::ndarray::array;

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
