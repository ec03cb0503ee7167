//! Kernels of version 3's sequences: the rows of a batch of matrices as one
//! matrix, gathers and scatter-adds of table rows, products of each sample's
//! matrices, the causal mask, one-hot targets, sums that undo a broadcast,
//! losses averaged over each sample's rows, and the exact GELU.
//!
//! Every `_into` kernel writes into an array the caller owns and allocates
//! nothing; the arrays generated code makes are in standard layout, which
//! the kernels read as slices where they can.

use ndarray::{
    Array, Array2, ArrayView, ArrayView2, ArrayViewD, ArrayViewMut, ArrayViewMut1, ArrayViewMut2,
    ArrayViewMutD, Axis, CowArray, Dimension, Ix2, NdFloat, ShapeArg, Slice, Zip,
};

/// A batch of matrices (or any array of rank ≥ 2) as one matrix of all its
/// rows, `[B, T, d]` → `[B·T, d]`: a view where the array is in standard
/// layout, a copy otherwise.
pub fn rows<'a, T: Clone, D: Dimension>(a: ArrayView<'a, T, D>) -> CowArray<'a, T, Ix2> {
    let cols = a.shape().last().copied().unwrap_or(1);
    let count = a.len().checked_div(cols).unwrap_or(0);
    flat(a, (count, cols))
}

/// Each sample as one row of all its elements, `[B, T, d]` → `[B, T·d]`:
/// a view where the array is in standard layout, a copy otherwise.
pub fn samples<'a, T: Clone, D: Dimension>(a: ArrayView<'a, T, D>) -> CowArray<'a, T, Ix2> {
    let batch = a.shape().first().copied().unwrap_or(1);
    let per = a.len().checked_div(batch).unwrap_or(0);
    flat(a, (batch, per))
}

fn flat<'a, T: Clone, D: Dimension>(
    a: ArrayView<'a, T, D>,
    shape: (usize, usize),
) -> CowArray<'a, T, Ix2> {
    if a.is_standard_layout() {
        // A view of the same memory (a copy of it only if ndarray cannot).
        if let Ok(view) = a.clone().into_shape_with_order(shape) {
            return CowArray::from(view);
        }
    }
    let standard = Array::from_iter(a.iter().cloned());
    CowArray::from(
        standard
            .into_shape_with_order(shape)
            .expect("as many elements as the shape holds"),
    )
}

/// [`rows`] of an array generated code owns (standard layout), writable.
///
/// # Panics
/// If the array is not in standard layout: generated code never passes one.
pub fn rows_mut<'a, T, D: Dimension>(a: ArrayViewMut<'a, T, D>) -> ArrayViewMut2<'a, T> {
    let cols = a.shape().last().copied().unwrap_or(1);
    let count = a.len().checked_div(cols).unwrap_or(0);
    a.into_shape_with_order((count, cols))
        .expect("generated code's arrays are in standard layout")
}

/// A matrix of rows made by a product back into its batch's shape,
/// `[B·T, m]` → `[B, T, m]`.
///
/// # Panics
/// If the shape holds another number of elements than `a`.
pub fn unrows<T: Clone, E: ShapeArg>(a: Array2<T>, shape: E) -> Array<T, E::Dim> {
    let a = if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    };
    a.into_shape_with_order(shape)
        .expect("a product keeps the batch's number of rows")
}

/// `out` ← the rows of `table` chosen by `index` (`E[i]`): `[V, …]` by
/// `[B, S]` gives `[B, S, …]`, the indices in their logical order. With
/// `each`, every sample has its own table, `[B, V, …]`.
pub fn gather_into<T: Copy>(
    table: ArrayViewD<'_, T>,
    each: bool,
    index: ArrayViewD<'_, usize>,
    out: ArrayViewMutD<'_, T>,
) {
    let mut out = out;
    if !each {
        let table = table_rows(table.view());
        let width = table.ncols();
        let mut out = rows_of(out.view_mut(), width);
        gather_rows(table.view(), index.iter().copied(), out.view_mut());
        return;
    }
    for ((t, i), o) in table
        .outer_iter()
        .zip(index.outer_iter())
        .zip(out.outer_iter_mut())
    {
        gather_into(t, false, i, o);
    }
}

/// A table `[V, …]` as the matrix `[V, w]` of its rows (w = 1 for a vector).
fn table_rows<T: Clone>(table: ArrayViewD<'_, T>) -> CowArray<'_, T, Ix2> {
    let v = table.shape().first().copied().unwrap_or(0);
    let w = table.len().checked_div(v).unwrap_or(0);
    flat(table, (v, w))
}

/// An output of a gather or one-hot, `[…, w]` with w the rows' width, as
/// the matrix of its rows (an output of per-position numbers is `[N, 1]`).
fn rows_of<T>(out: ArrayViewMutD<'_, T>, width: usize) -> ArrayViewMut2<'_, T> {
    let n = out.len().checked_div(width).unwrap_or(0);
    out.into_shape_with_order((n, width))
        .expect("generated code's arrays are in standard layout")
}

fn gather_rows<T: Copy>(
    table: ArrayView2<'_, T>,
    index: impl Iterator<Item = usize>,
    mut out: ArrayViewMut2<'_, T>,
) {
    let w = table.ncols();
    match (table.as_slice(), out.as_slice_mut()) {
        (Some(t), Some(o)) if w > 0 => {
            for (dst, i) in o.chunks_exact_mut(w).zip(index) {
                dst.copy_from_slice(&t[i * w..(i + 1) * w]);
            }
        }
        _ => {
            for (mut dst, i) in out.rows_mut().into_iter().zip(index) {
                dst.assign(&table.row(i));
            }
        }
    }
}

/// `out` ← 0, then each row of `delta` added into the row of `out` that
/// `index` names: the adjoint of [`gather_into`] (a row read twice gets
/// both). With `each`, every sample has its own `out`; without, the rows of
/// every sample add into one table.
pub fn scatter_add_into<T: NdFloat>(
    index: ArrayViewD<'_, usize>,
    delta: ArrayViewD<'_, T>,
    each: bool,
    out: ArrayViewMutD<'_, T>,
) {
    let mut out = out;
    if each {
        for ((i, d), o) in index
            .outer_iter()
            .zip(delta.outer_iter())
            .zip(out.outer_iter_mut())
        {
            scatter_add_into(i, d, false, o);
        }
        return;
    }
    out.fill(T::zero());
    let v = out.shape().first().copied().unwrap_or(0);
    let w = out.len().checked_div(v).unwrap_or(0);
    let mut out = rows_of(out.view_mut(), w);
    let delta = flat(delta, (index.len(), w));
    match (delta.as_slice(), out.as_slice_mut()) {
        (Some(d), Some(o)) if w > 0 => {
            for (src, &i) in d.chunks_exact(w).zip(index.iter()) {
                let dst = &mut o[i * w..(i + 1) * w];
                dst.iter_mut().zip(src).for_each(|(o, &v)| *o += v);
            }
        }
        _ => {
            for (src, &i) in delta.rows().into_iter().zip(index.iter()) {
                let mut dst = out.row_mut(i);
                dst += &src;
            }
        }
    }
}

/// `out` ← s with −∞ above the diagonal (column > row) of each square
/// matrix in its last two axes.
pub fn causal_into<T: NdFloat>(s: ArrayViewD<'_, T>, out: ArrayViewMutD<'_, T>) {
    triangle(s, out, T::neg_infinity());
}

/// `out` ← δ with 0 above the diagonal: the adjoint of [`causal_into`].
pub fn causal_mask_into<T: NdFloat>(delta: ArrayViewD<'_, T>, out: ArrayViewMutD<'_, T>) {
    triangle(delta, out, T::zero());
}

fn triangle<T: NdFloat>(x: ArrayViewD<'_, T>, mut out: ArrayViewMutD<'_, T>, above: T) {
    out.assign(&x);
    let t = out.shape().last().copied().unwrap_or(0);
    let mut rows = rows_of(out.view_mut(), t);
    for (r, mut row) in rows.rows_mut().into_iter().enumerate() {
        let i = r % t.max(1);
        row.iter_mut().skip(i + 1).for_each(|v| *v = above);
    }
}

/// `out` ← the one-hot vector of each index in `index` (in their logical
/// order): `[B, S]` in `0..V` gives `[B, S, V]`.
pub fn one_hot_into<T: NdFloat>(index: ArrayViewD<'_, usize>, mut out: ArrayViewMutD<'_, T>) {
    out.fill(T::zero());
    let v = out.shape().last().copied().unwrap_or(0);
    let mut rows = rows_of(out.view_mut(), v);
    for (mut row, &i) in rows.rows_mut().into_iter().zip(index.iter()) {
        row[i] = T::one();
    }
}

/// `dst` ← `src` summed down to `dst`'s shape, the sum that undoes a
/// broadcast: both have the same number of axes, and along each `dst` has
/// `src`'s length or 1 (summed). Runs of summed leading or trailing axes of
/// standard-layout arrays go through slices.
pub fn sum_into<T: NdFloat>(src: ArrayViewD<'_, T>, mut dst: ArrayViewMutD<'_, T>) {
    dst.fill(T::zero());
    add_into(src, dst);
}

fn add_into<T: NdFloat>(src: ArrayViewD<'_, T>, mut dst: ArrayViewMutD<'_, T>) {
    let n = src.ndim();
    let summed = |k: usize| dst.shape()[k] == 1 && src.shape()[k] != 1;
    let Some(first) = (0..n).find(|&k| summed(k)) else {
        Zip::from(&mut dst).and(&src).for_each(|d, &s| *d += s);
        return;
    };
    let last = (0..n).rev().find(|&k| summed(k)).unwrap_or(first);
    let contiguous = (first..=last).all(summed);
    if let (true, Some(s), Some(d)) = (contiguous, src.as_slice(), dst.as_slice_mut()) {
        let inner: usize = src.shape()[last + 1..].iter().product();
        let span: usize = src.shape()[first..=last].iter().product();
        if inner == 1 && span > 0 {
            // Trailing axes summed (each row's sum): one sum per block.
            for (block, out) in s.chunks_exact(span).zip(d.iter_mut()) {
                *out += lanes_sum(block);
            }
            return;
        }
        if inner > 0 && span > 0 {
            // Each block of `span · inner` values adds up, `inner` at a time.
            for (block, out) in s.chunks_exact(span * inner).zip(d.chunks_exact_mut(inner)) {
                for part in block.chunks_exact(inner) {
                    out.iter_mut().zip(part).for_each(|(o, &v)| *o += v);
                }
            }
            return;
        }
    }
    let mut d = dst.index_axis_mut(Axis(first), 0).insert_axis(Axis(first));
    for s in src.axis_iter(Axis(first)) {
        add_into(s.insert_axis(Axis(first)), d.view_mut());
    }
}

/// Σ of a slice with eight running sums, so that the loop vectorizes (one
/// sum would fix the order of the additions and keep it scalar).
#[inline]
pub(super) fn lanes_sum<T: NdFloat>(x: &[T]) -> T {
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

/// softmax of each row of the causal scores `s` (`[B·T, T]`, each sample's
/// T rows after one another): row i of a sample over its entries 0..=i, the
/// entries after it 0 — `softmax(causal(s))` without the −∞s.
pub fn softmax_causal_rows_into<T: Erf>(
    s: ArrayView2<'_, T>,
    side: usize,
    mut out: ArrayViewMut2<'_, T>,
) {
    for (r, (si, mut oi)) in s.rows().into_iter().zip(out.rows_mut()).enumerate() {
        let seen = r % side.max(1) + 1;
        let (zi, rest) = (si.slice_axis(Axis(0), Slice::from(..seen)), seen);
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let mut sum = T::zero();
        for (o, &z) in oi.iter_mut().zip(zi.iter()) {
            let e = (z - max).fast_exp();
            *o = e;
            sum += e;
        }
        let inv = T::one() / sum;
        for (j, o) in oi.iter_mut().enumerate() {
            *o = if j < rest { *o * inv } else { T::zero() };
        }
    }
}

/// log_softmax of each row of the causal scores, as
/// [`softmax_causal_rows_into`]: −∞ after each row's entries 0..=i.
pub fn log_softmax_causal_rows_into<T: NdFloat>(
    s: ArrayView2<'_, T>,
    side: usize,
    mut out: ArrayViewMut2<'_, T>,
) {
    for (r, (si, mut oi)) in s.rows().into_iter().zip(out.rows_mut()).enumerate() {
        let seen = r % side.max(1) + 1;
        let zi = si.slice_axis(Axis(0), Slice::from(..seen));
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        for (j, o) in oi.iter_mut().enumerate() {
            *o = if j < seen {
                si[j] - max - log_sum
            } else {
                T::neg_infinity()
            };
        }
    }
}

/// The fused cross-entropy of softmax on each row of `z` (`[B·T, V]`), averaged
/// over each sample's `group` rows into `out[b]`: a language model's loss of
/// one sample, in nats per position.
pub fn softmax_cross_entropy_rows_into<T: NdFloat>(
    z: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    group: usize,
    mut out: ArrayViewMut1<'_, T>,
) {
    let per_row = |i: usize| {
        let (zi, ti) = (z.row(i), t.row(i));
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        Zip::from(&zi)
            .and(&ti)
            .fold(T::zero(), |s, &z, &t| s - t * (z - max - log_sum))
    };
    let scale = T::one() / T::from(group.max(1)).unwrap_or_else(T::one);
    for (b, o) in out.iter_mut().enumerate() {
        let total = (b * group..(b + 1) * group).fold(T::zero(), |s, i| s + per_row(i));
        *o = total * scale;
    }
}

/// softmax of each row of `z` into `y` and the fused cross-entropy, averaged
/// over each sample's `group` rows, into `loss`: one pass of e^(z − max)
/// serves both.
pub fn softmax_rows_and_cross_entropy_rows_into<T: NdFloat>(
    z: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    group: usize,
    mut y: ArrayViewMut2<'_, T>,
    mut loss: ArrayViewMut1<'_, T>,
) {
    super::softmax_rows_into(z, y.view_mut());
    let scale = T::one() / T::from(group.max(1)).unwrap_or_else(T::one);
    for (b, l) in loss.iter_mut().enumerate() {
        let mut total = T::zero();
        for i in b * group..(b + 1) * group {
            // −Σ t ln y, with ln y = z − max − ln Σ e^(z − max) (y may underflow).
            let zi = z.row(i);
            let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
            let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
            total = Zip::from(&zi)
                .and(&t.row(i))
                .fold(total, |s, &z, &t| s - t * (z - max - log_sum));
        }
        *l = total * scale;
    }
}

/// The negative log-likelihood of each row of log-probabilities:
/// −Σ t · lp per row (one row per sample).
pub fn nll<T: NdFloat>(lp: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> ndarray::Array1<T> {
    let mut out = ndarray::Array1::zeros(lp.nrows().max(t.nrows()));
    nll_into(lp, t, out.view_mut());
    out
}

/// [`nll`] into `out`.
pub fn nll_into<T: NdFloat>(
    lp: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    mut out: ArrayViewMut1<'_, T>,
) {
    for (i, o) in out.iter_mut().enumerate() {
        let li = lp.row(i.min(lp.nrows() - 1));
        let ti = t.row(i.min(t.nrows() - 1));
        *o = -Zip::from(&li)
            .and(&ti)
            .fold(T::zero(), |s, &l, &t| s + t * l);
    }
}

/// The special functions of the sequence kernels: the error function (the
/// exact GELU) and an exponential whose loops vectorize (the softmax of
/// attention's rows, GELU's derivative).
pub trait Erf: NdFloat {
    /// erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt
    fn erf(self) -> Self;
    /// eˣ: the standard library's in f64; in f32 a polynomial on the
    /// reduced argument (Cephes's), within 2 ulps, with no call to libm, so
    /// that a loop over it vectorizes.
    fn fast_exp(self) -> Self;
}

impl Erf for f64 {
    #[inline]
    fn erf(self) -> f64 {
        libm::erf(self)
    }

    #[inline]
    fn fast_exp(self) -> f64 {
        self.exp()
    }
}

impl Erf for f32 {
    /// eˣ = 2ⁿ·e^r, n = round(x / ln 2), r = x − n ln 2 (in two parts), e^r
    /// by Cephes's polynomial; 0 below about −87.3 (the least normal f32),
    /// +∞ above about 88.7.
    #[inline]
    fn fast_exp(self) -> f32 {
        // NaN passes through the clamp; the selects below keep it (no branch).
        let x = self.clamp(-87.336_54, 88.722_84);
        // Round to nearest by the magic 1.5·2²³ (no call: `round` is one
        // without SSE4.1).
        const MAGIC: f32 = 12_582_912.0;
        let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
        let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
        let mut p = 1.987_569_1e-4_f32;
        p = p * r + 1.398_199_9e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 5e-1;
        let e = p * r * r + r + 1.0;
        let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
        let value = e * scale;
        let value = if self > 88.722_84 {
            f32::INFINITY
        } else {
            value
        };
        let value = if self < -87.336_54 { 0.0 } else { value };
        if self.is_nan() {
            self
        } else {
            value
        }
    }

    /// A rational approximation on [−4, 4] (erf is ±1 to f32 precision
    /// beyond), accurate to a few ulps: the form Eigen and XLA use, with
    /// no branch, so that loops over it vectorize.
    #[inline]
    fn erf(self) -> f32 {
        let x = self.clamp(-4.0, 4.0);
        let x2 = x * x;
        // Plain multiply-adds: `mul_add` without the FMA target feature is a
        // call into libm, which would stop the loop vectorizing.
        let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
        p = x2 * p - 2.101_024e-6;
        p = x2 * p - 5.692_506_4e-5;
        p = x2 * p - 7.349_906_3e-4;
        p = x2 * p - 2.954_600_5e-3;
        p = x2 * p - 1.609_603_4e-2;
        let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
        q = x2 * q - 1.682_827e-3;
        q = x2 * q - 7.373_329_5e-3;
        q = x2 * q - 1.426_474e-2;
        x * p / q
    }
}

/// gelu(x) = x·Φ(x) = ½ x (1 + erf(x/√2)): the exact GELU, as PyTorch's
/// `nn.GELU()`.
#[inline]
pub fn gelu<T: Erf>(x: T) -> T {
    let half = T::from(0.5).unwrap_or_else(T::one);
    let r = T::from(std::f64::consts::FRAC_1_SQRT_2).unwrap_or_else(T::one);
    half * x * (T::one() + (x * r).erf())
}

/// gelu′(x) = Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π) the normal density.
#[inline]
pub fn gelu_derivative<T: Erf>(x: T) -> T {
    let half = T::from(0.5).unwrap_or_else(T::one);
    let r = T::from(std::f64::consts::FRAC_1_SQRT_2).unwrap_or_else(T::one);
    let density = T::from(0.398_942_280_401_432_7).unwrap_or_else(T::one);
    half * (T::one() + (x * r).erf()) + x * density * (-half * x * x).fast_exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array3, ArrayD, IxDyn};

    #[test]
    fn the_f32_erf_agrees_with_libm() {
        let mut worst = 0.0f64;
        for i in -6000..=6000 {
            let x = i as f32 * 0.001;
            let exact = libm::erf(f64::from(x));
            let got = f64::from(Erf::erf(x));
            worst = worst.max((got - exact).abs());
        }
        // A few ulps: an ulp of f32 near 1 is 1.2e-7.
        assert!(worst < 5e-7, "largest error {worst:e}");
    }

    #[test]
    fn the_f32_fast_exp_is_within_two_ulps() {
        let mut worst = 0.0f64;
        for i in -87_000..=88_000 {
            let x = i as f32 * 0.001;
            let exact = f64::from(x).exp();
            let got = f64::from(Erf::fast_exp(x));
            worst = worst.max(((got - exact) / exact).abs());
        }
        // Two ulps of f32 are 2.4e-7 relative.
        assert!(worst < 2.4e-7, "largest relative error {worst:e}");
        assert_eq!(Erf::fast_exp(-100.0f32), 0.0);
        assert_eq!(Erf::fast_exp(100.0f32), f32::INFINITY);
        assert!(Erf::fast_exp(f32::NAN).is_nan());
        assert_eq!(Erf::fast_exp(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn gelu_and_its_derivative_agree_with_differences() {
        for x in [-6.0, -3.0, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5, 8.0] {
            let h = 1e-6;
            let numeric: f64 = (gelu(x + h) - gelu(x - h)) / (2.0 * h);
            assert!((gelu_derivative(x) - numeric).abs() < 1e-8, "at {x}");
        }
        assert!((gelu(1.0f64) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert_eq!(gelu(-40.0f64), 0.0);
        assert!((gelu(3.0f32) - 2.995_950_3).abs() < 1e-6);
    }

    #[test]
    fn gathers_and_scatter_adds_are_adjoint() {
        let table = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let index = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![2usize, 0, 2, 2]).unwrap();
        let mut out = Array3::zeros((2, 2, 2));
        gather_into(
            table.view().into_dyn(),
            false,
            index.view(),
            out.view_mut().into_dyn(),
        );
        let out = out.into_shape_with_order((4, 2)).unwrap();
        assert_eq!(out, array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0], [5.0, 6.0]]);
        let delta = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]];
        let mut grad = Array2::from_elem((3, 2), 9.0);
        let delta3 = delta.clone().into_shape_with_order((2, 2, 2)).unwrap();
        scatter_add_into(
            index.view(),
            delta3.view().into_dyn(),
            false,
            grad.view_mut().into_dyn(),
        );
        // Row 2 is read three times: it gets all three δ's.
        assert_eq!(grad, array![[2.0, 2.0], [0.0, 0.0], [8.0, 8.0]]);
        // ⟨gather(E), δ⟩ = ⟨E, scatter_add(δ)⟩
        let lhs = (&out * &delta).sum();
        let rhs = (&table * &grad).sum();
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn sums_undo_broadcasts_along_any_axes() {
        let src = Array3::from_shape_fn((2, 3, 4), |(b, t, d)| (b * 12 + t * 4 + d) as f64);
        for keep in [
            [true, true, false],
            [false, false, true],
            [false, true, true],
            [true, false, true],
            [false, false, false],
        ] {
            let shape: Vec<usize> = keep
                .iter()
                .zip(src.shape())
                .map(|(k, n)| if *k { *n } else { 1 })
                .collect();
            let mut dst = ArrayD::zeros(IxDyn(&shape));
            sum_into(src.view().into_dyn(), dst.view_mut());
            let mut expected = src.clone().into_dyn();
            for axis in (0..3).rev() {
                if !keep[axis] {
                    expected = expected.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                }
            }
            assert_eq!(dst, expected, "keeping {keep:?}");
            // Through the general path too: a transposed source.
            let t = src.view().reversed_axes();
            let shape_t: Vec<usize> = shape.iter().rev().copied().collect();
            let mut dst_t = ArrayD::zeros(IxDyn(&shape_t));
            sum_into(t.into_dyn(), dst_t.view_mut());
            assert_eq!(
                dst_t,
                expected.view().reversed_axes(),
                "transposed, keeping {keep:?}"
            );
        }
    }

    #[test]
    fn causal_softmax_is_softmax_of_the_masked_scores() {
        let s = Array2::from_shape_fn((6, 3), |(r, j)| (r * 3 + j) as f64 * 0.37 - 2.0);
        let mut masked = ArrayD::zeros(IxDyn(&[2, 3, 3]));
        causal_into(
            s.clone()
                .into_shape_with_order((2, 3, 3))
                .unwrap()
                .into_dyn()
                .view(),
            masked.view_mut(),
        );
        let masked = masked.into_shape_with_order((6, 3)).unwrap();
        let (mut want, mut got) = (Array2::zeros((6, 3)), Array2::zeros((6, 3)));
        crate::runtime::softmax_rows_into(masked.view(), want.view_mut());
        softmax_causal_rows_into(s.view(), 3, got.view_mut());
        assert!((&want - &got).iter().all(|d| d.abs() < 1e-15), "{got}");
        crate::runtime::log_softmax_rows_into(masked.view(), want.view_mut());
        log_softmax_causal_rows_into(s.view(), 3, got.view_mut());
        for (w, g) in want.iter().zip(&got) {
            assert!(w == g || (w - g).abs() < 1e-15, "{w} {g}");
        }
    }

    #[test]
    fn the_causal_mask_and_its_adjoint() {
        let s = Array3::from_elem((1, 3, 3), 2.0);
        let mut out = Array3::zeros((1, 3, 3));
        causal_into(s.view().into_dyn(), out.view_mut().into_dyn());
        assert_eq!(out[[0, 0, 1]], f64::NEG_INFINITY);
        assert_eq!(out[[0, 2, 1]], 2.0);
        causal_mask_into(s.view().into_dyn(), out.view_mut().into_dyn());
        assert_eq!(
            out.index_axis(Axis(0), 0),
            array![[2.0, 0.0, 0.0], [2.0, 2.0, 0.0], [2.0, 2.0, 2.0]]
        );
    }

    #[test]
    fn rows_of_a_batch_as_one_matrix() {
        let a = Array3::from_shape_fn((2, 3, 4), |(b, t, d)| (b * 12 + t * 4 + d) as f64);
        assert_eq!(rows(a.view()).shape(), &[6, 4]);
        assert_eq!(rows(a.view())[[5, 3]], 23.0);
        // Not in standard layout: copied in logical order.
        let t = a.view().permuted_axes([1, 0, 2]);
        assert_eq!(rows(t)[[1, 0]], 12.0);
        assert_eq!(samples(a.view()).shape(), &[2, 12]);
        let back: Array3<f64> = unrows(rows(a.view()).into_owned(), (2, 3, 4));
        assert_eq!(back, a);
    }
}
