//! The generated `train_step` follows each optimizer's formula, checked
//! against values worked out by hand and from the formulas on a network whose
//! gradient is known: y = w·x, loss = sse(y, t) = ½(wx − t)², so with x = 1
//! and t = 0 the gradient is w itself.

use denpa::ndarray::array;

denpa_macros::net! {
    network WithSgd {
        dtype f64
        input x: [1]
        target t: [1]
        param w: [1] = [1.0]
        output y = x * w
        loss = sse(y, t)
        train sgd(lr = 0.1)
    }
}

denpa_macros::net! {
    network WithMomentum {
        dtype f64
        input x: [1]
        target t: [1]
        param w: [1] = [1.0]
        output y = x * w
        loss = sse(y, t)
        train momentum(lr = 0.1, beta = 0.9)
    }
}

denpa_macros::net! {
    network WithAdam {
        dtype f64
        input x: [1]
        target t: [1]
        param w: [1] = [1.0]
        output y = x * w
        loss = sse(y, t)
        train adam(lr = 0.1)
    }
}

macro_rules! run {
    ($net:expr, $steps:expr) => {{
        let mut net = $net;
        let (x, t) = (array![[1.0]], array![[0.0]]);
        (0..$steps)
            .map(|_| {
                net.train_step(x.view(), t.view()).unwrap();
                net.w[0]
            })
            .collect::<Vec<f64>>()
    }};
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

#[test]
fn sgd_by_hand() {
    // w ← w − 0.1 w = 0.9 w
    close(&run!(WithSgd::new(), 3), &[0.9, 0.81, 0.729]);
}

#[test]
fn momentum_by_hand() {
    // v1 = 1, w1 = 0.9; v2 = 0.9 + 0.9 = 1.8, w2 = 0.72;
    // v3 = 1.62 + 0.72 = 2.34, w3 = 0.486
    close(&run!(WithMomentum::new(), 3), &[0.9, 0.72, 0.486]);
}

#[test]
fn adam_from_the_formulas() {
    let (lr, b1, b2, eps) = (0.1f64, 0.9f64, 0.999f64, 1e-8);
    let (mut w, mut m, mut v) = (1.0f64, 0.0, 0.0);
    let mut expected = Vec::new();
    for step in 1..=4 {
        let g = w;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let m_hat = m / (1.0 - b1.powi(step));
        let v_hat = v / (1.0 - b2.powi(step));
        w -= lr * m_hat / (v_hat.sqrt() + eps);
        expected.push(w);
    }
    // The first step of Adam moves by almost exactly lr.
    assert!((expected[0] - 0.9).abs() < 1e-8);
    let net = WithAdam::new();
    close(&run!(net, 4), &expected);
}

#[test]
fn the_optimizer_counts_its_steps_and_keeps_its_moments() {
    let mut net = WithAdam::new();
    let (x, t) = (array![[1.0]], array![[0.0]]);
    net.train_step(x.view(), t.view()).unwrap();
    net.train_step(x.view(), t.view()).unwrap();
    assert_eq!(net.optimizer().step, 2);
    assert!(net.optimizer().m_w[0] > 0.0 && net.optimizer().v_w[0] > 0.0);
}
