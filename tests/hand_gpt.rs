//! The hand-written GPT of the benchmark (`benches/support/hand_gpt.rs`)
//! checked in f64 at a small size with every dimension different: its
//! forward pass against a plain re-implementation of the network from its
//! source, every gradient element against central finite differences of the
//! batch loss, the first two Adam steps against the formula, the causal mask,
//! batches smaller and larger than the constructed one, f32 against f64, and
//! that a step allocates nothing once it has seen its batch size.

#[path = "../benches/support/hand_gpt.rs"]
mod hand_gpt;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

use denpa::ndarray::Array2;
use hand_gpt::{Float, HandGpt, Sizes};

// The counting allocator is the one `unsafe` here (GlobalAlloc is an unsafe
// trait), as in tests/allocations.rs. It counts per thread, so that tests
// running in parallel do not see each other's allocations.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|c| c.get())
}

/// Every dimension different, so that a transposed or swapped index shows.
const SIZES: Sizes = Sizes {
    t: 5,
    d: 12,
    heads: 4,
    k: 3,
    v: 7,
    f: 10,
};
const BATCH: usize = 3;
const LR: f64 = 0.001;

/// splitmix64: a seeded generator of our own.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

type Params = BTreeMap<String, Vec<f64>>;

/// Random parameters for every name the network asks for: gains around 1,
/// everything else uniform in ±0.3 (nothing saturates).
fn random_parameters(sizes: Sizes, seed: u64) -> Params {
    let mut rng = SplitMix(seed);
    let mut params = Params::new();
    HandGpt::<f64>::new(sizes, 1, |name, shape| {
        let len = shape.iter().product();
        let gain = name.ends_with("_g");
        let values: Vec<f64> = (0..len)
            .map(|_| f64::from(u8::from(gain)) + 0.3 * rng.uniform())
            .collect();
        params.insert(name.to_string(), values.clone());
        values
    });
    params
}

fn build<T: Float>(sizes: Sizes, batch: usize, params: &Params) -> HandGpt<T> {
    HandGpt::new(sizes, batch, |name, shape| {
        let values = &params[name];
        assert_eq!(values.len(), shape.iter().product::<usize>(), "{name}");
        values.iter().map(|&v| T::from(v).unwrap()).collect()
    })
}

/// ctx and next, `[batch, t]`, with a token repeated within sample 0.
fn tokens(sizes: Sizes, batch: usize, seed: u64) -> (Array2<usize>, Array2<usize>) {
    let mut rng = SplitMix(seed);
    let mut ctx = Array2::from_shape_fn((batch, sizes.t), |_| rng.below(sizes.v));
    ctx[[0, 3]] = ctx[[0, 1]];
    let next = Array2::from_shape_fn((batch, sizes.t), |_| rng.below(sizes.v));
    (ctx, next)
}

/// The batch loss from `forward`'s probabilities: the mean of −ln p[next]
/// (equal to `gradients`' loss, checked below, and a third of its work).
fn loss_of(params: &Params, ctx: &Array2<usize>, next: &Array2<usize>) -> f64 {
    let mut net = build::<f64>(SIZES, BATCH, params);
    let p = net.forward(ctx.view());
    let total: f64 = next
        .indexed_iter()
        .map(|((b, i), &target)| -p[[b, i, target]].ln())
        .sum();
    total / next.len() as f64
}

// ---------------------------------------------------------------------------
// The network written again from its source, plainly: rows of Vec<f64>.

type Rows = Vec<Vec<f64>>;

/// x `[rows, inner]` · w (row-major `[inner, cols]`).
fn product(x: &Rows, w: &[f64], cols: usize) -> Rows {
    x.iter()
        .map(|row| {
            (0..cols)
                .map(|j| {
                    row.iter()
                        .enumerate()
                        .map(|(i, &v)| v * w[i * cols + j])
                        .sum()
                })
                .collect()
        })
        .collect()
}

fn add(x: &Rows, y: &Rows) -> Rows {
    x.iter()
        .zip(y)
        .map(|(a, b)| a.iter().zip(b).map(|(a, b)| a + b).collect())
        .collect()
}

fn dense(x: &Rows, p: &Params, name: &str, cols: usize) -> Rows {
    let b = &p[&format!("{name}_b")];
    product(x, &p[&format!("{name}_w")], cols)
        .into_iter()
        .map(|row| row.iter().zip(b).map(|(v, b)| v + b).collect())
        .collect()
}

fn layer_norm(x: &Rows, p: &Params, name: &str) -> Rows {
    let (g, b) = (&p[&format!("{name}_g")], &p[&format!("{name}_b")]);
    x.iter()
        .map(|row| {
            let d = row.len() as f64;
            let mean = row.iter().sum::<f64>() / d;
            let c: Vec<f64> = row.iter().map(|v| v - mean).collect();
            let var = c.iter().map(|v| v * v).sum::<f64>() / d;
            c.iter()
                .zip(g)
                .zip(b)
                .map(|((c, g), b)| c / (var + 0.00001).sqrt() * g + b)
                .collect()
        })
        .collect()
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

fn head(x: &Rows, p: &Params, name: &str, k: usize, scale: f64) -> Rows {
    let q = product(x, &p[&format!("{name}_Wq")], k);
    let key = product(x, &p[&format!("{name}_Wk")], k);
    let v = product(x, &p[&format!("{name}_Wv")], k);
    let t = x.len();
    (0..t)
        .map(|i| {
            let scores: Vec<f64> = (0..t)
                .map(|j| {
                    let s: f64 = q[i].iter().zip(&key[j]).map(|(a, b)| a * b).sum();
                    if j > i {
                        f64::NEG_INFINITY
                    } else {
                        s * scale
                    }
                })
                .collect();
            let a = softmax(&scores);
            (0..k)
                .map(|c| (0..t).map(|j| a[j] * v[j][c]).sum())
                .collect()
        })
        .collect()
}

fn transformer(x: &Rows, p: &Params, name: &str, s: Sizes, scale: f64) -> Rows {
    let n1 = layer_norm(x, p, &format!("{name}_n1"));
    let heads: Vec<Rows> = (1..=s.heads)
        .map(|h| head(&n1, p, &format!("{name}_h{h}"), s.k, scale))
        .collect();
    let concat: Rows = (0..x.len())
        .map(|i| heads.iter().flat_map(|h| h[i].clone()).collect())
        .collect();
    let r = add(x, &dense(&concat, p, &format!("{name}_r"), s.d));
    let n2 = layer_norm(&r, p, &format!("{name}_n2"));
    let gelu = |u: f64| 0.5 * u * (1.0 + libm::erf(u / std::f64::consts::SQRT_2));
    let f: Rows = dense(&n2, p, &format!("{name}_f"), s.f)
        .into_iter()
        .map(|row| row.into_iter().map(gelu).collect())
        .collect();
    add(&r, &dense(&f, p, &format!("{name}_o"), s.d))
}

/// p `[t, v]` of one sample.
fn reference_probabilities(p: &Params, ctx: &[usize], s: Sizes, scale: f64) -> Rows {
    let (c, pos) = (&p["C"], &p["P"]);
    let x: Rows = ctx
        .iter()
        .enumerate()
        .map(|(i, &tok)| {
            (0..s.d)
                .map(|j| c[tok * s.d + j] + pos[i * s.d + j])
                .collect()
        })
        .collect();
    let b1 = transformer(&x, p, "b1", s, scale);
    let b2 = transformer(&b1, p, "b2", s, scale);
    let n = layer_norm(&b2, p, "n");
    let c_t: Vec<f64> = (0..s.d * s.v)
        .map(|i| c[(i % s.v) * s.d + i / s.v])
        .collect();
    product(&n, &c_t, s.v).iter().map(|z| softmax(z)).collect()
}

// ---------------------------------------------------------------------------

#[test]
fn the_parameters_have_the_compilers_names_shapes_and_values() {
    let (d, k, f, hk) = (SIZES.d, SIZES.k, SIZES.f, SIZES.heads * SIZES.k);
    let mut expected = vec![
        ("C".to_string(), vec![SIZES.v, d]),
        ("P".to_string(), vec![SIZES.t, d]),
    ];
    for b in ["b1", "b2"] {
        let mut add = |name: &str, shape: Vec<usize>| expected.push((format!("{b}_{name}"), shape));
        add("n1_g", vec![d]);
        add("n1_b", vec![d]);
        for h in 1..=SIZES.heads {
            for w in ["Wq", "Wk", "Wv"] {
                add(&format!("h{h}_{w}"), vec![d, k]);
            }
        }
        add("r_w", vec![hk, d]);
        add("r_b", vec![d]);
        add("n2_g", vec![d]);
        add("n2_b", vec![d]);
        add("f_w", vec![d, f]);
        add("f_b", vec![f]);
        add("o_w", vec![f, d]);
        add("o_b", vec![d]);
    }
    expected.push(("n_g".to_string(), vec![d]));
    expected.push(("n_b".to_string(), vec![d]));

    let params = random_parameters(SIZES, 1);
    let net = build::<f64>(SIZES, BATCH, &params);
    assert_eq!(net.parameter_names(), expected);
    for (name, _) in &expected {
        assert_eq!(&net.parameter(name), &params[name], "{name}");
    }
}

/// Against the network written again from its source, with the default
/// scale 1/√k and with another (tests/fixtures/pass/gpt_small.nn divides by
/// 1.7).
#[test]
fn the_forward_pass_is_the_networks() {
    let params = random_parameters(SIZES, 2);
    let (ctx, next) = tokens(SIZES, BATCH, 3);
    for scale in [None, Some(1.0 / 1.7)] {
        let mut net = build::<f64>(SIZES, BATCH, &params);
        if let Some(scale) = scale {
            net = net.with_attention_scale(scale);
        }
        let scale = scale.unwrap_or(1.0 / (SIZES.k as f64).sqrt());
        let loss = net.gradients(ctx.view(), next.view());
        let p = net.forward(ctx.view()).to_owned();
        assert_eq!(p.dim(), (BATCH, SIZES.t, SIZES.v));
        let mut reference_loss = 0.0;
        for b in 0..BATCH {
            let ctx_b: Vec<usize> = ctx.row(b).to_vec();
            let reference = reference_probabilities(&params, &ctx_b, SIZES, scale);
            for i in 0..SIZES.t {
                for c in 0..SIZES.v {
                    let (ours, theirs) = (p[[b, i, c]], reference[i][c]);
                    assert!(
                        (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1e-3),
                        "p[{b}, {i}, {c}] = {ours}, the network's is {theirs} (scale {scale})"
                    );
                }
                reference_loss -= reference[i][next[[b, i]]].ln();
            }
        }
        reference_loss /= (BATCH * SIZES.t) as f64;
        assert!(
            (loss - reference_loss).abs() <= 1e-12 * reference_loss,
            "{loss} vs {reference_loss} (scale {scale})"
        );
    }
}

#[test]
fn the_loss_of_the_forward_probabilities_is_the_loss_of_gradients() {
    let params = random_parameters(SIZES, 4);
    let (ctx, next) = tokens(SIZES, BATCH, 5);
    let mut net = build::<f64>(SIZES, BATCH, &params);
    let loss = net.gradients(ctx.view(), next.view());
    let p = net.forward(ctx.view());
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-14);
    }
    let from_p = loss_of(&params, &ctx, &next);
    assert!((loss - from_p).abs() <= 1e-12 * loss, "{loss} vs {from_p}");
    // Not a near-constant: ln 7 ≈ 1.95 for uniform p, and the random
    // parameters move it.
    assert!(loss > 1.0 && loss < 4.0, "{loss}");
}

/// Every gradient element against the five-point central difference
/// (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h))/(12h), h = 1e-3, of the batch
/// loss: relative error at most 1e-6, with a floor of 1e-5 on the
/// denominator. (The two-point difference with h = 1e-5 cannot meet that:
/// the loss's round-off, ~1e-15, over 2h leaves ~5e-11 absolute, 5e-6 of the
/// floor. The five-point one at h = 1e-3 is within 4e-11 absolute, 2e-8 of
/// it: its truncation error is O(h⁴).)
#[test]
fn every_gradient_agrees_with_central_differences() {
    let params = random_parameters(SIZES, 6);
    let (ctx, next) = tokens(SIZES, BATCH, 7);
    let mut net = build::<f64>(SIZES, BATCH, &params);
    net.gradients(ctx.view(), next.view());
    let h = 1e-3;
    let (mut checked, mut worst) = (0, (0.0f64, String::new()));
    for (name, _) in net.parameter_names() {
        let grad = net.gradient(&name);
        assert_eq!(grad.len(), params[&name].len());
        for (e, &analytic) in grad.iter().enumerate() {
            let loss_at = |dx: f64| {
                let mut moved = params.clone();
                moved.get_mut(&name).unwrap()[e] += dx;
                loss_of(&moved, &ctx, &next)
            };
            let numeric = (-loss_at(2.0 * h) + 8.0 * loss_at(h) - 8.0 * loss_at(-h)
                + loss_at(-2.0 * h))
                / (12.0 * h);
            let error = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-5);
            if error > worst.0 {
                worst = (error, format!("{name}[{e}]: {analytic} vs {numeric}"));
            }
            checked += 1;
        }
    }
    println!(
        "{checked} gradients, worst relative error {:e} at {}",
        worst.0, worst.1
    );
    assert!(
        worst.0 <= 1e-6,
        "worst relative error {:e} at {}",
        worst.0,
        worst.1
    );
}

/// W − η·m̂/(√v̂ + ε) against train_step, for the first two steps.
#[test]
fn train_step_is_adam() {
    let params = random_parameters(SIZES, 8);
    let (ctx, next) = tokens(SIZES, BATCH, 9);
    let mut net = build::<f64>(SIZES, BATCH, &params);
    let names = net.parameter_names();
    let mut probe = build::<f64>(SIZES, BATCH, &params);
    let loss = probe.gradients(ctx.view(), next.view());
    assert_eq!(net.train_step(ctx.view(), next.view()), loss);
    let mut state = BTreeMap::new();
    for (name, _) in &names {
        let g = probe.gradient(name);
        let updated = net.parameter(name);
        for ((&w, &g), &after) in params[name].iter().zip(&g).zip(&updated) {
            // step 1: m̂ = g, v̂ = g²
            let expected = w - LR * g / (g.abs() + 1e-8);
            assert!(
                (after - expected).abs() <= 1e-12 * LR,
                "{name}: {after} vs {expected} (g = {g})"
            );
        }
        let m: Vec<f64> = g.iter().map(|g| 0.1 * g).collect();
        let v: Vec<f64> = g.iter().map(|g| 0.001 * g * g).collect();
        state.insert(name.clone(), (m, v));
    }
    // Step 2, from the gradients at the updated parameters.
    let after_one: Params = names
        .iter()
        .map(|(name, _)| (name.clone(), net.parameter(name)))
        .collect();
    let mut probe = build::<f64>(SIZES, BATCH, &after_one);
    let loss = probe.gradients(ctx.view(), next.view());
    assert_eq!(net.train_step(ctx.view(), next.view()), loss);
    for (name, _) in &names {
        let (m, v) = &state[name];
        let g = probe.gradient(name);
        let updated = net.parameter(name);
        for e in 0..g.len() {
            let m = 0.9 * m[e] + 0.1 * g[e];
            let v = 0.999 * v[e] + 0.001 * g[e] * g[e];
            let m_hat = m / (1.0 - 0.9f64.powi(2));
            let v_hat = v / (1.0 - 0.999f64.powi(2));
            let expected = after_one[name][e] - LR * m_hat / (v_hat.sqrt() + 1e-8);
            assert!(
                (updated[e] - expected).abs() <= 1e-12 * LR,
                "{name}[{e}]: {} vs {expected}",
                updated[e]
            );
        }
    }
}

#[test]
fn the_learning_rate_can_be_set() {
    let params = random_parameters(SIZES, 18);
    let (ctx, next) = tokens(SIZES, BATCH, 19);
    let mut net = build::<f64>(SIZES, BATCH, &params).with_learning_rate(0.01);
    net.train_step(ctx.view(), next.view());
    for (name, _) in net.parameter_names() {
        let g = net.gradient(&name);
        for ((&w, &g), &after) in params[&name].iter().zip(&g).zip(&net.parameter(&name)) {
            let expected = w - 0.01 * g / (g.abs() + 1e-8);
            assert!(
                (after - expected).abs() <= 1e-12 * 0.01,
                "{name}: {after} vs {expected}"
            );
        }
    }
}

#[test]
fn a_position_sees_only_itself_and_earlier_positions_of_its_own_sample() {
    let params = random_parameters(SIZES, 10);
    let (ctx, _) = tokens(SIZES, BATCH, 11);
    let mut net = build::<f64>(SIZES, BATCH, &params);
    let before = net.forward(ctx.view()).to_owned();
    for j in 0..SIZES.t {
        let mut changed = ctx.clone();
        changed[[1, j]] = (changed[[1, j]] + 1) % SIZES.v;
        let after = net.forward(changed.view()).to_owned();
        for b in 0..BATCH {
            for i in 0..SIZES.t {
                let moved = (0..SIZES.v)
                    .map(|c| (after[[b, i, c]] - before[[b, i, c]]).abs())
                    .fold(0.0, f64::max);
                if b == 1 && i >= j {
                    assert!(moved > 1e-6, "position {i} ignores the token at {j}");
                } else {
                    assert!(
                        moved < 1e-14,
                        "sample {b} position {i} sees sample 1's position {j}"
                    );
                }
            }
        }
    }
}

#[test]
fn smaller_and_larger_batches_than_the_constructed_one() {
    let params = random_parameters(SIZES, 12);
    let (ctx, next) = tokens(SIZES, BATCH, 13);
    let mut net = build::<f64>(SIZES, BATCH, &params);
    let all = net.forward(ctx.view()).to_owned();
    let loss = net.gradients(ctx.view(), next.view());
    let grad_c = net.gradient("C");
    // One sample: the first sample's rows.
    let one = net
        .forward(ctx.slice(denpa::ndarray::s![..1, ..]))
        .to_owned();
    assert_eq!(one.dim(), (1, SIZES.t, SIZES.v));
    for ((i, c), &p) in one.index_axis(denpa::ndarray::Axis(0), 0).indexed_iter() {
        assert!((p - all[[0, i, c]]).abs() < 1e-14);
    }
    // A network built for one sample grows to three and agrees.
    let mut small = build::<f64>(SIZES, 1, &params);
    small.forward(ctx.slice(denpa::ndarray::s![..1, ..]));
    assert_eq!(small.gradients(ctx.view(), next.view()), loss);
    assert_eq!(small.gradient("C"), grad_c);
}

#[test]
fn f32_agrees_with_f64() {
    let params = random_parameters(SIZES, 14);
    let (ctx, next) = tokens(SIZES, BATCH, 15);
    let mut wide = build::<f64>(SIZES, BATCH, &params);
    let mut narrow = build::<f32>(SIZES, BATCH, &params);
    let (l64, l32) = (
        wide.gradients(ctx.view(), next.view()),
        narrow.gradients(ctx.view(), next.view()),
    );
    assert!((f64::from(l32) - l64).abs() <= 1e-4 * l64, "{l32} vs {l64}");
    for (name, _) in wide.parameter_names() {
        let (g64, g32) = (wide.gradient(&name), narrow.gradient(&name));
        let scale = g64.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (a, &b) in g64.iter().zip(&g32) {
            assert!(
                (a - f64::from(b)).abs() <= 1e-3 * scale,
                "{name}: {a} vs {b}"
            );
        }
    }
    // A step in f32 moves the same way.
    let (s64, s32) = (
        wide.train_step(ctx.view(), next.view()),
        narrow.train_step(ctx.view(), next.view()),
    );
    assert!((f64::from(s32) - s64).abs() <= 1e-4 * s64);
    assert!(
        (f64::from(narrow.gradients(ctx.view(), next.view()))
            - wide.gradients(ctx.view(), next.view()))
        .abs()
            <= 1e-4 * s64
    );
}

#[test]
fn a_step_allocates_nothing_once_it_has_seen_its_batch_size() {
    // Large enough that the projections take the packed product.
    let sizes = Sizes {
        t: 8,
        d: 32,
        heads: 2,
        k: 8,
        v: 11,
        f: 48,
    };
    let params = random_parameters(sizes, 16);
    let (ctx, next) = tokens(sizes, 4, 17);
    let mut net = build::<f32>(sizes, 4, &params);
    net.train_step(ctx.view(), next.view());
    net.forward(ctx.view());
    let before = allocations();
    for _ in 0..3 {
        net.train_step(ctx.view(), next.view());
        net.gradients(ctx.view(), next.view());
        net.forward(ctx.view());
        net.forward(ctx.slice(denpa::ndarray::s![..1, ..]));
        net.gradients(
            ctx.slice(denpa::ndarray::s![..2, ..]),
            next.slice(denpa::ndarray::s![..2, ..]),
        );
    }
    assert_eq!(allocations() - before, 0);
}
