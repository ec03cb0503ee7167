//! A hand-written training step of a small character-level GPT, the baseline
//! the generated code of the same network is benchmarked against: token and
//! position embeddings, two pre-norm transformer blocks (layer norm, four
//! causal attention heads, a dense back to the residual stream, layer norm,
//! a GELU layer of F units and a dense back), a final layer norm, logits tied
//! to the token embeddings, softmax + cross-entropy, Adam.
//!
//! As a careful engineer writes it:
//! - every parameter lives in one flat vector (so do the gradients and the
//!   two Adam moments), and Adam is one pass over the four of them;
//! - the heads' Wq | Wk | Wv are one `[d, 3·heads·k]` matrix, so the
//!   3·heads projections of a block (twelve) are ONE packed GEMM over the B·T rows
//!   (likewise their backward products); every dense layer is one GEMM over
//!   the B·T rows, through `denpa::runtime::gemm_with` and a `Packing` kept
//!   here;
//! - attention runs per (sample, head) on slices of the fused q|k|v buffer
//!   read in place (row stride 3·heads·k), and only where the causal mask
//!   lets it: row i of the scores takes i + 1 dot products, its softmax (the
//!   scale, 1/√k by default, and the mask fused in) i + 1 exponentials, and a·v, dv, dq,
//!   dk the same triangle. (These are loops, not `gemm_with`: a strided operand would send
//!   `gemm_with` to matrixmultiply, which allocates its packing space on every
//!   call, and a GEMM could not skip the masked half.)
//! - layer norm forward and backward by rows in closed form, remembering x̂
//!   and 1/σ; GELU (exact, with erf) remembers Φ(u) for its derivative;
//!   softmax and cross-entropy with index targets are one pass that also
//!   writes (p − onehot)/(B·T); the gradient of the tied embedding C is the
//!   output product's δᵀ·n plus the scatter-add of the residual stream's δ
//!   into the rows of the tokens.
//! - every buffer is allocated in `new` (or when a larger batch first comes):
//!   `gradients`, `train_step` and `forward` allocate nothing after that.
//!
//! Parameter order (`parameter_names`): `C`, `P`, then for `b1` and then `b2`
//! in the order of the block's source: `n1_g`, `n1_b`, for each head `hj`
//! (j = 1, 2, …) `hj_Wq`, `hj_Wk`, `hj_Wv`, `r_w`, `r_b`, `n2_g`, `n2_b`,
//! `f_w`, `f_b`, `o_w`, `o_b`; then `n_g`, `n_b`.

// A bench uses part of this API (a training step, the forward pass); the
// tests (tests/hand_gpt.rs) use all of it.
#![allow(dead_code)]

use denpa::ndarray::{ArrayView2, ArrayView3, ArrayViewMut2, NdFloat};
use denpa::runtime::{gemm_with, Packing};

/// The float types of the network: `NdFloat` and the error function.
pub trait Float: NdFloat {
    fn erf(self) -> Self;
}

// The same error function as denpa's runtime: a branch-free rational
// approximation in f32 (a careful engineer's choice: libm's erff is several
// times slower and does not vectorize), libm's in f64.
impl Float for f32 {
    #[inline]
    fn erf(self) -> f32 {
        denpa::runtime::Erf::erf(self)
    }
}

impl Float for f64 {
    #[inline]
    fn erf(self) -> f64 {
        denpa::runtime::Erf::erf(self)
    }
}

/// The sizes of the network: `t` positions, model width `d`, `heads` heads
/// of width `k`, a vocabulary of `v` tokens, `f` units in the GELU layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub t: usize,
    pub d: usize,
    pub heads: usize,
    pub k: usize,
    pub v: usize,
    pub f: usize,
}

/// The number of transformer blocks (`b1`, `b2`).
const BLOCKS: usize = 2;
/// Layer norm's ε.
const LN_EPS: f64 = 1e-5;
/// Adam's hyper-parameters (the learning rate is the default of
/// `HandGpt::new`, changed by `with_learning_rate`).
const LR: f64 = 0.001;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;

/// Where one block's parameters start in the flat vector.
#[derive(Debug, Clone, Copy)]
struct BlockParams {
    /// `n1_g` then `n1_b`, `[d]` each.
    n1: usize,
    /// The heads' Wq | Wk | Wv, `[d, 3·heads·k]`: columns `j·k..(j+1)·k` are
    /// head j's Wq, the same plus `heads·k` its Wk, plus `2·heads·k` its Wv.
    qkv: usize,
    /// `[heads·k, d]`.
    r_w: usize,
    /// `[d]`.
    r_b: usize,
    /// `n2_g` then `n2_b`, `[d]` each.
    n2: usize,
    /// `[d, f]`.
    f_w: usize,
    /// `[f]`.
    f_b: usize,
    /// `[f, d]`.
    o_w: usize,
    /// `[d]`.
    o_b: usize,
}

/// A parameter of the API: a `rows × cols` block of the flat vector at
/// `offset` with row stride `stride` (a head's Wq is a column block of the
/// fused matrix).
#[derive(Debug, Clone)]
struct Named {
    name: String,
    shape: Vec<usize>,
    offset: usize,
    rows: usize,
    cols: usize,
    stride: usize,
}

/// The sizes of one step, for the kernels.
#[derive(Debug, Clone, Copy)]
struct Dims<T> {
    t: usize,
    d: usize,
    heads: usize,
    k: usize,
    /// heads·k: the width of the concatenated heads.
    hk: usize,
    f: usize,
    v: usize,
    /// Samples in this step.
    batch: usize,
    /// Rows in this step: batch·t.
    n: usize,
    /// The attention scale.
    scale: T,
}

/// What one block's forward pass keeps for its backward pass, row-major,
/// `rows` = batch·t rows each.
struct BlockWork<T> {
    /// The first layer norm's x̂ `[rows, d]`, 1/σ `[rows]` and output `[rows, d]`.
    xhat1: Vec<T>,
    rstd1: Vec<T>,
    n1: Vec<T>,
    /// q | k | v of every head `[rows, 3·heads·k]`.
    qkv: Vec<T>,
    /// The attention probabilities `[batch, heads, t, t]` (0 above the diagonal).
    att: Vec<T>,
    /// The heads' outputs side by side `[rows, heads·k]`.
    cat: Vec<T>,
    /// The residual stream after attention `[rows, d]`.
    r: Vec<T>,
    xhat2: Vec<T>,
    rstd2: Vec<T>,
    n2: Vec<T>,
    /// The GELU layer's input u `[rows, f]`, Φ(u) and output u·Φ(u).
    u: Vec<T>,
    cdf: Vec<T>,
    act: Vec<T>,
    /// The block's output `[rows, d]`.
    out: Vec<T>,
}

impl<T: Float> BlockWork<T> {
    fn new(s: &Sizes, rows: usize, batch: usize) -> Self {
        let z = |len: usize| vec![T::zero(); len];
        let (d, hk) = (s.d, s.heads * s.k);
        BlockWork {
            xhat1: z(rows * d),
            rstd1: z(rows),
            n1: z(rows * d),
            qkv: z(rows * 3 * hk),
            att: z(batch * s.heads * s.t * s.t),
            cat: z(rows * hk),
            r: z(rows * d),
            xhat2: z(rows * d),
            rstd2: z(rows),
            n2: z(rows * d),
            u: z(rows * s.f),
            cdf: z(rows * s.f),
            act: z(rows * s.f),
            out: z(rows * d),
        }
    }
}

/// The backward pass's buffers, shared by the blocks.
struct Backward<T> {
    /// δ of the residual stream `[rows, d]`, accumulated along it.
    dx: Vec<T>,
    /// δ of a layer norm's output `[rows, d]`.
    dn: Vec<T>,
    /// δ of the GELU layer, then of its input `[rows, f]`.
    dact: Vec<T>,
    /// δ of the concatenated heads `[rows, heads·k]`.
    dcat: Vec<T>,
    /// δ of q | k | v `[rows, 3·heads·k]`.
    dqkv: Vec<T>,
    /// δ of the logits `[rows, v]`: (p − onehot)/(B·T).
    dlogits: Vec<T>,
    /// δ of one row of attention scores `[t]`.
    ds: Vec<T>,
}

/// Every activation buffer, for batches of up to `batch` samples.
struct Work<T> {
    batch: usize,
    /// The embeddings C[ctx] + P `[rows, d]`.
    x0: Vec<T>,
    blocks: Vec<BlockWork<T>>,
    /// The final layer norm: x̂, 1/σ, output.
    xhat: Vec<T>,
    rstd: Vec<T>,
    nf: Vec<T>,
    /// The logits `[rows, v]` and their softmax p.
    logits: Vec<T>,
    p: Vec<T>,
    back: Backward<T>,
}

impl<T: Float> Work<T> {
    fn new(s: &Sizes, batch: usize) -> Self {
        let rows = batch * s.t;
        let z = |len: usize| vec![T::zero(); len];
        let hk = s.heads * s.k;
        Work {
            batch,
            x0: z(rows * s.d),
            blocks: (0..BLOCKS)
                .map(|_| BlockWork::new(s, rows, batch))
                .collect(),
            xhat: z(rows * s.d),
            rstd: z(rows),
            nf: z(rows * s.d),
            logits: z(rows * s.v),
            p: z(rows * s.v),
            back: Backward {
                dx: z(rows * s.d),
                dn: z(rows * s.d),
                dact: z(rows * s.f),
                dcat: z(rows * hk),
                dqkv: z(rows * 3 * hk),
                dlogits: z(rows * s.v),
                ds: z(s.t),
            },
        }
    }
}

/// The hand-written network: parameters, gradients, Adam's moments and every
/// buffer of a step.
pub struct HandGpt<T> {
    sizes: Sizes,
    /// The parameters, their gradients and Adam's two moments, all in the
    /// same flat layout.
    w: Vec<T>,
    g: Vec<T>,
    m: Vec<T>,
    v: Vec<T>,
    /// Adam's step count (the next update is step `step + 1`).
    step: i32,
    /// Adam's learning rate η.
    lr: T,
    /// The factor of q·kᵀ in attention.
    scale: T,
    /// Offsets: C `[v, d]`, P `[t, d]`, the blocks, the final `n_g`, `n_b`.
    c: usize,
    p: usize,
    blocks: [BlockParams; BLOCKS],
    n: usize,
    named: Vec<Named>,
    work: Work<T>,
    pack: Packing<T>,
}

/// `buf`'s first rows·cols values as a row-major matrix.
fn mat<T>(buf: &[T], rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("rows × cols values")
}

/// `buf`'s first rows·cols values as a mutable row-major matrix.
fn mat_mut<T>(buf: &mut [T], rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("rows × cols values")
}

/// A constant of the network's float type.
#[inline]
fn cst<T: Float>(x: f64) -> T {
    T::from(x).expect("a float constant")
}

/// Σ x, in eight running sums so that the loop vectorizes.
#[inline]
fn sum<T: Float>(x: &[T]) -> T {
    let mut sums = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(T::zero(), |s, &v| s + v);
    for c in chunks {
        for l in 0..8 {
            sums[l] += c[l];
        }
    }
    sums.iter().fold(tail, |s, &v| s + v)
}

/// Σ x·y, in eight running sums.
#[inline]
fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut sums = [T::zero(); 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .fold(T::zero(), |s, (&a, &b)| s + a * b);
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            sums[l] += a[l] * b[l];
        }
    }
    sums.iter().fold(tail, |s, &v| s + v)
}

/// y ← y + α·x.
#[inline]
fn axpy<T: Float>(alpha: T, x: &[T], y: &mut [T]) {
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += alpha * x);
}

/// out ← Σ over the rows of `x` (`cols` wide): a bias gradient.
fn column_sums<T: Float>(cols: usize, x: &[T], out: &mut [T]) {
    out.fill(T::zero());
    for row in x.chunks_exact(cols) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += v);
    }
}

/// y ← y + x + b for each row (`d` wide): a residual connection and a bias.
fn add_residual_and_bias<T: Float>(d: usize, y: &mut [T], x: &[T], b: &[T]) {
    for (yr, xr) in y.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
        for ((y, &x), &b) in yr.iter_mut().zip(xr).zip(b) {
            *y += x + b;
        }
    }
}

/// Layer norm of each row of x (`d` wide): x̂ = (x − μ)/σ with
/// σ = √(mean((x − μ)²) + ε), y = x̂·g + b; keeps x̂ and 1/σ.
fn layer_norm<T: Float>(
    d: usize,
    x: &[T],
    (g, b): (&[T], &[T]),
    xhat: &mut [T],
    rstd: &mut [T],
    y: &mut [T],
) {
    let inv_d = T::one() / cst::<T>(d as f64);
    let eps = cst::<T>(LN_EPS);
    let rows = x
        .chunks_exact(d)
        .zip(xhat.chunks_exact_mut(d))
        .zip(y.chunks_exact_mut(d))
        .zip(rstd.iter_mut());
    for (((xr, hr), yr), rs) in rows {
        let mean = sum(xr) * inv_d;
        hr.iter_mut().zip(xr).for_each(|(h, &x)| *h = x - mean);
        let var = dot(hr, hr) * inv_d;
        let r = T::one() / (var + eps).sqrt();
        *rs = r;
        for ((h, y), (&g, &b)) in hr.iter_mut().zip(yr.iter_mut()).zip(g.iter().zip(b)) {
            *h *= r;
            *y = *h * g + b;
        }
    }
}

/// The backward pass of [`layer_norm`]: dg = Σ dy·x̂, db = Σ dy over the
/// rows (`dgb` is dg then db), and dx ← dx + (1/σ)·(dx̂ − mean(dx̂) −
/// x̂·mean(dx̂·x̂)) with dx̂ = dy·g (or dx ← that, without `accumulate`).
fn layer_norm_backward<T: Float>(
    d: usize,
    dy: &[T],
    (xhat, rstd): (&[T], &[T]),
    g: &[T],
    dgb: &mut [T],
    dx: &mut [T],
    accumulate: bool,
) {
    let inv_d = T::one() / cst::<T>(d as f64);
    let (dg, db) = dgb.split_at_mut(d);
    dg.fill(T::zero());
    db.fill(T::zero());
    let rows = dy
        .chunks_exact(d)
        .zip(xhat.chunks_exact(d))
        .zip(dx.chunks_exact_mut(d))
        .zip(rstd);
    for (((dyr, hr), dxr), &r) in rows {
        let mut sums = [T::zero(); 2];
        for (((&dy, &h), &g), (dg, db)) in dyr
            .iter()
            .zip(hr)
            .zip(g)
            .zip(dg.iter_mut().zip(db.iter_mut()))
        {
            let dh = dy * g;
            sums[0] += dh;
            sums[1] += dh * h;
            *dg += dy * h;
            *db += dy;
        }
        let (m1, m2) = (sums[0] * inv_d, sums[1] * inv_d);
        let terms = dyr.iter().zip(hr).zip(g);
        if accumulate {
            for (dx, ((&dy, &h), &g)) in dxr.iter_mut().zip(terms) {
                *dx += r * (dy * g - m1 - h * m2);
            }
        } else {
            for (dx, ((&dy, &h), &g)) in dxr.iter_mut().zip(terms) {
                *dx = r * (dy * g - m1 - h * m2);
            }
        }
    }
}

/// u ← u + b for each row (`f` wide), Φ(u) = ½(1 + erf(u/√2)), act = u·Φ(u).
fn gelu<T: Float>(f: usize, u: &mut [T], b: &[T], cdf: &mut [T], act: &mut [T]) {
    let half = cst::<T>(0.5);
    let frac = cst::<T>(std::f64::consts::FRAC_1_SQRT_2);
    for ((ur, cr), ar) in u
        .chunks_exact_mut(f)
        .zip(cdf.chunks_exact_mut(f))
        .zip(act.chunks_exact_mut(f))
    {
        for (((u, c), a), &b) in ur.iter_mut().zip(cr).zip(ar).zip(b) {
            *u += b;
            *c = half * (T::one() + (*u * frac).erf());
            *a = *u * *c;
        }
    }
}

/// δu = δact·(Φ(u) + u·φ(u)) in place, φ(u) = e^(−u²/2)/√(2π).
fn gelu_backward<T: Float>(dact: &mut [T], u: &[T], cdf: &[T]) {
    let half = cst::<T>(0.5);
    let inv_sqrt_2pi =
        cst::<T>(0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2);
    for ((da, &u), &c) in dact.iter_mut().zip(u).zip(cdf) {
        *da *= c + u * inv_sqrt_2pi * (-half * u * u).exp();
    }
}

/// Causal attention of every (sample, head): for row i,
/// a_i = softmax_{j ≤ i}(scale·q_i·k_j) (0 for j > i) and out_i = Σ_{j≤i} a_ij v_j,
/// with q, k, v read in place in `qkv` and out written into the head's
/// columns of `cat`.
fn attention<T: Float>(dm: Dims<T>, qkv: &[T], att: &mut [T], cat: &mut [T]) {
    let Dims {
        t, heads, k, hk, ..
    } = dm;
    let ld = 3 * hk;
    for b in 0..dm.batch {
        let rows = &qkv[b * t * ld..][..t * ld];
        let out = &mut cat[b * t * hk..][..t * hk];
        for h in 0..heads {
            let a = &mut att[(b * heads + h) * t * t..][..t * t];
            let (qc, kc, vc) = (h * k, hk + h * k, 2 * hk + h * k);
            for (i, ai) in a.chunks_exact_mut(t).enumerate() {
                let q = &rows[i * ld + qc..][..k];
                let (live, masked) = ai.split_at_mut(i + 1);
                let mut max = T::neg_infinity();
                for (j, s) in live.iter_mut().enumerate() {
                    *s = dm.scale * dot(q, &rows[j * ld + kc..][..k]);
                    max = max.max(*s);
                }
                let mut total = T::zero();
                for s in live.iter_mut() {
                    *s = (*s - max).exp();
                    total += *s;
                }
                let inv = T::one() / total;
                live.iter_mut().for_each(|s| *s *= inv);
                masked.fill(T::zero());
                let o = &mut out[i * hk + h * k..][..k];
                o.fill(T::zero());
                for (j, &s) in live.iter().enumerate() {
                    axpy(s, &rows[j * ld + vc..][..k], o);
                }
            }
        }
    }
}

/// The backward pass of [`attention`], into `dqkv` (every value written):
/// dv_j = Σ_{i≥j} a_ij δo_i; δa_ij = δo_i·v_j; δs_ij = scale·a_ij·(δa_ij −
/// Σ_l a_il δa_il); dq_i = Σ_{j≤i} δs_ij k_j; dk_j = Σ_{i≥j} δs_ij q_i.
fn attention_backward<T: Float>(
    dm: Dims<T>,
    (qkv, att): (&[T], &[T]),
    dcat: &[T],
    ds: &mut [T],
    dqkv: &mut [T],
) {
    let Dims {
        t, heads, k, hk, ..
    } = dm;
    let ld = 3 * hk;
    for b in 0..dm.batch {
        let rows = &qkv[b * t * ld..][..t * ld];
        let drows = &mut dqkv[b * t * ld..][..t * ld];
        drows.fill(T::zero());
        let dout = &dcat[b * t * hk..][..t * hk];
        for h in 0..heads {
            let a = &att[(b * heads + h) * t * t..][..t * t];
            let (qc, kc, vc) = (h * k, hk + h * k, 2 * hk + h * k);
            for (i, ai) in a.chunks_exact(t).enumerate() {
                let ai = &ai[..=i];
                let doi = &dout[i * hk + h * k..][..k];
                let dsi = &mut ds[..=i];
                let mut weighted = T::zero();
                for (j, (ds, &a)) in dsi.iter_mut().zip(ai).enumerate() {
                    let da = dot(doi, &rows[j * ld + vc..][..k]);
                    *ds = da;
                    weighted += a * da;
                    axpy(a, doi, &mut drows[j * ld + vc..][..k]);
                }
                for (ds, &a) in dsi.iter_mut().zip(ai) {
                    *ds = dm.scale * a * (*ds - weighted);
                }
                let qi = &rows[i * ld + qc..][..k];
                for (j, &s) in dsi.iter().enumerate() {
                    axpy(s, &rows[j * ld + kc..][..k], &mut drows[i * ld + qc..][..k]);
                    axpy(s, qi, &mut drows[j * ld + kc..][..k]);
                }
            }
        }
    }
}

/// One transformer block's forward pass on x `[rows, d]`, into `bw`.
fn block_forward<T: Float>(
    dm: Dims<T>,
    w: &[T],
    lay: &BlockParams,
    x: &[T],
    bw: &mut BlockWork<T>,
    pack: &mut Packing<T>,
) {
    let Dims { d, hk, f, n, .. } = dm;
    let (one, zero) = (T::one(), T::zero());
    let nd = n * d;
    layer_norm(
        d,
        &x[..nd],
        (&w[lay.n1..][..d], &w[lay.n1 + d..][..d]),
        &mut bw.xhat1[..nd],
        &mut bw.rstd1[..n],
        &mut bw.n1[..nd],
    );
    gemm_with(
        pack,
        one,
        mat(&bw.n1, n, d),
        mat(&w[lay.qkv..], d, 3 * hk),
        zero,
        mat_mut(&mut bw.qkv, n, 3 * hk),
    );
    attention(dm, &bw.qkv, &mut bw.att, &mut bw.cat);
    gemm_with(
        pack,
        one,
        mat(&bw.cat, n, hk),
        mat(&w[lay.r_w..], hk, d),
        zero,
        mat_mut(&mut bw.r, n, d),
    );
    add_residual_and_bias(d, &mut bw.r[..nd], &x[..nd], &w[lay.r_b..][..d]);
    layer_norm(
        d,
        &bw.r[..nd],
        (&w[lay.n2..][..d], &w[lay.n2 + d..][..d]),
        &mut bw.xhat2[..nd],
        &mut bw.rstd2[..n],
        &mut bw.n2[..nd],
    );
    gemm_with(
        pack,
        one,
        mat(&bw.n2, n, d),
        mat(&w[lay.f_w..], d, f),
        zero,
        mat_mut(&mut bw.u, n, f),
    );
    gelu(
        f,
        &mut bw.u[..n * f],
        &w[lay.f_b..][..f],
        &mut bw.cdf[..n * f],
        &mut bw.act[..n * f],
    );
    gemm_with(
        pack,
        one,
        mat(&bw.act, n, f),
        mat(&w[lay.o_w..], f, d),
        zero,
        mat_mut(&mut bw.out, n, d),
    );
    add_residual_and_bias(d, &mut bw.out[..nd], &bw.r[..nd], &w[lay.o_b..][..d]);
}

/// One block's backward pass: `back.dx` holds δ of its output on entry and
/// δ of its input on return; its parameters' gradients go into `g`.
fn block_backward<T: Float>(
    dm: Dims<T>,
    w: &[T],
    lay: &BlockParams,
    bw: &BlockWork<T>,
    g: &mut [T],
    back: &mut Backward<T>,
    pack: &mut Packing<T>,
) {
    let Dims { d, hk, f, n, .. } = dm;
    let (one, zero) = (T::one(), T::zero());
    let nd = n * d;
    // out = r + act·o_w + o_b
    gemm_with(
        pack,
        one,
        mat(&bw.act, n, f).t(),
        mat(&back.dx, n, d),
        zero,
        mat_mut(&mut g[lay.o_w..], f, d),
    );
    column_sums(d, &back.dx[..nd], &mut g[lay.o_b..][..d]);
    gemm_with(
        pack,
        one,
        mat(&back.dx, n, d),
        mat(&w[lay.o_w..], f, d).t(),
        zero,
        mat_mut(&mut back.dact, n, f),
    );
    // act = gelu(n2·f_w + f_b)
    gelu_backward(&mut back.dact[..n * f], &bw.u[..n * f], &bw.cdf[..n * f]);
    gemm_with(
        pack,
        one,
        mat(&bw.n2, n, d).t(),
        mat(&back.dact, n, f),
        zero,
        mat_mut(&mut g[lay.f_w..], d, f),
    );
    column_sums(f, &back.dact[..n * f], &mut g[lay.f_b..][..f]);
    gemm_with(
        pack,
        one,
        mat(&back.dact, n, f),
        mat(&w[lay.f_w..], d, f).t(),
        zero,
        mat_mut(&mut back.dn, n, d),
    );
    // n2 = layer_norm(r); δr = δout + layer norm's δ
    layer_norm_backward(
        d,
        &back.dn[..nd],
        (&bw.xhat2[..nd], &bw.rstd2[..n]),
        &w[lay.n2..][..d],
        &mut g[lay.n2..][..2 * d],
        &mut back.dx[..nd],
        true,
    );
    // r = x + cat·r_w + r_b
    gemm_with(
        pack,
        one,
        mat(&bw.cat, n, hk).t(),
        mat(&back.dx, n, d),
        zero,
        mat_mut(&mut g[lay.r_w..], hk, d),
    );
    column_sums(d, &back.dx[..nd], &mut g[lay.r_b..][..d]);
    gemm_with(
        pack,
        one,
        mat(&back.dx, n, d),
        mat(&w[lay.r_w..], hk, d).t(),
        zero,
        mat_mut(&mut back.dcat, n, hk),
    );
    attention_backward(
        dm,
        (&bw.qkv, &bw.att),
        &back.dcat,
        &mut back.ds,
        &mut back.dqkv,
    );
    // qkv = n1·Wqkv
    gemm_with(
        pack,
        one,
        mat(&bw.n1, n, d).t(),
        mat(&back.dqkv, n, 3 * hk),
        zero,
        mat_mut(&mut g[lay.qkv..], d, 3 * hk),
    );
    gemm_with(
        pack,
        one,
        mat(&back.dqkv, n, 3 * hk),
        mat(&w[lay.qkv..], d, 3 * hk).t(),
        zero,
        mat_mut(&mut back.dn, n, d),
    );
    // n1 = layer_norm(x); δx = δr + layer norm's δ
    layer_norm_backward(
        d,
        &back.dn[..nd],
        (&bw.xhat1[..nd], &bw.rstd1[..n]),
        &w[lay.n1..][..d],
        &mut g[lay.n1..][..2 * d],
        &mut back.dx[..nd],
        true,
    );
}

impl<T: Float> HandGpt<T> {
    /// Parameters taken by name from `get(name, shape) -> Vec<T>` (row-major),
    /// buffers sized for `batch`.
    pub fn new(sizes: Sizes, batch: usize, mut get: impl FnMut(&str, &[usize]) -> Vec<T>) -> Self {
        let Sizes {
            t,
            d,
            heads,
            k,
            v,
            f,
        } = sizes;
        let hk = heads * k;
        let mut len = 0;
        let mut take = |n: usize| {
            len += n;
            len - n
        };
        let c = take(v * d);
        let p = take(t * d);
        let blocks = [(); BLOCKS].map(|()| BlockParams {
            n1: take(2 * d),
            qkv: take(d * 3 * hk),
            r_w: take(hk * d),
            r_b: take(d),
            n2: take(2 * d),
            f_w: take(d * f),
            f_b: take(f),
            o_w: take(f * d),
            o_b: take(d),
        });
        let n = take(2 * d);

        // A `rows × cols` parameter at `offset`, rows `stride` apart.
        let entry = |name: String, shape: &[usize], offset: usize, stride: usize| Named {
            rows: if shape.len() == 2 { shape[0] } else { 1 },
            cols: shape[shape.len() - 1],
            name,
            shape: shape.to_vec(),
            offset,
            stride,
        };
        let mut named = vec![
            entry("C".into(), &[v, d], c, d),
            entry("P".into(), &[t, d], p, d),
        ];
        for (i, lay) in blocks.iter().enumerate() {
            let mut add = |name: &str, shape: &[usize], offset: usize, stride: usize| {
                named.push(entry(format!("b{}_{name}", i + 1), shape, offset, stride))
            };
            add("n1_g", &[d], lay.n1, d);
            add("n1_b", &[d], lay.n1 + d, d);
            for h in 0..heads {
                for (which, column) in [("Wq", 0), ("Wk", hk), ("Wv", 2 * hk)] {
                    let name = format!("h{}_{which}", h + 1);
                    add(&name, &[d, k], lay.qkv + column + h * k, 3 * hk);
                }
            }
            add("r_w", &[hk, d], lay.r_w, d);
            add("r_b", &[d], lay.r_b, d);
            add("n2_g", &[d], lay.n2, d);
            add("n2_b", &[d], lay.n2 + d, d);
            add("f_w", &[d, f], lay.f_w, f);
            add("f_b", &[f], lay.f_b, f);
            add("o_w", &[f, d], lay.o_w, d);
            add("o_b", &[d], lay.o_b, d);
        }
        named.push(entry("n_g".into(), &[d], n, d));
        named.push(entry("n_b".into(), &[d], n + d, d));

        let mut w = vec![T::zero(); len];
        for e in &named {
            let values = get(&e.name, &e.shape);
            assert_eq!(
                values.len(),
                e.rows * e.cols,
                "{} has shape {:?}",
                e.name,
                e.shape
            );
            for (row, src) in values.chunks_exact(e.cols).enumerate() {
                w[e.offset + row * e.stride..][..e.cols].copy_from_slice(src);
            }
        }
        HandGpt {
            sizes,
            g: vec![T::zero(); len],
            m: vec![T::zero(); len],
            v: vec![T::zero(); len],
            w,
            step: 0,
            lr: cst::<T>(LR),
            scale: T::one() / cst::<T>(k as f64).sqrt(),
            c,
            p,
            blocks,
            n,
            named,
            work: Work::new(&sizes, batch),
            pack: Packing::default(),
        }
    }

    /// Attention scores q·kᵀ·`scale` instead of the default q·kᵀ/√k (for a
    /// source that divides by a literal that is not √k).
    pub fn with_attention_scale(mut self, scale: T) -> Self {
        self.scale = scale;
        self
    }

    /// Adam with learning rate `lr` instead of the default 0.001.
    pub fn with_learning_rate(mut self, lr: T) -> Self {
        self.lr = lr;
        self
    }

    /// Every parameter name with its shape, in the order of the module's doc.
    pub fn parameter_names(&self) -> Vec<(String, Vec<usize>)> {
        self.named
            .iter()
            .map(|e| (e.name.clone(), e.shape.clone()))
            .collect()
    }

    /// The values of `name` in `buf` (parameters or gradients), row-major.
    fn gather(&self, buf: &[T], name: &str) -> Vec<T> {
        let e = self
            .named
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no parameter {name}"));
        (0..e.rows)
            .flat_map(|row| &buf[e.offset + row * e.stride..][..e.cols])
            .copied()
            .collect()
    }

    /// A parameter by name, row-major.
    pub fn parameter(&self, name: &str) -> Vec<T> {
        self.gather(&self.w, name)
    }

    /// A gradient by parameter name (after `gradients` or `train_step`), row-major.
    pub fn gradient(&self, name: &str) -> Vec<T> {
        self.gather(&self.g, name)
    }

    /// The sizes of one step of `batch` samples, growing the buffers if
    /// `batch` is larger than any seen before.
    fn dims(&mut self, batch: usize) -> Dims<T> {
        if batch > self.work.batch {
            self.work = Work::new(&self.sizes, batch);
        }
        let s = self.sizes;
        Dims {
            t: s.t,
            d: s.d,
            heads: s.heads,
            k: s.k,
            hk: s.heads * s.k,
            f: s.f,
            v: s.v,
            batch,
            n: batch * s.t,
            scale: self.scale,
        }
    }

    /// The forward pass up to the logits.
    fn logits(&mut self, ctx: ArrayView2<'_, usize>) -> Dims<T> {
        assert_eq!(ctx.ncols(), self.sizes.t, "ctx is [batch, t]");
        let dm = self.dims(ctx.nrows());
        let Dims { t, d, v, n, .. } = dm;
        let (w, work, pack) = (&self.w, &mut self.work, &mut self.pack);
        // x = C[ctx] + P
        for (row, (&token, x)) in ctx.iter().zip(work.x0.chunks_exact_mut(d)).enumerate() {
            assert!(token < v, "token {token} out of 0..{v}");
            let c = &w[self.c + token * d..][..d];
            let p = &w[self.p + (row % t) * d..][..d];
            for ((x, &c), &p) in x.iter_mut().zip(c).zip(p) {
                *x = c + p;
            }
        }
        for (i, lay) in self.blocks.iter().enumerate() {
            let (done, rest) = work.blocks.split_at_mut(i);
            let x = match done.last() {
                None => &work.x0,
                Some(prev) => &prev.out,
            };
            block_forward(dm, w, lay, x, &mut rest[0], pack);
        }
        let nd = n * d;
        let last = &work.blocks[BLOCKS - 1].out;
        layer_norm(
            d,
            &last[..nd],
            (&w[self.n..][..d], &w[self.n + d..][..d]),
            &mut work.xhat[..nd],
            &mut work.rstd[..n],
            &mut work.nf[..nd],
        );
        // logits = n·Cᵀ (tied)
        gemm_with(
            pack,
            T::one(),
            mat(&work.nf, n, d),
            mat(&w[self.c..], v, d).t(),
            T::zero(),
            mat_mut(&mut work.logits, n, v),
        );
        dm
    }

    /// Forward + backward on a batch (ctx, next: `[batch, t]` token
    /// indices); returns the batch loss (the mean of −ln p over the batch·t
    /// positions) and leaves the gradients inside.
    pub fn gradients(&mut self, ctx: ArrayView2<'_, usize>, next: ArrayView2<'_, usize>) -> T {
        assert_eq!(ctx.dim(), next.dim(), "ctx and next are both [batch, t]");
        let dm = self.logits(ctx);
        let Dims { t, d, v, n, .. } = dm;
        let nd = n * d;
        let (w, g, work, pack) = (&self.w, &mut self.g, &mut self.work, &mut self.pack);
        let back = &mut work.back;

        // p = softmax(logits); loss = mean −ln p[next]; δlogits = (p − onehot)/n
        let inv_n = T::one() / cst::<T>(n as f64);
        let mut loss = T::zero();
        let rows = work
            .logits
            .chunks_exact(v)
            .zip(work.p.chunks_exact_mut(v))
            .zip(back.dlogits.chunks_exact_mut(v));
        for (((z, p), dz), &target) in rows.zip(next.iter()) {
            assert!(target < v, "target {target} out of 0..{v}");
            let max = z.iter().fold(T::neg_infinity(), |m, &z| m.max(z));
            let mut total = T::zero();
            for (p, &z) in p.iter_mut().zip(z) {
                *p = (z - max).exp();
                total += *p;
            }
            let inv = T::one() / total;
            for (p, dz) in p.iter_mut().zip(dz.iter_mut()) {
                *p *= inv;
                *dz = *p * inv_n;
            }
            dz[target] -= inv_n;
            loss += total.ln() + max - z[target];
        }

        // logits = n·Cᵀ: δC = δlogitsᵀ·n (the embedding's part is added below)
        gemm_with(
            pack,
            T::one(),
            mat(&back.dlogits, n, v).t(),
            mat(&work.nf, n, d),
            T::zero(),
            mat_mut(&mut g[self.c..], v, d),
        );
        gemm_with(
            pack,
            T::one(),
            mat(&back.dlogits, n, v),
            mat(&w[self.c..], v, d),
            T::zero(),
            mat_mut(&mut back.dn, n, d),
        );
        layer_norm_backward(
            d,
            &back.dn[..nd],
            (&work.xhat[..nd], &work.rstd[..n]),
            &w[self.n..][..d],
            &mut g[self.n..][..2 * d],
            &mut back.dx[..nd],
            false,
        );
        for (lay, bw) in self.blocks.iter().zip(&work.blocks).rev() {
            block_backward(dm, w, lay, bw, g, back, pack);
        }
        // x = C[ctx] + P: δC[ctx[r]] += δx[r], δP[i] = Σ_b δx[b·t + i]
        g[self.p..][..t * d].fill(T::zero());
        for (row, (&token, dx)) in ctx.iter().zip(back.dx[..nd].chunks_exact(d)).enumerate() {
            axpy(T::one(), dx, &mut g[self.c + token * d..][..d]);
            axpy(T::one(), dx, &mut g[self.p + (row % t) * d..][..d]);
        }
        loss * inv_n
    }

    /// `gradients` and one Adam update (η = 0.001 unless set by
    /// `with_learning_rate`, β₁ = 0.9, β₂ = 0.999, ε = 1e-8), in one pass over each parameter; returns the loss before
    /// the update.
    pub fn train_step(&mut self, ctx: ArrayView2<'_, usize>, next: ArrayView2<'_, usize>) -> T {
        let loss = self.gradients(ctx, next);
        self.step += 1;
        let (beta1, beta2) = (cst::<T>(BETA1), cst::<T>(BETA2));
        let (one_minus1, one_minus2) = (T::one() - beta1, T::one() - beta2);
        // W ← W − η·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)
        let step_size = self.lr / (T::one() - beta1.powi(self.step));
        let inv_correct2 = T::one() / (T::one() - beta2.powi(self.step));
        let eps = cst::<T>(ADAM_EPS);
        for (((w, m), v), &g) in self
            .w
            .iter_mut()
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
            .zip(&self.g)
        {
            *m = beta1 * *m + one_minus1 * g;
            *v = beta2 * *v + one_minus2 * g * g;
            *w -= step_size * *m / ((*v * inv_correct2).sqrt() + eps);
        }
        loss
    }

    /// Forward only: the probabilities p, `[batch, t, v]`, for any batch
    /// (buffers grow, once, for a batch larger than any before).
    pub fn forward(&mut self, ctx: ArrayView2<'_, usize>) -> ArrayView3<'_, T> {
        let Dims { batch, t, v, n, .. } = self.logits(ctx);
        let work = &mut self.work;
        for (z, p) in work.logits[..n * v]
            .chunks_exact(v)
            .zip(work.p.chunks_exact_mut(v))
        {
            let max = z.iter().fold(T::neg_infinity(), |m, &z| m.max(z));
            let mut total = T::zero();
            for (p, &z) in p.iter_mut().zip(z) {
                *p = (z - max).exp();
                total += *p;
            }
            let inv = T::one() / total;
            p.iter_mut().for_each(|p| *p *= inv);
        }
        ArrayView3::from_shape((batch, t, v), &work.p[..n * v]).expect("batch × t × v values")
    }
}
