//! Training steps and inference of denpa's generated code next to a
//! hand-written, hand-fused ndarray implementation of the same network, in
//! the same run, with the ratio printed at the end. Each pair is timed twice:
//! by criterion, one side after the other, and in 31 alternating rounds whose
//! median ratio is the one reported (a noisy machine slows both sides alike).
//!
//! `cargo bench --bench train` (add `-- --quick` for a short run).
//!
//! Workloads (issue 7):
//! - W1: XOR 2-2-1, sigmoid, sse, batch 1, sgd 0.5, against the fully
//!   scalar program of `support/hand_xor.rs` (issue 15), which first must
//!   agree with denpa on the losses and updates to 1e-6
//! - W0: iris-sized 4-8-3, sigmoid, softmax + cross-entropy, batch 16, sgd
//!   0.1: the scalar form at its largest values, against the ndarray hand
//!   network below
//! - W2: digits 64-32-10, sigmoid, softmax + cross-entropy, batch 32, sgd 0.1
//! - W3: 784-128-64-10, relu, softmax + cross-entropy, batch 64, sgd 0.05
//! - W3 inference at batch 1 and batch 64
//!
//! Convolutional workloads (issue 13), each next to the hand-written im2col +
//! GEMM network of `support/hand_cnn.rs`, both with SGD:
//! - C1: LANGUAGE.md §11, `[1, 8, 8]` → conv 16 → pool → conv 32 → pool →
//!   dense 10, batch 64
//! - C2: `[1, 28, 28]` → conv 8 → pool → conv 16 → pool → dense 10, batch 64
//!
//! Sequence workloads (issue 22), the §12 GPT of `examples/names_gpt.nn` (T = 16,
//! d = 64, four heads of 16, V = 27) next to the hand-written network of
//! `support/hand_gpt.rs` (every product a packed GEMM, the heads' products
//! fused, softmax fused with its mask, Adam in one pass, backward by hand),
//! which first must agree with denpa in f64 on the loss and every gradient
//! to 1e-9 relative:
//! - G1: the training step at batch 32 with Adam
//! - G2: the forward pass at batch 1 (generating names one character at a
//!   time)
//!
//! Batch normalization (issue 24): B1, the digits MLP 64-32-10 with its
//! hidden layer batch-normalized before a relu, SGD 0.1, batch 32, next to
//! the hand-written network of `support/hand_bn.rs` (built like W2's: the
//! same GEMM, SGD folded into the weight products, the batch norm's backward
//! by hand), which first must agree with denpa in f64 to 1e-9.
//!
//! And the single-precision GEMM peak of this machine (the faster of
//! matrixmultiply's sgemm through ndarray and denpa's own packed product, at
//! 512³), to read W3's training step as a fraction of it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use denpa::ndarray::linalg::general_mat_mul;
use denpa::ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use denpa::runtime::Rng;
use denpa::Network;

#[path = "support/hand_bn.rs"]
mod hand_bn;
#[path = "support/hand_cnn.rs"]
mod hand_cnn;
#[path = "support/hand_gpt.rs"]
mod hand_gpt;
#[path = "support/hand_xor.rs"]
mod hand_xor;

denpa_macros::net! {
    network W1 {
        input x: [2]
        target t: [1]
        param W1: [2, 2] = normal(0, 1)
        param b1: [2]
        param W2: [2, 1] = normal(0, 1)
        param b2: [1]
        h = sigmoid(x @ W1 + b1)
        output y = sigmoid(h @ W2 + b2)
        loss = sse(y, t)
        train sgd(lr = 0.5)
    }
}

denpa_macros::net! {
    network W0 {
        input x: [4]
        target t: [3]
        param W1: [4, 8] = normal(0, 0.5)
        param b1: [8]
        param W2: [8, 3] = normal(0, 0.5)
        param b2: [3]
        h = sigmoid(x @ W1 + b1)
        output y = softmax(h @ W2 + b2)
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

denpa_macros::net! {
    network B1 {
        input x: [64]
        target t: [10]
        h = relu(batch_norm(dense(x, 32)))
        output y = softmax(dense(h, 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

denpa_macros::net! {
    network B1f64 {
        dtype f64
        input x: [64]
        target t: [10]
        h = relu(batch_norm(dense(x, 32)))
        output y = softmax(dense(h, 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

/// The hand-written batch-normalized MLP with `net`'s parameters.
fn hand_bn<N: Network>(net: &N, batch: usize) -> hand_bn::HandBn<N::Scalar>
where
    N::Scalar: denpa::ndarray::NdFloat,
{
    let p: std::collections::HashMap<&str, denpa::ndarray::ArrayD<N::Scalar>> = net
        .parameters()
        .into_iter()
        .map(|(n, v)| (n, v.to_owned()))
        .collect();
    let two = |n: &str| {
        p[n].clone()
            .into_dimensionality::<denpa::ndarray::Ix2>()
            .unwrap()
    };
    let one = |n: &str| {
        p[n].clone()
            .into_dimensionality::<denpa::ndarray::Ix1>()
            .unwrap()
    };
    hand_bn::HandBn::new(
        two("h_w"),
        one("h_b"),
        one("h_gain"),
        one("h_bias"),
        two("y_w"),
        one("y_b"),
        batch,
        0.1,
    )
}

/// Panics unless the hand-written batch-normalized MLP and denpa's agree in
/// f64 on the loss and every gradient to 1e-9, and on the parameters and
/// running statistics after three steps.
fn agree_on_batch_norm() {
    let mut net = B1f64::with_seed(4);
    let mut hand = hand_bn(&net, 32);
    let x = batch(32, 64, 11).mapv(f64::from);
    let t = one_hot(32, 10).mapv(f64::from);
    let (loss, grads) = net.gradients(x.view(), t.view()).unwrap();
    let hand_loss = hand.gradients(x.view(), t.view(), None);
    assert!(
        (loss - hand_loss).abs() <= 1e-9 * loss.abs(),
        "B1: losses {loss} and {hand_loss}"
    );
    let theirs = [
        ("h_w", hand.g_w1.view().into_dyn()),
        ("h_b", hand.g_b1.view().into_dyn()),
        ("h_gain", hand.g_gain.view().into_dyn()),
        ("h_bias", hand.g_bias.view().into_dyn()),
        ("y_w", hand.g_w2.view().into_dyn()),
        ("y_b", hand.g_b2.view().into_dyn()),
    ];
    let mut worst: f64 = 0.0;
    // Relative to the largest gradient element: h_b's true gradient is 0
    // (a bias before a batch norm cancels), its elements round-off alone.
    let largest = denpa::Gradients::tensors(&grads)
        .iter()
        .flat_map(|(_, g)| g.iter().copied())
        .fold(1e-300f64, |m, v| m.max(v.abs()));
    for ((name, g), (hand_name, h)) in denpa::Gradients::tensors(&grads).into_iter().zip(theirs) {
        assert_eq!(name, hand_name);
        for (a, b) in g.iter().zip(h.iter()) {
            let error = (a - b / 32.0).abs() / largest;
            assert!(
                error <= 1e-9,
                "B1: the gradients of `{name}` differ: {a} and {}",
                b / 32.0
            );
            worst = worst.max(error);
        }
    }
    for _ in 0..3 {
        net.train_step(x.view(), t.view()).unwrap();
        hand.train_step(x.view(), t.view());
    }
    let close = |a: &denpa::ndarray::Array1<f64>, b: &denpa::ndarray::Array1<f64>| {
        a.iter()
            .zip(b)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * a.abs().max(1.0))
    };
    assert!(
        close(&net.h_mean, &hand.running_mean),
        "B1: running means differ"
    );
    assert!(
        close(&net.h_var, &hand.running_var),
        "B1: running variances differ"
    );
    assert!(
        close(&net.h_gain, &hand.gain),
        "B1: gains differ after three steps"
    );
    println!("B1: denpa and the hand-written batch norm agree in f64: loss {loss:.12}, gradients to {worst:.1e}");
}

denpa_macros::net! {
    network W2 {
        input x: [64]
        target t: [10]
        param W1: [64, 32] = normal(0, 0.1)
        param b1: [32]
        param W2: [32, 10] = normal(0, 0.1)
        param b2: [10]
        h = sigmoid(x @ W1 + b1)
        output y = softmax(h @ W2 + b2)
        loss = cross_entropy(y, t)
        train sgd(lr = 0.1)
    }
}

denpa_macros::net! {
    network W3 {
        input x: [784]
        target t: [10]
        param W1: [784, 128] = he
        param b1: [128]
        param W2: [128, 64] = he
        param b2: [64]
        param W3: [64, 10] = he
        param b3: [10]
        h1 = relu(x @ W1 + b1)
        h2 = relu(h1 @ W2 + b2)
        output y = softmax(h2 @ W3 + b3)
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

denpa_macros::net! {
    network C1 {
        input img: [1, 8, 8]
        target t: [10]
        c1 = relu(conv(img, 16, 3, padding = 1))
        p1 = max_pool(c1, 2)
        c2 = relu(conv(p1, 32, 3, padding = 1))
        p2 = max_pool(c2, 2)
        output y = softmax(dense(flatten(p2), 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

denpa_macros::net! {
    network C2 {
        input img: [1, 28, 28]
        target t: [10]
        c1 = relu(conv(img, 8, 3, padding = 1))
        p1 = max_pool(c1, 2)
        c2 = relu(conv(p1, 16, 3, padding = 1))
        p2 = max_pool(c2, 2)
        output y = softmax(dense(flatten(p2), 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

denpa_macros::net!("examples/names_gpt.nn");
denpa_macros::net!("benches/names_gpt64.nn");

/// The §12 GPT's sizes.
const GPT: hand_gpt::Sizes = hand_gpt::Sizes {
    t: 16,
    d: 64,
    heads: 4,
    k: 16,
    v: 27,
    f: 256,
};

/// The hand-written GPT with the parameters of a generated network.
fn hand_gpt<T: hand_gpt::Float, N: Network<Scalar = T>>(
    net: &N,
    batch: usize,
) -> hand_gpt::HandGpt<T> {
    let params = net.parameters();
    hand_gpt::HandGpt::new(GPT, batch, |name, shape| {
        let (_, view) = params
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("denpa has no parameter `{name}`"));
        assert_eq!(view.shape(), shape, "the shape of `{name}`");
        view.iter().copied().collect()
    })
}

/// A batch of contexts and their next characters, every index in 0..27.
fn tokens(
    batch: usize,
    salt: u64,
) -> (denpa::ndarray::Array2<usize>, denpa::ndarray::Array2<usize>) {
    let mut rng = Rng::new(salt);
    let stream: Vec<usize> = (0..batch * 17)
        .map(|_| ((rng.uniform01() * 27.0) as usize).min(26))
        .collect();
    let ctx = denpa::ndarray::Array2::from_shape_fn((batch, 16), |(b, t)| stream[b * 17 + t]);
    let next = denpa::ndarray::Array2::from_shape_fn((batch, 16), |(b, t)| stream[b * 17 + t + 1]);
    (ctx, next)
}

/// The hand-written GPT and denpa's, in f64, from the same parameters:
/// the same loss and every gradient to 1e-9 of the gradient's largest
/// element, or the benchmark stops.
fn agree_on_gpt() {
    let net = NamesGpt64::with_seed(5);
    let mut hand = hand_gpt(&net, 32);
    let (ctx, next) = tokens(32, 21);
    let (loss, grads) = net.gradients(ctx.view(), next.view()).unwrap();
    let hand_loss = hand.gradients(ctx.view(), next.view());
    assert!(
        (loss - hand_loss).abs() <= 1e-9 * loss.abs(),
        "G1: the losses differ: denpa {loss}, hand {hand_loss}"
    );
    let mut worst: f64 = 0.0;
    for (name, g) in denpa::Gradients::tensors(&grads) {
        let theirs = hand.gradient(name);
        let largest = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in g.iter().zip(&theirs) {
            let error = (a - b).abs() / largest.max(1e-300);
            assert!(
                error <= 1e-9,
                "G1: the gradients of `{name}` differ: {a} and {b}"
            );
            worst = worst.max(error);
        }
    }
    println!("G1: denpa and the hand-written GPT agree in f64: loss {loss:.12}, gradients to {worst:.1e}");
}

/// A hand-written multilayer perceptron: preallocated buffers, bias and
/// activation fused into one pass over each product, the SGD update folded
/// into the weight-gradient product (W ← W − η/B · aᵀδ as one GEMM with
/// β = 1), a vector-times-matrix loop for one sample, no allocation per step
/// of its own. It does not compute the loss, which denpa's step returns.
struct Hand {
    w: Vec<Array2<f32>>,
    b: Vec<Array1<f32>>,
    /// Activations per layer (a[0] is the input copy).
    a: Vec<Array2<f32>>,
    /// Deltas per layer.
    d: Vec<Array2<f32>>,
    sigmoid: bool,
    softmax_ce: bool,
    lr: f32,
}

impl Hand {
    fn new(sizes: &[usize], batch: usize, sigmoid: bool, softmax_ce: bool, lr: f32) -> Self {
        let mut rng = Rng::new(1);
        let w = sizes
            .windows(2)
            .map(|s| {
                denpa::runtime::init::normal(
                    &mut rng,
                    (s[0], s[1]),
                    0.0,
                    (2.0 / s[0] as f64).sqrt(),
                )
            })
            .collect();
        let b = sizes[1..].iter().map(|&n| Array1::zeros(n)).collect();
        let a = sizes.iter().map(|&n| Array2::zeros((batch, n))).collect();
        let d = sizes[1..]
            .iter()
            .map(|&n| Array2::zeros((batch, n)))
            .collect();
        Hand {
            w,
            b,
            a,
            d,
            sigmoid,
            softmax_ce,
            lr,
        }
    }

    fn forward(&mut self, x: ArrayView2<f32>) {
        self.a[0].assign(&x);
        let layers = self.w.len();
        for l in 0..layers {
            let (before, after) = self.a.split_at_mut(l + 1);
            let out = &mut after[0];
            let input = &before[l];
            match (input.as_slice(), out.as_slice_mut(), self.w[l].as_slice()) {
                // One sample: a vector-times-matrix loop, rows of W scaled
                // into the output (a GEMM library would repack all of W).
                (Some(a), Some(o), Some(w)) if input.nrows() == 1 => {
                    o.fill(0.0);
                    for (&a_p, w_row) in a.iter().zip(w.chunks_exact(o.len())) {
                        o.iter_mut().zip(w_row).for_each(|(o, &w)| *o += a_p * w);
                    }
                }
                _ => general_mat_mul(1.0, input, &self.w[l], 0.0, out),
            }
            let last = l + 1 == layers;
            let sigmoid = self.sigmoid;
            Zip::from(out.rows_mut()).for_each(|mut row| {
                Zip::from(&mut row).and(&self.b[l]).for_each(|v, &b| {
                    let z = *v + b;
                    *v = if last && self.softmax_ce {
                        z
                    } else if sigmoid {
                        1.0 / (1.0 + (-z).exp())
                    } else {
                        z.max(0.0)
                    };
                });
            });
        }
        if self.softmax_ce {
            let y = &mut self.a[layers];
            for mut row in y.rows_mut() {
                let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                row.mapv_inplace(|v| (v - max).exp());
                let s = row.sum();
                row.mapv_inplace(|v| v / s);
            }
        }
    }

    fn train_step(&mut self, x: ArrayView2<f32>, t: ArrayView2<f32>) {
        self.forward(x);
        let layers = self.w.len();
        let batch = x.nrows() as f32;
        // Output delta: y − t (softmax + CE), or (y − t) ⊙ y(1 − y) (sigmoid + sse).
        let sigmoid_out = !self.softmax_ce;
        Zip::from(&mut self.d[layers - 1])
            .and(&self.a[layers])
            .and(t)
            .for_each(|d, &y, &t| {
                *d = if sigmoid_out {
                    (y - t) * y * (1.0 - y)
                } else {
                    y - t
                };
            });
        for l in (0..layers).rev() {
            if l > 0 {
                // δ below = (δ·Wᵀ) ⊙ f′(a), before W changes.
                let (below, here) = self.d.split_at_mut(l);
                general_mat_mul(1.0, &here[0], &self.w[l].t(), 0.0, &mut below[l - 1]);
                let sigmoid = self.sigmoid;
                Zip::from(&mut below[l - 1])
                    .and(&self.a[l])
                    .for_each(|d, &a| {
                        *d *= if sigmoid {
                            a * (1.0 - a)
                        } else if a > 0.0 {
                            1.0
                        } else {
                            0.0
                        };
                    });
            }
            // W ← W − (η/B) aᵀδ, in the product; b ← b − (η/B) Σδ.
            general_mat_mul(
                -self.lr / batch,
                &self.a[l].t(),
                &self.d[l],
                1.0,
                &mut self.w[l],
            );
            let scale = self.lr / batch;
            for (b, s) in self.b[l].iter_mut().zip(self.d[l].sum_axis(Axis(0)).iter()) {
                *b -= scale * s;
            }
        }
    }
}

/// The scalar XOR program with the network's current weights.
fn hand_xor(net: &W1) -> hand_xor::HandXor {
    let params = net.parameters();
    let slices: Vec<&[f32]> = params
        .iter()
        .map(|(_, p)| p.as_slice().expect("standard layout"))
        .collect();
    hand_xor::HandXor::new([slices[0], slices[1], slices[2], slices[3]], 0.5)
}

/// Panics unless the scalar XOR program and denpa's W1 give the same
/// losses and parameters, to 1e-6, over a few steps on batches of 1 and 4.
fn agree_on_xor(net: &W1, x: ArrayView2<f32>, t: ArrayView2<f32>) {
    let (x4, t4) = (batch(4, 2, 3), batch(4, 1, 4));
    let batches = [(x.view(), t.view()), (x4.view(), t4.view())];
    for (x, t) in batches {
        let mut net = net.clone();
        let mut hand = hand_xor(&net);
        for step in 0..3 {
            let ours = net.train_step(x, t).unwrap();
            let theirs = hand.train_step(
                x.as_slice().expect("standard layout"),
                t.as_slice().expect("standard layout"),
            );
            assert!(
                (ours - theirs).abs() <= 1e-6,
                "W1 step {step}: loss {ours} vs {theirs}"
            );
            for ((name, p), h) in net.parameters().iter().zip(hand.parameters()) {
                for (a, b) in p.iter().zip(&h) {
                    assert!((a - b).abs() <= 1e-6, "W1 step {step}: {name} {a} vs {b}");
                }
            }
        }
    }
}

fn batch(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    denpa::runtime::init::uniform(&mut Rng::new(seed), (rows, cols), 0.0, 1.0)
}

fn one_hot(rows: usize, classes: usize) -> Array2<f32> {
    Array2::from_shape_fn(
        (rows, classes),
        |(i, j)| if i % classes == j { 1.0 } else { 0.0 },
    )
}

const B1_TRAIN: &str = "B1 digits 64-32-10 batch_norm train batch 32";

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut paired = Vec::new();

    // W1, against the fully scalar hand program, from the same weights;
    // both sides agree on the losses and the updates first.
    let (x, t) = (batch(1, 2, 1), batch(1, 1, 2));
    let mut net = W1::new();
    let mut hand = hand_xor(&net);
    agree_on_xor(&net, x.view(), t.view());
    compare(
        &mut c,
        &mut paired,
        "W1 xor 2-2-1 train batch 1",
        || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        },
        || {
            let x = black_box(x.as_slice().expect("standard layout"));
            black_box(hand.train_step(x, t.as_slice().expect("standard layout")));
        },
    );

    // W0: iris-sized, at the largest values the scalar form takes.
    let (x, t) = (batch(16, 4, 3), one_hot(16, 3));
    let mut net = W0::new();
    let mut hand = Hand::new(&[4, 8, 3], 16, true, true, 0.1);
    compare(
        &mut c,
        &mut paired,
        "W0 iris 4-8-3 train batch 16",
        || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        },
        || hand.train_step(black_box(x.view()), t.view()),
    );

    // W2
    let (x, t) = (batch(32, 64, 3), one_hot(32, 10));
    let mut net = W2::new();
    let mut hand = Hand::new(&[64, 32, 10], 32, true, true, 0.1);
    compare(
        &mut c,
        &mut paired,
        "W2 digits 64-32-10 train batch 32",
        || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        },
        || hand.train_step(black_box(x.view()), t.view()),
    );

    // W3
    let (x, t) = (batch(64, 784, 5), one_hot(64, 10));
    let mut net = W3::new();
    let mut hand = Hand::new(&[784, 128, 64, 10], 64, false, true, 0.05);
    compare(
        &mut c,
        &mut paired,
        W3_TRAIN,
        || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        },
        || hand.train_step(black_box(x.view()), t.view()),
    );

    // C1 and C2: the same images for both sides, `[B, 1, h, w]` for denpa
    // and rows of h·w pixels for the hand network.
    for (group, side, k) in [
        ("C1 conv 8x8 16-32 train batch 64", 8, [16, 32]),
        ("C2 conv 28x28 8-16 train batch 64", 28, [8, 16]),
    ] {
        let (x, t) = (batch(64, side * side, 11), one_hot(64, 10));
        let img = x.view().into_shape_with_order((64, 1, side, side)).unwrap();
        let mut hand = hand_cnn::HandCnn::new(64, (1, side, side), k, 0.05);
        let mut c1 = C1::new();
        let mut c2 = C2::new();
        let mut step = || {
            let loss = if side == 8 {
                c1.train_step(img, t.view())
            } else {
                c2.train_step(img, t.view())
            };
            black_box(loss.unwrap());
        };
        compare(&mut c, &mut paired, group, &mut step, || {
            hand.train_step(black_box(x.view()), t.view())
        });
    }

    // B1: batch normalization, after the two agree in f64.
    if selected(B1_TRAIN) {
        agree_on_batch_norm();
    }
    let (x, t) = (batch(32, 64, 3), one_hot(32, 10));
    let mut net = B1::with_seed(2);
    let mut hand = hand_bn(&net, 32);
    compare(
        &mut c,
        &mut paired,
        B1_TRAIN,
        || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        },
        || {
            black_box(hand.train_step(black_box(x.view()), t.view()));
        },
    );

    // G1 and G2: the §12 GPT against the hand-written one, from the same
    // parameters, after the two agree in f64.
    if selected("G1 gpt train batch 32") || selected("G2 gpt forward batch 1") {
        agree_on_gpt();
    }
    let (ctx, next) = tokens(32, 13);
    let mut gpt = NamesGpt::with_seed(3);
    let mut hand = hand_gpt(&gpt, 32);
    compare(
        &mut c,
        &mut paired,
        "G1 gpt train batch 32",
        || {
            black_box(gpt.train_step(ctx.view(), next.view()).unwrap());
        },
        || {
            black_box(hand.train_step(black_box(ctx.view()), next.view()));
        },
    );
    let one = ctx.slice(denpa::ndarray::s![0..1, ..]).to_owned();
    let mut hand = hand_gpt(&gpt, 1);
    compare(
        &mut c,
        &mut paired,
        "G2 gpt forward batch 1",
        || {
            black_box(gpt.forward(one.view()).unwrap());
        },
        || {
            black_box(hand.forward(black_box(one.view())));
        },
    );

    // The step against the GEMM peak, in alternating rounds too: each round
    // times the W3 step and a 512³ product by both GEMMs, and its fraction
    // is the step's GFLOP/s over the faster product's.
    let peak = selected(W3_TRAIN) && !std::env::args().any(|a| a == "--profile-time");
    let fraction = peak.then(|| {
        let n = 512;
        let (a, bm) = (batch(n, n, 8), batch(n, n, 9));
        let mut out = Array2::<f32>::zeros((n, n));
        let mut packing = denpa::runtime::Packing::default();
        let mut step = || {
            black_box(net.train_step(x.view(), t.view()).unwrap());
        };
        let (mut rounds, mut peaks) = (Vec::new(), Vec::new());
        for _ in 0..31 {
            let s = W3_FLOPS / time(&mut step, 16);
            let l = GEMM_FLOPS / time(&mut || general_mat_mul(1.0, &a, &bm, 0.0, &mut out), 3);
            let o = GEMM_FLOPS
                / time(
                    &mut || {
                        denpa::runtime::gemm_with(
                            &mut packing,
                            1.0,
                            a.view(),
                            bm.view(),
                            0.0,
                            out.view_mut(),
                        )
                    },
                    3,
                );
            rounds.push(s / l.max(o));
            peaks.push(l.max(o));
        }
        (median(rounds), median(peaks))
    });

    for rows in [1, 64] {
        let x = batch(rows, 784, 7);
        let net = W3::new();
        let mut hand = Hand::new(&[784, 128, 64, 10], rows, false, true, 0.05);
        compare(
            &mut c,
            &mut paired,
            &format!("W3 inference batch {rows}"),
            || {
                black_box(net.forward(x.view()).unwrap());
            },
            || hand.forward(black_box(x.view())),
        );
    }

    // The GEMM peak: a large single-precision product, by matrixmultiply
    // (ndarray's) and by denpa's own packed kernel; the faster is the peak.
    let n = 512;
    let (a, bm) = (batch(n, n, 8), batch(n, n, 9));
    let mut out = Array2::<f32>::zeros((n, n));
    let mut g = c.benchmark_group("sgemm 512");
    g.bench_function("matrixmultiply", |b| {
        b.iter(|| general_mat_mul(1.0, &a, &bm, 0.0, &mut out))
    });
    let mut packing = denpa::runtime::Packing::default();
    g.bench_function("denpa", |b| {
        b.iter(|| {
            denpa::runtime::gemm_with(&mut packing, 1.0, a.view(), bm.view(), 0.0, out.view_mut())
        })
    });
    g.finish();

    c.final_summary();
    report(&paired, fraction);
}

const W3_TRAIN: &str = "W3 784-128-64-10 train batch 64";

/// A W3 training step's flops: forward and two backward products per layer,
/// less the first layer's input gradient, which is not needed.
const W3_FLOPS: f64 =
    2.0 * 64.0 * (784.0 * 128.0 + 128.0 * 64.0 + 64.0 * 10.0) * 3.0 - 2.0 * 64.0 * 784.0 * 128.0;

/// A 512³ product's flops.
const GEMM_FLOPS: f64 = 2.0 * 512.0 * 512.0 * 512.0;

/// One workload's paired measurement: the median over rounds of each side's
/// time per call, and the median of the per-round ratios.
struct Paired {
    group: String,
    denpa_ns: f64,
    hand_ns: f64,
    ratio: f64,
}

/// Benchmarks denpa and the hand baseline with criterion, then measures them
/// again in alternating rounds (ABBA, ~10 ms each), so that a machine whose
/// speed drifts over seconds slows both sides of each ratio alike.
fn compare(
    c: &mut Criterion,
    paired: &mut Vec<Paired>,
    group: &str,
    mut denpa: impl FnMut(),
    mut hand: impl FnMut(),
) {
    if !selected(group) {
        return;
    }
    let mut g = c.benchmark_group(group);
    g.bench_function("denpa", |b| b.iter(&mut denpa));
    g.bench_function("hand", |b| b.iter(&mut hand));
    g.finish();
    if std::env::args().any(|a| a == "--profile-time") {
        return; // profiling one function: no paired rounds
    }

    let mut n = 1;
    while time(&mut denpa, n) * f64::from(n) < 1e7 {
        n *= 2;
    }
    let (mut d, mut h, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..31 {
        let (td, th) = if round % 2 == 0 {
            let td = time(&mut denpa, n);
            (td, time(&mut hand, n))
        } else {
            let th = time(&mut hand, n);
            (time(&mut denpa, n), th)
        };
        d.push(td);
        h.push(th);
        r.push(td / th);
    }
    paired.push(Paired {
        group: group.to_string(),
        denpa_ns: median(d),
        hand_ns: median(h),
        ratio: median(r),
    });
}

/// Nanoseconds per call of `f`, over `n` calls.
fn time(f: &mut dyn FnMut(), n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether criterion's filter (the first argument that is not a flag; `|`
/// separates alternatives) selects this group.
fn selected(group: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| {
        f.split('|')
            .any(|part| group.contains(part) || part.starts_with(group))
    })
}

/// Prints the table: criterion's means, the paired medians and their ratio,
/// and W3's training step as a fraction of the GEMM peak.
fn report(paired: &[Paired], fraction: Option<(f64, f64)>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let mean = |group: &str, id: &str| -> Option<f64> {
        let path = dir
            .join(group.replace('/', "_"))
            .join(id)
            .join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["mean"]["point_estimate"].as_f64()
    };
    println!("\n| workload | denpa µs | hand µs | ratio | criterion: denpa µs | hand µs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for p in paired {
        let (d, h) = (mean(&p.group, "denpa"), mean(&p.group, "hand"));
        let us = |v: Option<f64>| v.map_or("–".to_string(), |ns| format!("{:.2}", ns / 1e3));
        println!(
            "| {} | {:.2} | {:.2} | {:.2}× | {} | {} |",
            p.group,
            p.denpa_ns / 1e3,
            p.hand_ns / 1e3,
            p.ratio,
            us(d),
            us(h)
        );
    }
    let gflops = |ns: f64| GEMM_FLOPS / ns;
    let library = mean("sgemm 512", "matrixmultiply").map(gflops);
    let own = mean("sgemm 512", "denpa").map(gflops);
    let w3 = paired.iter().find(|p| p.group == W3_TRAIN);
    if let (Some(library), Some(own), Some(w3)) = (library, own, w3) {
        println!(
            "\nsgemm 512³ (criterion): matrixmultiply {library:.1} GFLOP/s, denpa {own:.1} GFLOP/s; \
             W3 training step at {:.1} GFLOP/s",
            W3_FLOPS / w3.denpa_ns
        );
    }
    if let Some((fraction, peak)) = fraction {
        println!(
            "W3 training step against the faster 512³ product, in alternating rounds: \
             {:.0}% of the peak (median peak {peak:.1} GFLOP/s)",
            100.0 * fraction
        );
    }
}
