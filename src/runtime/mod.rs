//! What generated code calls: batch checks, numerically careful kernels,
//! initializers and optimizer updates.
//!
//! These are small and named after the math so that the generated code reads
//! like the derivation; they are public because generated code lives in the
//! user's crate.

mod batched;
mod conv;
mod dropout;
mod gemm;
mod gradcheck;
pub mod init;
mod network;
mod norm;
mod optim;
mod packed;
mod pool;
mod sample;
mod sequence;
pub mod weights;

use ndarray::{
    Array1, Array2, ArrayBase, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Data,
    Dimension, NdFloat, Zip,
};

pub use batched::batch_matmul_into;
pub use conv::*;
pub use dropout::dropout_mask_into;
pub use gemm::{gemm, gemm_with, gemv, matmul, SMALL_PRODUCT};
pub use gradcheck::{gradcheck, Comparison, GradcheckReport};
pub use init::{Rng, DEFAULT_SEED};
pub use network::{argument, indices, Arg, AsArg, Gradients, Network};
pub use norm::feature_mean_into;
pub use optim::{Adam, Momentum, Sgd};
pub use packed::Packing;
pub use pool::*;
pub use sample::*;
pub use sequence::*;

use crate::error::Error;

/// Scratch space inside a generated network: cloned with it, but never part
/// of its value (two networks that differ only in scratch are equal).
#[derive(Clone, Default)]
pub struct Scratch<W>(pub W);

impl<W> PartialEq for Scratch<W> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<W> std::fmt::Debug for Scratch<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// A workspace that methods taking `&self` borrow (`forward`): behind a
/// lock, so that a network shared between threads stays `Sync`; a call that
/// finds it in use works in a fresh one instead of waiting. Cloned as a
/// fresh one, and never part of the network's value.
#[derive(Default)]
pub struct Shared<W>(std::sync::Mutex<Option<Box<W>>>);

impl<W> Shared<W> {
    /// The workspace, if no other call holds it.
    pub fn take(&self) -> Option<Box<W>> {
        self.0.try_lock().ok().and_then(|mut w| w.take())
    }

    /// Gives the workspace back for the next call.
    pub fn put(&self, workspace: Box<W>) {
        if let Ok(mut w) = self.0.try_lock() {
            *w = Some(workspace);
        }
    }
}

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(std::sync::Mutex::new(None))
    }
}

impl<W> PartialEq for Shared<W> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<W> std::fmt::Debug for Shared<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

/// Checks the arguments of one call against the network's shapes and agrees
/// on the batch size.
#[derive(Debug, Clone)]
pub struct Batch {
    network: &'static str,
    rows: Option<usize>,
}

impl Batch {
    /// Starts checking the arguments of a call to `network`.
    pub fn new(network: &'static str) -> Self {
        Batch {
            network,
            rows: None,
        }
    }

    /// Checks one argument: a batch of per-sample values of shape `per_sample`.
    #[inline]
    pub fn check(
        &mut self,
        argument: &'static str,
        actual: &[usize],
        per_sample: &[usize],
    ) -> Result<(), Error> {
        let rows = actual.first().copied();
        // Element by element: a tiny network's step is short enough that a
        // call to memcmp shows.
        let fits = actual.len() == per_sample.len() + 1
            && actual[1..].iter().zip(per_sample).all(|(a, b)| a == b);
        let rows_agree = match (self.rows, rows) {
            (Some(expected), Some(got)) => expected == got,
            _ => true,
        };
        if !fits || !rows_agree {
            return Err(self.mismatch(argument, actual, per_sample));
        }
        self.rows = rows;
        Ok(())
    }

    /// The error of an argument that [`Batch::check`] refused.
    #[cold]
    fn mismatch(&self, argument: &'static str, actual: &[usize], per_sample: &[usize]) -> Error {
        let batch = match self.rows {
            Some(n) => n.to_string(),
            None => "batch".to_string(),
        };
        let mut expected: Vec<String> = vec![batch];
        expected.extend(per_sample.iter().map(usize::to_string));
        Error::Shape {
            network: self.network,
            argument,
            expected: format!("[{}]", expected.join(", ")),
            actual: format!("{actual:?}"),
        }
    }

    /// Checks an argument of indices: its shape as [`Batch::check`] does,
    /// then that every index is in `0..range`. The error names the sample,
    /// the position within it and the value.
    pub fn check_indices<D: Dimension>(
        &mut self,
        argument: &'static str,
        indices: &ndarray::ArrayView<'_, usize, D>,
        per_sample: &[usize],
        range: usize,
    ) -> Result<(), Error> {
        self.check(argument, indices.shape(), per_sample)?;
        let fits = match indices.as_slice() {
            Some(all) => all.iter().all(|&i| i < range),
            None => indices.iter().all(|&i| i < range),
        };
        if fits {
            return Ok(());
        }
        Err(self.out_of_range(argument, indices.view().into_dyn(), range))
    }

    /// The error of an argument that [`Batch::check_indices`] refused: the
    /// first index out of range.
    #[cold]
    fn out_of_range(
        &self,
        argument: &'static str,
        indices: ndarray::ArrayViewD<'_, usize>,
        range: usize,
    ) -> Error {
        let sequence = indices.ndim() > 1;
        let (mut sample, mut position, mut value) = (0, None, 0);
        for (b, row) in indices.outer_iter().enumerate() {
            if let Some((p, &v)) = row.iter().enumerate().find(|(_, &v)| v >= range) {
                (sample, value) = (b, v);
                position = sequence.then_some(p);
                break;
            }
        }
        Error::Index {
            network: self.network,
            argument,
            sample,
            position,
            value,
            range,
        }
    }

    /// Checks an output array the caller owns: one row per sample of the
    /// batch, then the per-sample shape.
    pub fn check_output(
        &self,
        output: &'static str,
        actual: &[usize],
        per_sample: &[usize],
    ) -> Result<(), Error> {
        let rows = self.rows.unwrap_or(0);
        if actual.first() == Some(&rows) && actual[1..] == *per_sample {
            return Ok(());
        }
        let mut expected = vec![rows];
        expected.extend_from_slice(per_sample);
        self.check_fixed(output, actual, &expected)
    }

    /// Checks an array the caller owns against a fixed shape (element by
    /// element: no call to memcmp).
    #[inline]
    pub fn check_fixed(
        &self,
        argument: &'static str,
        actual: &[usize],
        expected: &[usize],
    ) -> Result<(), Error> {
        if actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| a == e) {
            return Ok(());
        }
        Err(self.not_fixed(argument, actual, expected))
    }

    /// The error of an array that [`Batch::check_fixed`] refused.
    #[cold]
    fn not_fixed(&self, argument: &'static str, actual: &[usize], expected: &[usize]) -> Error {
        Error::Shape {
            network: self.network,
            argument,
            expected: format!("{expected:?}"),
            actual: format!("{actual:?}"),
        }
    }

    /// Refuses an empty batch (a mean over no samples).
    pub fn require_samples(&self) -> Result<(), Error> {
        match self.rows {
            Some(n) if n > 0 => Ok(()),
            _ => Err(Error::EmptyBatch {
                network: self.network,
            }),
        }
    }

    /// The number of samples (0 before any argument was checked).
    pub fn samples(&self) -> usize {
        self.rows.unwrap_or(0)
    }
}

/// σ(x) = 1 / (1 + e^(−x)): one exponential and one division, the form a
/// careful hand-written program uses.
///
/// Safe for every x: below about −88 (f32) e^(−x) overflows to +∞ and
/// 1 / (1 + ∞) is 0, the limit (the true value would be subnormal); above,
/// e^(−x) goes to 0 and σ to 1. Accurate to a few ulps everywhere else.
#[inline]
pub fn sigmoid<T: NdFloat>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// softplus(x) = ln(1 + eˣ), without overflow for large x.
pub fn softplus<T: NdFloat>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// The outer product a bᵀ.
pub fn outer<T: NdFloat>(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>) -> Array2<T> {
    let a = a.insert_axis(Axis(1));
    let b = b.insert_axis(Axis(0));
    a.dot(&b)
}

/// softmax of one vector, shifted by its maximum so that eˣ cannot overflow.
pub fn softmax<T: NdFloat>(z: ArrayView1<'_, T>) -> Array1<T> {
    let mut out = Array1::zeros(z.len());
    softmax_into(z, out.view_mut());
    out
}

/// softmax of each row.
pub fn softmax_rows<T: NdFloat>(z: ArrayView2<'_, T>) -> Array2<T> {
    let mut out = Array2::zeros(z.raw_dim());
    softmax_rows_into(z, out.view_mut());
    out
}

/// softmax of one vector, into `out`.
pub fn softmax_into<T: NdFloat>(z: ArrayView1<'_, T>, out: ArrayViewMut1<'_, T>) {
    softmax_rows_into(z.insert_axis(Axis(0)), out.insert_axis(Axis(0)));
}

/// softmax of each row, into `out`, allocating nothing.
pub fn softmax_rows_into<T: NdFloat>(z: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>) {
    let n = z.ncols();
    if let (Some(zs), Some(os), true) = (z.as_slice(), out.as_slice_mut(), n > 0) {
        for (zi, oi) in zs.chunks_exact(n).zip(os.chunks_exact_mut(n)) {
            softmax_row(zi, oi);
        }
        return;
    }
    for (zi, oi) in z.rows().into_iter().zip(out.rows_mut()) {
        softmax_row_view(zi, oi);
    }
}

/// [`softmax_row`] for rows that are not contiguous slices.
fn softmax_row_view<T: NdFloat>(z: ArrayView1<'_, T>, mut y: ArrayViewMut1<'_, T>) -> (T, T) {
    let max = z.fold(T::neg_infinity(), |m, &v| m.max(v));
    Zip::from(&mut y)
        .and(&z)
        .for_each(|o, &v| *o = (v - max).exp());
    let sum = y.sum();
    y.mapv_inplace(|v| v / sum);
    (max, sum)
}

/// softmax of one contiguous row into `y`; returns the row's maximum and
/// Σ e^(z − max), from which its log-sum-exp follows.
fn softmax_row<T: NdFloat>(z: &[T], y: &mut [T]) -> (T, T) {
    let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    y.iter_mut().zip(z).for_each(|(o, &v)| *o = (v - max).exp());
    let sum = y.iter().fold(T::zero(), |s, &v| s + v);
    y.iter_mut().for_each(|v| *v /= sum);
    (max, sum)
}

/// log softmax of one vector: z − max − ln Σ e^(z − max).
pub fn log_softmax<T: NdFloat>(z: ArrayView1<'_, T>) -> Array1<T> {
    let mut out = Array1::zeros(z.len());
    log_softmax_into(z, out.view_mut());
    out
}

/// log softmax of each row, by log-sum-exp: finite for any finite z.
pub fn log_softmax_rows<T: NdFloat>(z: ArrayView2<'_, T>) -> Array2<T> {
    let mut out = Array2::zeros(z.raw_dim());
    log_softmax_rows_into(z, out.view_mut());
    out
}

/// log softmax of one vector, into `out`.
pub fn log_softmax_into<T: NdFloat>(z: ArrayView1<'_, T>, out: ArrayViewMut1<'_, T>) {
    log_softmax_rows_into(z.insert_axis(Axis(0)), out.insert_axis(Axis(0)));
}

/// log softmax of each row, into `out`, allocating nothing.
pub fn log_softmax_rows_into<T: NdFloat>(z: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>) {
    for (zi, mut oi) in z.rows().into_iter().zip(out.rows_mut()) {
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        Zip::from(&mut oi)
            .and(&zi)
            .for_each(|o, &v| *o = v - max - log_sum);
    }
}

/// Σ over each row (each sample's elements), into `out`.
pub fn sum_rows_into<T: NdFloat>(x: ArrayView2<'_, T>, mut out: ArrayViewMut1<'_, T>) {
    match x.as_slice() {
        Some(data) if x.ncols() > 0 => {
            for (row, o) in data.chunks_exact(x.ncols()).zip(out.iter_mut()) {
                *o = row.iter().fold(T::zero(), |s, &v| s + v);
            }
        }
        _ => {
            for (row, o) in x.rows().into_iter().zip(out.iter_mut()) {
                *o = row.sum();
            }
        }
    }
}

/// Σ over each column (over the batch), into `out`.
pub fn sum_columns_into<T: NdFloat>(x: ArrayView2<'_, T>, out: ArrayViewMut1<'_, T>) {
    add_column_sums(T::one(), x, T::zero(), out);
}

/// out ← β·out + α·Σ over each column (over the batch): a bias gradient, or
/// with β = 1 and α = −η/N the SGD update of a bias folded into its sum.
pub fn add_column_sums<T: NdFloat>(
    alpha: T,
    x: ArrayView2<'_, T>,
    beta: T,
    mut out: ArrayViewMut1<'_, T>,
) {
    if beta == T::zero() {
        out.fill(T::zero());
    } else if beta != T::one() {
        out.mapv_inplace(|v| v * beta);
    }
    let n = x.ncols();
    match (x.as_slice(), out.as_slice_mut()) {
        // Contiguous rows: plain slices, no view per row.
        (Some(x), Some(out)) if n > 0 => {
            for row in x.chunks_exact(n) {
                out.iter_mut().zip(row).for_each(|(o, &v)| *o += alpha * v);
            }
        }
        _ => {
            for row in x.rows() {
                Zip::from(&mut out)
                    .and(&row)
                    .for_each(|o, &v| *o += alpha * v);
            }
        }
    }
}

/// A per-row loss: allocating, and into a given array.
macro_rules! row_loss {
    ($(#[$doc:meta])* $name:ident, $into:ident, |$y:ident, $t:ident| $term:expr, $finish:expr) => {
        $(#[$doc])*
        pub fn $name<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
            let mut out = Array1::zeros(y.nrows().max(t.nrows()));
            $into(y, t, out.view_mut());
            out
        }

        $(#[$doc])*
        ///
        /// Into `out`, one entry per row, allocating nothing.
        pub fn $into<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>, out: ArrayViewMut1<'_, T>) {
            let finish: fn(T, usize) -> T = $finish;
            per_row_into(y, t, out, |$y: T, $t: T| $term, finish);
        }
    };
}

row_loss!(
    /// mean((y − t)²) of each row: the mean squared error.
    mse, mse_into, |y, t| (y - t) * (y - t), |s, n| s / T::from(n).expect("a count converts")
);
row_loss!(
    /// −Σ [t ln y + (1 − t) ln(1 − y)] of each row, for probabilities y.
    binary_cross_entropy, binary_cross_entropy_into,
    |y, t| -(t * y.ln() + (T::one() - t) * (T::one() - y).ln()), |s, _| s
);
row_loss!(
    /// binary_cross_entropy(σ(z), t) of each row from the logits z, as
    /// Σ softplus(z) − t·z: finite for any finite z.
    sigmoid_binary_cross_entropy, sigmoid_binary_cross_entropy_into, |z, t| softplus(z) - t * z, |s, _| s
);
row_loss!(
    /// ½ Σ (y − t)² of each row: the sum of squared errors.
    sse, sse_into, |y, t| (y - t) * (y - t), |s, _| s * T::from(0.5).expect("0.5 is a float")
);
row_loss!(
    /// −Σ t ln y of each row: cross-entropy of a probability vector y.
    cross_entropy, cross_entropy_into, |y, t| -(t * y.ln()), |s, _| s
);

/// −Σ t ln softmax(z) of each row, computed from the logits z by
/// log-sum-exp: ln softmax(z)ᵢ = zᵢ − max − ln Σ e^(z − max). Finite for any
/// finite z.
pub fn softmax_cross_entropy<T: NdFloat>(z: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    let mut out = Array1::zeros(z.nrows().max(t.nrows()));
    softmax_cross_entropy_into(z, t, out.view_mut());
    out
}

/// [`softmax_cross_entropy`] into `out`, allocating nothing.
pub fn softmax_cross_entropy_into<T: NdFloat>(
    z: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    mut out: ArrayViewMut1<'_, T>,
) {
    for (i, o) in out.iter_mut().enumerate() {
        let zi = z.row(i.min(z.nrows() - 1));
        let ti = t.row(i.min(t.nrows() - 1));
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        *o = Zip::from(&zi)
            .and(&ti)
            .fold(T::zero(), |s, &z, &t| s - t * (z - max - log_sum));
    }
}

/// softmax of each row into `y` and, from the same exponentials, the fused
/// cross-entropy of each row into `loss` (as [`softmax_cross_entropy_into`]:
/// −Σ t (z − max − ln Σ e^(z − max)), finite for any finite z). One pass of
/// e^(z − max) serves both, where the two kernels apart would take two.
pub fn softmax_rows_and_cross_entropy_into<T: NdFloat>(
    z: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    mut y: ArrayViewMut2<'_, T>,
    mut loss: ArrayViewMut1<'_, T>,
) {
    let n = z.ncols();
    if let (Some(zs), Some(ts), Some(ys), true) = (
        z.as_slice(),
        t.as_slice(),
        y.as_slice_mut(),
        n > 0 && t.ncols() == n,
    ) {
        // Contiguous rows: plain slices, no view per row.
        let rows = zs.chunks_exact(n).zip(ts.chunks_exact(n));
        for (((zi, ti), yi), l) in rows.zip(ys.chunks_exact_mut(n)).zip(loss.iter_mut()) {
            let (max, sum) = softmax_row(zi, yi);
            let log_sum = sum.ln();
            *l = zi
                .iter()
                .zip(ti)
                .fold(T::zero(), |s, (&z, &t)| s - t * (z - max - log_sum));
        }
        return;
    }
    let rows = z.rows().into_iter().zip(t.rows()).zip(y.rows_mut());
    for (((zi, ti), yi), l) in rows.zip(loss.iter_mut()) {
        let (max, sum) = softmax_row_view(zi, yi);
        let log_sum = sum.ln();
        *l = Zip::from(&zi)
            .and(&ti)
            .fold(T::zero(), |s, &z, &t| s - t * (z - max - log_sum));
    }
}

/// Σ over each row of f(y, t), then `finish(sum, columns)`, into `out`; a
/// single row pairs with every row of the other side.
fn per_row_into<T: NdFloat>(
    y: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    mut out: ArrayViewMut1<'_, T>,
    f: impl Fn(T, T) -> T,
    finish: fn(T, usize) -> T,
) {
    let columns = y.ncols().max(t.ncols());
    for (i, o) in out.iter_mut().enumerate() {
        let yi = y.row(i.min(y.nrows() - 1));
        let ti = t.row(i.min(t.nrows() - 1));
        *o = finish(
            Zip::from(&yi)
                .and(&ti)
                .fold(T::zero(), |s, &y, &t| s + f(y, t)),
            columns,
        );
    }
}

/// An error unless `value` is finite.
#[inline]
pub fn ensure_finite<T: NdFloat>(network: &'static str, what: &str, value: T) -> Result<(), Error> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFinite {
            network,
            what: what.to_string(),
            value: value.to_f64().unwrap_or(f64::NAN),
        })
    }
}

/// An error unless every element is finite.
pub fn ensure_all_finite<T: NdFloat, S: Data<Elem = T>, D: Dimension>(
    network: &'static str,
    what: &str,
    values: &ArrayBase<S, D>,
) -> Result<(), Error> {
    if all_finite(values) {
        return Ok(());
    }
    match values.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(v) => ensure_finite(network, what, *v),
    }
}

/// Whether every element is finite: Σ 0·v in sixteen running sums, which is
/// 0 for finite values and NaN once any is infinite or NaN. No branch per
/// element, so the loop vectorizes (a search for the first bad value would
/// not), compiled for the CPU's vectors inside `pulp`'s dispatch.
fn all_finite<T: NdFloat, S: Data<Elem = T>, D: Dimension>(values: &ArrayBase<S, D>) -> bool {
    let Some(slice) = values.as_slice_memory_order() else {
        return values.iter().all(|v| v.is_finite());
    };
    struct Check<'a, T>(&'a [T]);
    impl<T: NdFloat> pulp::WithSimd for Check<'_, T> {
        type Output = bool;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> bool {
            let mut sums = [T::zero(); 16];
            let chunks = self.0.chunks_exact(16);
            let tail = chunks
                .remainder()
                .iter()
                .fold(T::zero(), |s, &v| s + v * T::zero());
            for c in chunks {
                for l in 0..16 {
                    sums[l] += c[l] * T::zero();
                }
            }
            sums.iter().fold(tail, |s, &v| s + v).is_finite()
        }
    }
    pulp::Arch::new().dispatch(Check(slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_finite_check_finds_any_bad_value_anywhere() {
        for len in [1usize, 15, 16, 17, 100] {
            let good = Array1::from_elem(len, 1.0e30f32);
            assert!(ensure_all_finite("Net", "x", &good).is_ok());
            for at in [0, len / 2, len - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut v = good.clone();
                    v[at] = bad;
                    let err = ensure_all_finite("Net", "x", &v).unwrap_err();
                    assert!(err.to_string().starts_with("Net: x is not finite"), "{err}");
                }
            }
        }
        // A view that is not contiguous takes the element-by-element path.
        let mut m = Array2::from_elem((4, 4), 0.5f64);
        m[[3, 1]] = f64::NAN;
        assert!(ensure_all_finite("Net", "m", &m.column(1)).is_err());
        assert!(ensure_all_finite("Net", "m", &m.column(2)).is_ok());
    }

    #[test]
    fn sigmoid_and_softplus_stay_finite_at_the_extremes() {
        for x in [-1000.0f64, -50.0, 0.0, 50.0, 1000.0] {
            assert!(sigmoid(x).is_finite() && (0.0..=1.0).contains(&sigmoid(x)));
            assert!(softplus(x).is_finite());
        }
        assert_eq!(sigmoid(0.0f64), 0.5);
        // Relative accuracy in the tail, where σ(x) ≈ eˣ; 0 past overflow.
        assert!((sigmoid(-50.0f64) / (-50.0f64).exp() - 1.0).abs() < 1e-14);
        assert!((sigmoid(-80.0f32) / (-80.0f32).exp() - 1.0).abs() < 1e-6);
        assert_eq!(sigmoid(-100.0f32), 0.0);
        assert_eq!(sigmoid(100.0f32), 1.0);
        assert!((softplus(1000.0f64) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn softmax_cross_entropy_is_finite_for_huge_logits() {
        let z = array![[1000.0f64, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]];
        let t = array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        let l = softmax_cross_entropy(z.view(), t.view());
        assert!(l[0].abs() < 1e-12, "{l}");
        assert!(
            (l[1] - (1.0 + (1.0f64 + (-1.0f64).exp()).ln())).abs() < 1e-9,
            "{l}"
        );
        let y = softmax_rows(z.view());
        assert!(y.iter().all(|v| v.is_finite()));
        assert!((y.row(0).sum() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn losses_match_their_formulas() {
        let y = array![[0.25f64, 0.75]];
        let t = array![[0.0, 1.0]];
        assert_eq!(sse(y.view(), t.view())[0], 0.5 * (0.0625 + 0.0625));
        assert_eq!(cross_entropy(y.view(), t.view())[0], -(0.75f64.ln()));
        // a single row pairs with every row of the other side
        let ts = array![[0.0, 1.0], [1.0, 0.0]];
        assert_eq!(sse(y.view(), ts.view()).len(), 2);
    }

    #[test]
    fn batch_checks_name_the_argument_and_both_shapes() {
        let mut b = Batch::new("Net");
        assert!(b.check("x", &[4, 2], &[2]).is_ok());
        let e = b.check("t", &[3, 1], &[1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Net: the argument `t` has shape [3, 1], expected [4, 1]"
        );
        let e = Batch::new("Net").check("x", &[4], &[2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Net: the argument `x` has shape [4], expected [batch, 2]"
        );
        assert!(Batch::new("Net").require_samples().is_err());
    }
}
