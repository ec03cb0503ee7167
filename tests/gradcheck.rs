//! Finite-difference gradient checks of the generated backward pass, in f64.
//!
//! Every network below is compiled by `net!` with `dtype f64`; each test
//! perturbs every element of every parameter through [`denpa::Network`] and
//! compares a central difference of `loss` with the analytic gradient that
//! `gradients` returns through [`denpa::Gradients`].
//!
//! The numeric derivative is the central difference at `h` and `2h` combined
//! by Richardson extrapolation, `(4 D(h) − D(2h)) / 3`: its truncation error is
//! O(h⁴) instead of O(h²), so `h` can be large enough that rounding in the loss
//! stays near 1e-13 absolute. A plain central difference at h = 1e-6 has a
//! rounding error near 1e-10 absolute, too coarse for a 1e-6 relative
//! tolerance on gradients of order 1e-5.

use denpa::ndarray::{array, Array1, Array2};
use denpa::{Gradients, Network};

/// Step of the central differences (`h` and `2h`).
const H: f64 = 1e-3;
/// Largest accepted relative error.
const TOLERANCE: f64 = 1e-6;
/// Denominator floor of the relative error: gradients near zero are compared
/// absolutely, to `TOLERANCE * FLOOR`.
const FLOOR: f64 = 1e-6;

/// The relative error of `analytic` against `numeric`.
fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FLOOR)
}

/// Element `index` (in logical, row-major order) of parameter `param`.
fn element<N: Network<Scalar = f64>>(net: &N, param: usize, index: usize) -> f64 {
    *net.parameters()[param]
        .1
        .iter()
        .nth(index)
        .expect("an element of the parameter")
}

/// Sets element `index` (in logical, row-major order) of parameter `param`.
fn set_element<N: Network<Scalar = f64>>(net: &mut N, param: usize, index: usize, value: f64) {
    *net.parameters_mut()[param]
        .1
        .iter_mut()
        .nth(index)
        .expect("an element of the parameter") = value;
}

/// Checks every element of every gradient of `net` against the central
/// difference of `loss`, and that `gradients` returns the value of `loss`.
/// Returns the largest relative error.
///
/// Panics listing every mismatch (parameter, index, analytic and numeric
/// value) when a relative error reaches [`TOLERANCE`].
fn check_gradients<N, G>(
    label: &str,
    net: &mut N,
    loss: impl Fn(&N) -> Result<f64, denpa::Error>,
    gradients: impl Fn(&N) -> Result<(f64, G), denpa::Error>,
) -> f64
where
    N: Network<Scalar = f64>,
    G: Gradients<Scalar = f64>,
{
    let snapshot = |net: &N| {
        net.parameters()
            .into_iter()
            .map(|(name, p)| (name, p.to_owned()))
            .collect::<Vec<_>>()
    };
    let before = snapshot(net);
    let (value, grads) = gradients(net).expect("gradients");
    let plain = loss(net).expect("loss");
    assert!(value.is_finite(), "{label}: the loss {value} is not finite");
    assert_eq!(
        value, plain,
        "{label}: gradients() and loss() return different losses"
    );

    let tensors = grads.tensors();
    let param_layout = before
        .iter()
        .map(|(name, p)| (*name, p.shape().to_vec()))
        .collect::<Vec<_>>();
    let grad_layout = tensors
        .iter()
        .map(|(name, g)| (*name, g.shape().to_vec()))
        .collect::<Vec<_>>();
    assert_eq!(
        param_layout, grad_layout,
        "{label}: parameters and gradients differ in names, order or shapes"
    );

    // The loss with element `i` of parameter `p` moved by `delta`.
    let moved = |net: &mut N, p: usize, i: usize, original: f64, delta: f64| {
        set_element(net, p, i, original + delta);
        let value = loss(net).expect("loss of a perturbed network");
        set_element(net, p, i, original);
        value
    };
    let mut failures = Vec::new();
    let mut elements = 0;
    let mut max_error = 0.0_f64;
    for (p, (name, analytic)) in tensors.iter().enumerate() {
        for (i, &a) in analytic.iter().enumerate() {
            let original = element(net, p, i);
            let d1 = (moved(net, p, i, original, H) - moved(net, p, i, original, -H)) / (2.0 * H);
            let d2 = (moved(net, p, i, original, 2.0 * H) - moved(net, p, i, original, -2.0 * H))
                / (4.0 * H);
            let n = (4.0 * d1 - d2) / 3.0;
            let error = relative_error(a, n);
            elements += 1;
            max_error = max_error.max(error);
            // A NaN on either side is a failure too.
            if error.is_nan() || error >= TOLERANCE {
                let index = multi_index(analytic.shape(), i);
                failures.push(format!(
                    "  {name}{index:?}: analytic {a:+.12e}, numeric {n:+.12e}, \
                     relative error {error:.3e}"
                ));
            }
        }
    }

    assert!(
        before == snapshot(net),
        "{label}: the check must leave the parameters as it found them"
    );
    assert!(
        failures.is_empty(),
        "{label}: {} of {elements} gradient elements disagree with the central \
         difference (h = {H:e}, tolerance {TOLERANCE:e}, floor {FLOOR:e}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{label}: {elements} elements, largest relative error {max_error:.3e}");
    max_error
}

/// The multi-index of the `flat`-th element (row-major) of an array of `shape`.
fn multi_index(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        index[k] = flat % n;
        flat /= n;
    }
    index
}

/// A deterministic batch: `rows` samples of `cols` values in about
/// `[-scale, scale]`, from `sin` of the position and a per-call `phase`.
fn batch(rows: usize, cols: usize, phase: f64, scale: f64) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        scale * (1.3 * r as f64 + 0.7 * c as f64 + phase).sin()
    })
}

/// Deterministic per-sample scalars, like [`batch`].
fn scalars(rows: usize, phase: f64, scale: f64) -> Array1<f64> {
    Array1::from_shape_fn(rows, |r| scale * (1.7 * r as f64 + phase).sin())
}

/// One-hot rows: sample `r` has its 1 at class `(2 r + 1) mod classes`.
fn one_hot(rows: usize, classes: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, classes), |(r, c)| {
        if c == (2 * r + 1) % classes {
            1.0
        } else {
            0.0
        }
    })
}

/// Non-negative rows that do not sum to one: row `r` sums to 0.4, 1.5, 0.7,
/// 1.8, 0.55, ... in turn.
fn unnormalized(rows: usize, classes: usize) -> Array2<f64> {
    const SUMS: [f64; 5] = [0.4, 1.5, 0.7, 1.8, 0.55];
    let mut t = Array2::from_shape_fn((rows, classes), |(r, c)| {
        0.1 + (0.5 + 0.5 * (2.1 * r as f64 + 1.1 * c as f64 + 0.4).sin())
    });
    for (r, mut row) in t.rows_mut().into_iter().enumerate() {
        let scale = SUMS[r % SUMS.len()] / row.sum();
        row.mapv_inplace(|v| v * scale);
    }
    t
}

/// How far from a kink (of step, relu, leaky_relu, abs) a value must stay:
/// well beyond the largest perturbation, 2h times the size of an input.
const KINK_MARGIN: f64 = 20.0 * H;

/// Asserts that no element of `z` is within [`KINK_MARGIN`] of the kink at 0,
/// where the finite difference would straddle it.
fn assert_away_from_kink(what: &str, z: &Array2<f64>) {
    let nearest = z.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
    eprintln!("{what}: nearest to the kink {nearest:.3e}");
    assert!(
        nearest > KINK_MARGIN,
        "{what} has an element within {KINK_MARGIN} of a kink: {z}"
    );
}

// ---------------------------------------------------------------------------
// Elementwise arithmetic, unary minus, scalar broadcasting, `[n] @ [n, m]`,
// sigmoid, sse, literal initializers.

denpa_macros::net! {
    network Elementwise {
        dtype f64
        input  x: [3]
        target t: [2]
        param W: [3, 2] = normal(0, 0.6)
        param b: [2] = uniform(-0.3, 0.3)
        param s: [2] = [0.7, -0.4]
        param M: [2, 2] = [[0.3, -0.2], [0.1, 0.5]]
        a = 2 * x @ W
        h = sigmoid(a + b)
        g = h - 0.5
        k = 1.5 - h * 0.5
        output y = -g * s + h * h - b + k @ M - -b * g
        loss = sse(y, t)
        train sgd(lr = 0.1)
    }
}

#[test]
fn elementwise_arithmetic_broadcasting_and_vector_matrix_product() {
    let mut net = Elementwise::with_seed(1);
    let x = batch(4, 3, 0.2, 1.0);
    let t = batch(4, 2, 1.1, 0.8);
    check_gradients(
        "Elementwise",
        &mut net,
        |n: &Elementwise| n.loss(x.view(), t.view()),
        |n: &Elementwise| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// `[n, m] @ [m]`, unfused cross-entropy on sigmoid probabilities.

denpa_macros::net! {
    network MatrixVector {
        dtype f64
        input  x: [3]
        target t: [2]
        param W: [2, 3] = uniform(-0.8, 0.8)
        param c: [2] = constant(0.1)
        output y = sigmoid(W @ x + c)
        loss = cross_entropy(y, t)
    }
}

#[test]
fn matrix_vector_product_and_unfused_cross_entropy_of_sigmoids() {
    let mut net = MatrixVector::with_seed(2);
    let x = batch(5, 3, 0.5, 1.2);
    let t = unnormalized(5, 2);
    check_gradients(
        "MatrixVector",
        &mut net,
        |n: &MatrixVector| n.loss(x.view(), t.view()),
        |n: &MatrixVector| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// `[n] @ [n]` with a parameter vector, on both sides; a per-sample scalar
// target; a literal vector initializer.

denpa_macros::net! {
    network Dot {
        dtype f64
        input  x: [4]
        target t: []
        param w: [4] = [0.5, -0.25, 0.3, 0.1]
        param v: [4] = normal(0, 0.5)
        u = x @ w
        output y = v @ x * u + 0.5 * u - 0.1
        loss = (y - t) * (y - t)
    }
}

#[test]
fn dot_product_with_a_parameter_vector_and_a_scalar_target() {
    let mut net = Dot::with_seed(3);
    let x = batch(4, 4, 0.9, 1.0);
    let t = scalars(4, 0.3, 0.7);
    check_gradients(
        "Dot",
        &mut net,
        |n: &Dot| n.loss(x.view(), t.view()),
        |n: &Dot| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// A product of two parameters, `[n, k] @ [k, m]`, and the fused
// `cross_entropy(softmax(z), t)` written directly.

denpa_macros::net! {
    network ParamProduct {
        dtype f64
        input  x: [3]
        target t: [4]
        param A: [3, 2] = normal(0, 0.7)
        param B: [2, 4] = glorot
        param c: [4] = uniform(-0.2, 0.2)
        output z = x @ (A @ B) + c
        loss = cross_entropy(softmax(z), t)
    }
}

#[test]
fn parameter_product_and_direct_fused_cross_entropy_one_hot() {
    let mut net = ParamProduct::with_seed(4);
    let x = batch(5, 3, 0.1, 1.0);
    let t = one_hot(5, 4);
    check_gradients(
        "ParamProduct one-hot",
        &mut net,
        |n: &ParamProduct| n.loss(x.view(), t.view()),
        |n: &ParamProduct| n.gradients(x.view(), t.view()),
    );
}

#[test]
fn parameter_product_and_direct_fused_cross_entropy_unnormalized() {
    let mut net = ParamProduct::with_seed(5);
    let x = batch(5, 3, 0.6, 1.0);
    let t = unnormalized(5, 4);
    check_gradients(
        "ParamProduct unnormalized",
        &mut net,
        |n: &ParamProduct| n.loss(x.view(), t.view()),
        |n: &ParamProduct| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// The fused cross-entropy through a binding: `output y = softmax(z)`.

denpa_macros::net! {
    network FusedThroughBinding {
        dtype f64
        input  x: [4]
        target t: [3]
        param W1: [4, 5] = glorot
        param b1: [5] = uniform(-0.1, 0.1)
        param W2: [5, 3] = he
        param b2: [3]
        h = sigmoid(x @ W1 + b1)
        z = h @ W2 + b2
        output y = softmax(z)
        loss = cross_entropy(y, t)
    }
}

#[test]
fn fused_cross_entropy_through_a_binding_one_hot() {
    let mut net = FusedThroughBinding::with_seed(6);
    let x = batch(5, 4, 0.3, 1.5);
    let t = one_hot(5, 3);
    check_gradients(
        "FusedThroughBinding one-hot",
        &mut net,
        |n: &FusedThroughBinding| n.loss(x.view(), t.view()),
        |n: &FusedThroughBinding| n.gradients(x.view(), t.view()),
    );
}

#[test]
fn fused_cross_entropy_through_a_binding_unnormalized() {
    let mut net = FusedThroughBinding::with_seed(7);
    let x = batch(5, 4, 0.8, 1.5);
    let t = array![
        [0.2, 0.5, 0.1],
        [0.0, 0.3, 0.3],
        [0.9, 0.4, 0.3],
        [0.1, 0.0, 0.05],
        [0.6, 0.6, 0.6]
    ];
    check_gradients(
        "FusedThroughBinding unnormalized",
        &mut net,
        |n: &FusedThroughBinding| n.loss(x.view(), t.view()),
        |n: &FusedThroughBinding| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// softmax on its own (its rule, not the fusion): the probabilities are
// squeezed before the cross-entropy.

denpa_macros::net! {
    network UnfusedSoftmax {
        dtype f64
        input  x: [3]
        target t: [4]
        param W: [3, 4] = normal(0, 0.8)
        param b: [4] = normal(0, 0.3)
        output y = softmax(x @ W + b) * 0.5 + 0.25
        loss = cross_entropy(y, t)
    }
}

#[test]
fn softmax_rule_with_unfused_cross_entropy() {
    let mut net = UnfusedSoftmax::with_seed(8);
    let x = batch(4, 3, 1.4, 1.0);
    for (label, t) in [
        ("UnfusedSoftmax one-hot", one_hot(4, 4)),
        ("UnfusedSoftmax unnormalized", unnormalized(4, 4)),
    ] {
        check_gradients(
            label,
            &mut net,
            |n: &UnfusedSoftmax| n.loss(x.view(), t.view()),
            |n: &UnfusedSoftmax| n.gradients(x.view(), t.view()),
        );
    }
}

denpa_macros::net! {
    network SoftmaxSse {
        dtype f64
        input  x: [3]
        target t: [3]
        param W: [3, 3] = normal(0, 0.8)
        output y = softmax(x @ W)
        loss = sse(y, t)
    }
}

#[test]
fn softmax_rule_with_sse() {
    let mut net = SoftmaxSse::with_seed(9);
    let x = batch(4, 3, 0.7, 1.0);
    let t = one_hot(4, 3);
    check_gradients(
        "SoftmaxSse",
        &mut net,
        |n: &SoftmaxSse| n.loss(x.view(), t.view()),
        |n: &SoftmaxSse| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// step: no gradient passes it.

denpa_macros::net! {
    network Step {
        dtype f64
        input  x: [3]
        target t: [2]
        param W1: [3, 4] = normal(0, 1)
        param b1: [4] = uniform(-0.5, 0.5)
        param W2: [4, 2] = normal(0, 1)
        param b2: [2] = ones
        h = step(x @ W1 + b1)
        output y = sigmoid(h @ W2 + b2 + x @ W1 @ W2 * 0.1)
        loss = sse(y, t)
    }
}

#[test]
fn step_passes_no_gradient() {
    let mut net = Step::with_seed(10);
    let x = batch(5, 3, 0.4, 1.0);
    let t = batch(5, 2, 2.0, 0.5).mapv(|v| v + 0.5);
    let z = x.dot(&net.W1) + &net.b1;
    assert_away_from_kink("Step: x @ W1 + b1", &z);
    check_gradients(
        "Step",
        &mut net,
        |n: &Step| n.loss(x.view(), t.view()),
        |n: &Step| n.gradients(x.view(), t.view()),
    );
    // Only the path around step carries a gradient to b1.
    let (_, grads) = net.gradients(x.view(), t.view()).unwrap();
    assert!(grads.b1.iter().all(|g| *g == 0.0), "{}", grads.b1);
}

// ---------------------------------------------------------------------------
// A parameter used in two places; a binding used by two later bindings.

denpa_macros::net! {
    network Shared {
        dtype f64
        input  x: [3]
        target t: [3]
        param W: [3, 3] = normal(0, 0.7)
        param b: [3] = uniform(-0.2, 0.2)
        param V: [3, 3] = glorot
        h = sigmoid(x @ W + b)
        u = h @ V
        v = h * h - b
        output y = sigmoid(u + v @ W)
        loss = sse(y, t)
    }
}

#[test]
fn a_shared_parameter_and_a_shared_binding_accumulate_gradients() {
    let mut net = Shared::with_seed(11);
    let x = batch(4, 3, 0.0, 1.0);
    let t = batch(4, 3, 0.9, 0.4).mapv(|v| v + 0.5);
    check_gradients(
        "Shared",
        &mut net,
        |n: &Shared| n.loss(x.view(), t.view()),
        |n: &Shared| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// Two inputs, two targets, two outputs, a loss that adds two losses.

denpa_macros::net! {
    network TwoInputs {
        dtype f64
        input  a: [2]
        input  b: [3]
        target t: [3]
        target u: [2]
        param Wa: [2, 4] = normal(0, 0.8)
        param Wb: [3, 4] = glorot
        param c: [4] = constant(-0.1)
        param V: [4, 3] = normal(0, 0.8)
        param U: [4, 2] = uniform(-1, 1)
        h = sigmoid(a @ Wa + b @ Wb + c)
        output p = softmax(h @ V)
        output q = sigmoid(h @ U)
        loss = cross_entropy(p, t) + sse(q, u) * 2
    }
}

#[test]
fn two_inputs_two_targets_two_outputs() {
    let mut net = TwoInputs::with_seed(12);
    let a = batch(4, 2, 0.2, 1.0);
    let b = batch(4, 3, 1.9, 1.0);
    let t = one_hot(4, 3);
    let u = batch(4, 2, 0.5, 0.3).mapv(|v| v + 0.5);
    let (p, q) = net.forward(a.view(), b.view()).unwrap();
    assert_eq!((p.dim(), q.dim()), ((4, 3), (4, 2)));
    check_gradients(
        "TwoInputs",
        &mut net,
        |n: &TwoInputs| n.loss(a.view(), b.view(), t.view(), u.view()),
        |n: &TwoInputs| n.gradients(a.view(), b.view(), t.view(), u.view()),
    );
}

// ---------------------------------------------------------------------------
// A deep relu network: three layers.

denpa_macros::net! {
    network DeepRelu {
        dtype f64
        input  x: [4]
        target t: [2]
        param W1: [4, 6] = he
        param b1: [6] = uniform(-0.1, 0.1)
        param W2: [6, 5] = he
        param b2: [5] = uniform(-0.1, 0.1)
        param W3: [5, 2] = glorot
        param b3: [2]
        h1 = relu(x @ W1 + b1)
        h2 = relu(h1 @ W2 + b2)
        output y = h2 @ W3 + b3
        loss = sse(y, t)
    }
}

#[test]
fn deep_relu_network() {
    let mut net = DeepRelu::with_seed(19);
    let x = batch(5, 4, 0.25, 1.0);
    let t = batch(5, 2, 1.2, 1.0);
    let z1 = x.dot(&net.W1) + &net.b1;
    let z2 = z1.mapv(|v| v.max(0.0)).dot(&net.W2) + &net.b2;
    assert_away_from_kink("DeepRelu: x @ W1 + b1", &z1);
    assert_away_from_kink("DeepRelu: h1 @ W2 + b2", &z2);
    assert!(z1.iter().any(|v| *v < 0.0) && z1.iter().any(|v| *v > 0.0));
    check_gradients(
        "DeepRelu",
        &mut net,
        |n: &DeepRelu| n.loss(x.view(), t.view()),
        |n: &DeepRelu| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// The fusion when the softmax output has other users: the fused node gives
// the cross-entropy's part, softmax's own rule the rest.

denpa_macros::net! {
    network FusedSoftmaxReused {
        dtype f64
        input  x: [3]
        target t: [3]
        param W: [3, 3] = normal(0, 0.8)
        param v: [3] = normal(0, 1)
        z = x @ W
        output y = softmax(z)
        output q = y @ v
        loss = cross_entropy(y, t) + sse(y, t) * 0.5 + q * q
    }
}

#[test]
fn fused_cross_entropy_when_the_softmax_output_has_other_users() {
    let mut net = FusedSoftmaxReused::with_seed(20);
    let x = batch(4, 3, 0.3, 1.0);
    for (label, t) in [
        ("FusedSoftmaxReused one-hot", one_hot(4, 3)),
        ("FusedSoftmaxReused unnormalized", unnormalized(4, 3)),
    ] {
        check_gradients(
            label,
            &mut net,
            |n: &FusedSoftmaxReused| n.loss(x.view(), t.view()),
            |n: &FusedSoftmaxReused| n.gradients(x.view(), t.view()),
        );
    }
}

// ---------------------------------------------------------------------------
// Values computed from parameters only, in every form of `@`, broadcast into
// the batch: their gradients sum over the samples.

denpa_macros::net! {
    network ParamOnlyProducts {
        dtype f64
        input  x: [3]
        target t: [2]
        param A: [3, 2] = normal(0, 0.7)
        param B: [2, 2] = normal(0, 0.7)
        param C: [2, 3] = normal(0, 0.7)
        param u: [3] = normal(0, 0.7)
        param v: [2] = normal(0, 0.7)
        k = v @ (C @ A)
        m = (A @ B) @ v
        d = v @ v
        h = sigmoid(x @ -A + k * d + x @ sigmoid(2 * A) @ -B)
        g = h + softmax(v) - u @ A + (C @ m) * 0.1
        output y = sigmoid(g - mean(A) + sum(u))
        loss = sse(y, t) + sse(u, m)
    }
}

#[test]
fn parameter_only_values_broadcast_into_the_batch() {
    let mut net = ParamOnlyProducts::with_seed(21);
    let x = batch(4, 3, 0.3, 1.0);
    let t = batch(4, 2, 1.0, 0.5);
    check_gradients(
        "ParamOnlyProducts",
        &mut net,
        |n: &ParamOnlyProducts| n.loss(x.view(), t.view()),
        |n: &ParamOnlyProducts| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// Parameters that do not reach the loss get a zero gradient; the target in
// a binding that only the loss uses.

denpa_macros::net! {
    network Unused {
        dtype f64
        input  x: [3]
        target t: [2]
        param W: [3, 2] = normal(0, 1)
        param P: [3, 2] = normal(0, 1)
        param Q: [2] = ones
        output y = sigmoid(x @ W)
        output other = x @ P + Q
        d = y - t
        loss = sum(d * d) * 0.5 + mean(t) * 0.1
    }
}

#[test]
fn parameters_that_do_not_reach_the_loss_get_zero_gradients() {
    let mut net = Unused::with_seed(22);
    let x = batch(4, 3, 0.3, 1.0);
    let t = batch(4, 2, 1.0, 0.5);
    check_gradients(
        "Unused",
        &mut net,
        |n: &Unused| n.loss(x.view(), t.view()),
        |n: &Unused| n.gradients(x.view(), t.view()),
    );
    let (_, grads) = net.gradients(x.view(), t.view()).unwrap();
    assert!(grads.P.iter().chain(grads.Q.iter()).all(|g| *g == 0.0));
}

// ---------------------------------------------------------------------------
// Losses of scalars: per-sample scalars, and a scalar of parameters only.

denpa_macros::net! {
    network ScalarLosses {
        dtype f64
        input  x: [3]
        target t: []
        param w: [3] = normal(0, 0.8)
        param v: [3] = [0.4, -0.3, 0.2]
        param c: [2] = [0.5, 0.25]
        z = x @ w
        output p = sigmoid(z)
        loss = sse(z, t) + cross_entropy(p, t) + sse(w @ v, c @ c)
    }
}

#[test]
fn losses_of_scalars() {
    let mut net = ScalarLosses::with_seed(23);
    let x = batch(5, 3, 0.8, 1.0);
    let t = scalars(5, 0.4, 0.4).mapv(|v| v + 0.5);
    check_gradients(
        "ScalarLosses",
        &mut net,
        |n: &ScalarLosses| n.loss(x.view(), t.view()),
        |n: &ScalarLosses| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// `gradients` and `loss` agree on the loss.

#[test]
fn gradients_returns_the_loss_of_loss() {
    let x = batch(5, 4, 0.3, 1.0);
    let t = one_hot(5, 3);
    for seed in 0..5 {
        let net = FusedThroughBinding::with_seed(seed);
        let (from_gradients, _) = net.gradients(x.view(), t.view()).unwrap();
        let from_loss = net.loss(x.view(), t.view()).unwrap();
        assert_eq!(from_gradients, from_loss, "seed {seed}");
    }
    let net = TwoInputs::with_seed(3);
    let (a, b) = (batch(3, 2, 0.0, 1.0), batch(3, 3, 1.0, 1.0));
    let (t, u) = (unnormalized(3, 3), batch(3, 2, 0.1, 0.4));
    let (from_gradients, _) = net
        .gradients(a.view(), b.view(), t.view(), u.view())
        .unwrap();
    let from_loss = net.loss(a.view(), b.view(), t.view(), u.view()).unwrap();
    assert_eq!(from_gradients, from_loss);
}

// ---------------------------------------------------------------------------
// The other elementwise functions and the reductions.

denpa_macros::net! {
    network ExtrasA {
        dtype f64
        input  x: [3]
        target t: [2]
        param W1: [3, 4] = normal(0, 0.7)
        param b1: [4] = uniform(-0.2, 0.2)
        param W2: [4, 2] = normal(0, 0.7)
        h = tanh(x @ W1 + b1)
        g = leaky_relu(h @ W2, slope = 0.2)
        output y = softplus(g) - leaky_relu(h, 0.05) @ W2
        loss = sum(square(y - t)) + 0.1 * mean(square(W1))
    }
}

#[test]
fn tanh_leaky_relu_softplus_square_sum_mean() {
    let mut net = ExtrasA::with_seed(14);
    let x = batch(4, 3, 0.6, 1.0);
    let t = batch(4, 2, 0.1, 0.5);
    let h = (x.dot(&net.W1) + &net.b1).mapv(f64::tanh);
    assert_away_from_kink("ExtrasA: h", &h);
    assert_away_from_kink("ExtrasA: h @ W2", &h.dot(&net.W2));
    check_gradients(
        "ExtrasA",
        &mut net,
        |n: &ExtrasA| n.loss(x.view(), t.view()),
        |n: &ExtrasA| n.gradients(x.view(), t.view()),
    );
}

denpa_macros::net! {
    network ExtrasB {
        dtype f64
        input  x: [3]
        target t: [2]
        param W: [3, 2] = normal(0, 0.5)
        param b: [2] = [0.3, -0.4]
        z = x @ W + b
        e = exp(z)
        output y = log(e + 1) + sqrt(e) * abs(z) / (e + 2)
        loss = mean(abs(y - t)) + sum(log(sqrt(e + 2))) / 3
    }
}

#[test]
fn exp_log_sqrt_abs_division_mean() {
    let mut net = ExtrasB::with_seed(15);
    let x = batch(4, 3, 0.35, 1.0);
    let t = batch(4, 2, 2.5, 0.3);
    let z = x.dot(&net.W) + &net.b;
    assert_away_from_kink("ExtrasB: z", &z);
    let y = net.forward(x.view()).unwrap();
    assert_away_from_kink("ExtrasB: y - t", &(y - &t));
    check_gradients(
        "ExtrasB",
        &mut net,
        |n: &ExtrasB| n.loss(x.view(), t.view()),
        |n: &ExtrasB| n.gradients(x.view(), t.view()),
    );
}

// ---------------------------------------------------------------------------
// A per-sample scalar input broadcast against parameter vectors.

denpa_macros::net! {
    network ScalarInput {
        dtype f64
        input  s: []
        input  x: [2]
        target t: [3]
        param w: [3] = normal(0, 1)
        param c: [3] = uniform(-0.5, 0.5)
        param V: [2, 3] = [[0.2, -0.3, 0.4], [0.5, 0.1, -0.6]]
        h = sigmoid(s * w + c + x @ V * s)
        output y = h * s - s
        loss = sse(y, t)
    }
}

#[test]
fn scalar_input_broadcasting() {
    let mut net = ScalarInput::with_seed(16);
    let s = scalars(5, 0.9, 1.5);
    let x = batch(5, 2, 0.4, 1.0);
    let t = batch(5, 3, 1.3, 0.5);
    check_gradients(
        "ScalarInput",
        &mut net,
        |n: &ScalarInput| n.loss(s.view(), x.view(), t.view()),
        |n: &ScalarInput| n.gradients(s.view(), x.view(), t.view()),
    );
}

// Regressions of three compiler bugs this suite found: a fused loop split
// into parts that still read six arrays, `sse` of two matrices, and a number
// literal as a loss argument.
denpa_macros::net! {
    network SixLeaves {
        dtype f64
        input x: [2]
        target t: [2]
        param a: [2] = [0.1, 0.2]
        param b: [2] = [0.3, -0.1]
        param c: [2] = [0.2, 0.5]
        param d: [2] = [-0.4, 0.1]
        param e: [2] = [0.05, 0.3]
        output y = (x + a + b + c + d + e) * 2
        loss = sse(y, t)
    }
}

denpa_macros::net! {
    network MatrixLoss {
        dtype f64
        input x: [2]
        target t: [2]
        param A: [2, 2] = normal(0, 0.5)
        param B: [2, 2] = normal(0, 0.5)
        output y = x @ A
        loss = sse(y, t) + sse(A, B) + cross_entropy(sigmoid(A), sigmoid(B))
    }
}

denpa_macros::net! {
    network ConstTarget {
        dtype f64
        input x: [2]
        target t: []
        param w: [2] = [0.3, -0.2]
        output y = x @ w
        loss = sse(y, t) + sse(y, 1) + cross_entropy(0.5, sigmoid(y)) + sum(2) * mean(w)
    }
}

#[test]
fn a_loop_split_in_parts_reads_at_most_five_arrays() {
    let mut net = SixLeaves::with_seed(1);
    let x = batch(4, 2, 0.3, 1.0);
    let t = batch(4, 2, 0.7, 1.0);
    check_gradients(
        "SixLeaves",
        &mut net,
        |n: &SixLeaves| n.loss(x.view(), t.view()),
        |n: &SixLeaves| n.gradients(x.view(), t.view()),
    );
}

#[test]
fn losses_of_matrices_compare_every_element() {
    let mut net = MatrixLoss::with_seed(4);
    let x = batch(3, 2, 0.3, 1.0);
    let t = batch(3, 2, 0.7, 1.0);
    check_gradients(
        "MatrixLoss",
        &mut net,
        |n: &MatrixLoss| n.loss(x.view(), t.view()),
        |n: &MatrixLoss| n.gradients(x.view(), t.view()),
    );
}

#[test]
fn number_literals_as_loss_arguments() {
    let mut net = ConstTarget::with_seed(2);
    let x = batch(3, 2, 0.3, 1.0);
    let t = scalars(3, 0.5, 1.0);
    check_gradients(
        "ConstTarget",
        &mut net,
        |n: &ConstTarget| n.loss(x.view(), t.view()),
        |n: &ConstTarget| n.gradients(x.view(), t.view()),
    );
}
