//! Products of each sample's own matrices (`q @ transpose(k)`, `a @ v` and
//! their adjoints): many small products, one per sample, that no packed GEMM
//! pays for. One run-time dispatch for the whole batch; each product runs on
//! contiguous slices with b row-major (a transposed b is copied into the
//! caller's scratch first, once per sample — or once in all, for a matrix the
//! same for every sample), so that the inner loop is rows of b scaled into a
//! row of c: broadcasts and fused multiply-adds on whole registers.

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMutD, Axis, Ix2, NdFloat};

use super::gemm::gemm;
use super::packed::Packing;

/// `out[s]` ← α · op(a[s])·op(b[s]) for each sample s, op transposing where
/// the flag is set. Each operand is a matrix of each sample `[B, m, k]` or one
/// matrix for all `[m, k]`; `out` is `[B, m, n]`, or one matrix `[m, n]`
/// for the products summed over the samples. (A vector is a matrix of one
/// row or one column: generated code inserts the axis.) `pack` lends the
/// scratch space of transposed operands: nothing is allocated once it has
/// seen the sizes.
pub fn batch_matmul_into<T: NdFloat>(
    pack: &mut Packing<T>,
    alpha: T,
    a: ArrayViewD<'_, T>,
    ta: bool,
    b: ArrayViewD<'_, T>,
    tb: bool,
    mut out: ArrayViewMutD<'_, T>,
) {
    let samples = if a.ndim() == 3 {
        a.shape()[0]
    } else {
        b.shape().first().copied().unwrap_or(0)
    };
    let dims = |x: &ArrayViewD<'_, T>| {
        let s = x.shape();
        (s[s.len() - 2], s[s.len() - 1])
    };
    let ((ar, ac), (br, bc)) = (dims(&a), dims(&b));
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    let n = if tb { br } else { bc };
    let sum = out.ndim() == 2;
    match (a.as_slice(), b.as_slice(), out.as_slice_mut()) {
        (Some(a_all), Some(b_all), Some(c_all)) => {
            let job = Job {
                alpha,
                a: a_all,
                a_each: a.ndim() == 3,
                ta,
                b: b_all,
                b_each: b.ndim() == 3,
                tb,
                c: c_all,
                sum,
                samples,
                dims: (m, k, n),
                scratch: pack.scratch(k * n),
            };
            pulp::Arch::new().dispatch(job);
        }
        _ => general(alpha, a, ta, b, tb, out, samples),
    }
}

/// Any layout: each sample's product by [`gemm`].
fn general<T: NdFloat>(
    alpha: T,
    a: ArrayViewD<'_, T>,
    ta: bool,
    b: ArrayViewD<'_, T>,
    tb: bool,
    mut out: ArrayViewMutD<'_, T>,
    samples: usize,
) {
    fn at<'x, T>(x: &ArrayViewD<'x, T>, s: usize, t: bool) -> ArrayView2<'x, T> {
        let x = if x.ndim() == 3 {
            x.clone().index_axis_move(Axis(0), s)
        } else {
            x.clone()
        };
        let x = x.into_dimensionality::<Ix2>().expect("a matrix");
        if t {
            x.reversed_axes()
        } else {
            x
        }
    }
    if out.ndim() == 3 {
        for (s, o) in out.outer_iter_mut().enumerate() {
            let o = o.into_dimensionality::<Ix2>().expect("a matrix");
            gemm(alpha, at(&a, s, ta), at(&b, s, tb), T::zero(), o);
        }
    } else {
        out.fill(T::zero());
        let mut o = out.into_dimensionality::<Ix2>().expect("a matrix");
        for s in 0..samples {
            gemm(
                T::one(),
                at(&a, s, ta),
                at(&b, s, tb),
                T::one(),
                o.view_mut(),
            );
        }
    }
}

/// The products of a batch on contiguous slices.
struct Job<'a, T> {
    alpha: T,
    a: &'a [T],
    a_each: bool,
    ta: bool,
    b: &'a [T],
    b_each: bool,
    tb: bool,
    c: &'a mut [T],
    sum: bool,
    samples: usize,
    dims: (usize, usize, usize),
    scratch: &'a mut [T],
}

impl<T: NdFloat> pulp::WithSimd for Job<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Job {
            alpha,
            a,
            a_each,
            ta,
            b,
            b_each,
            tb,
            c,
            sum,
            samples,
            dims: (m, k, n),
            scratch,
        } = self;
        if sum {
            c.iter_mut().for_each(|v| *v = T::zero());
        }
        // A transposed b the same for every sample is copied once.
        if tb && !b_each {
            transpose(b, n, k, scratch);
        }
        for s in 0..samples {
            let a_s = if a_each {
                &a[s * m * k..(s + 1) * m * k]
            } else {
                a
            };
            let b_s: &[T] = match (tb, b_each) {
                (false, true) => &b[s * k * n..(s + 1) * k * n],
                (false, false) => b,
                (true, true) => {
                    transpose(&b[s * k * n..(s + 1) * k * n], n, k, scratch);
                    scratch
                }
                (true, false) => scratch,
            };
            let c_s = if sum {
                &mut c[..]
            } else {
                &mut c[s * m * n..(s + 1) * m * n]
            };
            if !sum {
                c_s.iter_mut().for_each(|v| *v = T::zero());
            }
            product(alpha, a_s, ta, b_s, c_s, (m, k, n));
        }
    }
}

/// `out` (k×n, row-major) ← the transpose of `x` (n×k, row-major).
#[inline(always)]
fn transpose<T: Copy>(x: &[T], rows: usize, cols: usize, out: &mut [T]) {
    for (i, row) in x.chunks_exact(cols).take(rows).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j * rows + i] = v;
        }
    }
}

/// c += α·op(a)·b, b row-major k×n: for each row of c, the rows of b scaled
/// by that row of op(a), four at a time (c read and written once per four
/// rows of b).
#[inline(always)]
fn product<T: NdFloat>(
    alpha: T,
    a: &[T],
    ta: bool,
    b: &[T],
    c: &mut [T],
    (m, k, n): (usize, usize, usize),
) {
    let a_at = |i: usize, p: usize| alpha * if ta { a[p * m + i] } else { a[i * k + p] };
    let whole = k - k % 4;
    for (i, c_row) in c.chunks_exact_mut(n).enumerate().take(m) {
        let mut p = 0;
        while p < whole {
            let s = [a_at(i, p), a_at(i, p + 1), a_at(i, p + 2), a_at(i, p + 3)];
            let rows = &b[p * n..(p + 4) * n];
            let (b0, rest) = rows.split_at(n);
            let (b1, rest) = rest.split_at(n);
            let (b2, b3) = rest.split_at(n);
            let four = b0.iter().zip(b1).zip(b2).zip(b3);
            for (c, (((&x0, &x1), &x2), &x3)) in c_row.iter_mut().zip(four) {
                *c += s[0] * x0 + s[1] * x1 + s[2] * x2 + s[3] * x3;
            }
            p += 4;
        }
        for p in whole..k {
            let s = a_at(i, p);
            let b_row = &b[p * n..(p + 1) * n];
            c_row.iter_mut().zip(b_row).for_each(|(c, &x)| *c += s * x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    /// Every arrangement of transposes and of operands of each sample or the
    /// same for all, against ndarray's products.
    #[test]
    fn every_arrangement_agrees_with_ndarray() {
        let (s, m, k, n) = (3, 5, 7, 6);
        let a = Array3::from_shape_fn((s, m, k), |(q, i, p)| {
            (q * 31 + i * 7 + p) as f64 * 0.01 - 0.5
        });
        let b = Array3::from_shape_fn((s, k, n), |(q, p, j)| {
            (q * 17 + p * 5 + j) as f64 * 0.02 - 0.3
        });
        let at = a
            .view()
            .permuted_axes([0, 2, 1])
            .as_standard_layout()
            .into_owned();
        let bt = b
            .view()
            .permuted_axes([0, 2, 1])
            .as_standard_layout()
            .into_owned();
        let mut pack = Packing::default();
        let expected: Vec<Array2<f64>> = (0..s)
            .map(|q| a.index_axis(Axis(0), q).dot(&b.index_axis(Axis(0), q)))
            .collect();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let x = if ta { at.view() } else { a.view() };
            let y = if tb { bt.view() } else { b.view() };
            let mut out = Array3::zeros((s, m, n));
            batch_matmul_into(
                &mut pack,
                1.0,
                x.into_dyn(),
                ta,
                y.into_dyn(),
                tb,
                out.view_mut().into_dyn(),
            );
            for (q, e) in expected.iter().enumerate() {
                let diff = (&out.index_axis(Axis(0), q) - e).mapv(f64::abs);
                assert!(
                    diff.iter().all(|d| *d < 1e-12),
                    "ta {ta}, tb {tb}, sample {q}"
                );
            }
            // Summed over the samples.
            let mut total = Array2::zeros((m, n));
            batch_matmul_into(
                &mut pack,
                1.0,
                x.into_dyn(),
                ta,
                y.into_dyn(),
                tb,
                total.view_mut().into_dyn(),
            );
            let sum = expected
                .iter()
                .fold(Array2::<f64>::zeros((m, n)), |acc, e| acc + e);
            assert!(
                (&total - &sum).iter().all(|d| d.abs() < 1e-12),
                "sum, ta {ta}, tb {tb}"
            );
        }
        // One matrix for every sample (on either side), transposed or not.
        let w = b.index_axis(Axis(0), 1).to_owned();
        let wt = w.t().as_standard_layout().into_owned();
        for (y, tb) in [(w.view(), false), (wt.view(), true)] {
            let mut out = Array3::zeros((s, m, n));
            batch_matmul_into(
                &mut pack,
                1.0,
                a.view().into_dyn(),
                false,
                y.into_dyn(),
                tb,
                out.view_mut().into_dyn(),
            );
            for q in 0..s {
                let e = a.index_axis(Axis(0), q).dot(&w);
                assert!((&out.index_axis(Axis(0), q) - &e)
                    .iter()
                    .all(|d| d.abs() < 1e-12));
            }
        }
        // A layout that is not contiguous takes the general path.
        let every_other = ndarray::Slice::new(0, None, 2);
        let strided_view = a.slice_axis(Axis(2), every_other);
        let strided = strided_view.to_owned();
        let w2 = Array2::from_shape_fn((strided.shape()[2], n), |(p, j)| (p + j) as f64);
        let mut fast = Array3::zeros((s, m, n));
        let mut slow = Array3::zeros((s, m, n));
        batch_matmul_into(
            &mut pack,
            1.0,
            strided.view().into_dyn(),
            false,
            w2.view().into_dyn(),
            false,
            fast.view_mut().into_dyn(),
        );
        batch_matmul_into(
            &mut pack,
            1.0,
            strided_view.into_dyn(),
            false,
            w2.view().into_dyn(),
            false,
            slow.view_mut().into_dyn(),
        );
        assert!((&fast - &slow).iter().all(|d| d.abs() < 1e-12));
    }
}
