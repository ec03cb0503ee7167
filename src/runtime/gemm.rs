//! Matrix products for generated code: c ← α·op(a)·op(b) + β·c.
//!
//! - [`gemm`]: small products, one row, and outer products in plain loops on
//!   contiguous slices; anything else through matrixmultiply.
//! - [`gemm_with`]: the same, but larger products run in packed panels in a
//!   [`Packing`] the caller keeps (the generated workspace's), so that a
//!   training step allocates nothing once it has seen its batch size.
//!
//!
//! The packed product itself is in `packed.rs`.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, NdFloat, Zip};

use super::packed::{gemm_packed, Packing};

/// Products up to this many multiply-adds (16³) run in [`gemm`]'s own loop;
/// larger ones in packed panels ([`gemm_with`]), or in matrixmultiply
/// (through ndarray) where no packing space is given.
pub const SMALL_PRODUCT: usize = 16 * 16 * 16;

/// c ← α·a·b + β·c for matrices (views, so `x.t()` is a transpose).
///
/// Small products run here on contiguous slices, in an order that reads
/// memory in sequence for the operands' layouts (row-major `a` and `b`; `b`
/// a transposed matrix; `a` a transposed matrix), allocating nothing; so do
/// one row (a batch of one: a vector-times-matrix loop) and outer products
/// (k = 1) at any size. Larger ones, or other layouts, go to matrixmultiply
/// through ndarray, which allocates its packing space: [`gemm_with`] does not.
pub fn gemm<T: NdFloat>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    // One row (a batch of one) or an outer product (k = 1): a GEMM library
    // would pack a whole operand to use it once, so these run here at any size.
    let small = m * k * n <= SMALL_PRODUCT || m == 1 || k == 1;
    let (at, bt) = (a.t(), b.t());
    let layout = match (a.as_slice(), b.as_slice(), at.as_slice(), bt.as_slice()) {
        // Row-major a and b: rows of b, scaled, into rows of c.
        (Some(a), Some(b), _, _) => Some(Loops::RowsOfB(a, b)),
        // b is a transposed row-major matrix: dot products of rows.
        (Some(a), None, _, Some(bt)) => Some(Loops::Dots(a, bt)),
        // a is a transposed row-major matrix: one rank-one update per row of aᵀ.
        (None, Some(b), Some(at), _) => Some(Loops::RankOne(at, b)),
        _ => None,
    };
    match (c.as_slice_mut(), small, layout) {
        // Too small for vectors to pay for the dispatch.
        (Some(cs), true, Some(layout)) if m * k * n < 256 => {
            loops(alpha, layout, beta, cs, (m, k, n))
        }
        (Some(cs), true, Some(layout)) => {
            struct Run<'a, 'c, T> {
                alpha: T,
                beta: T,
                layout: Loops<'a, T>,
                c: &'c mut [T],
                dims: (usize, usize, usize),
            }
            impl<T: NdFloat> pulp::WithSimd for Run<'_, '_, T> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: pulp::Simd>(self, _: S) {
                    loops(self.alpha, self.layout, self.beta, self.c, self.dims)
                }
            }
            pulp::Arch::new().dispatch(Run {
                alpha,
                beta,
                layout,
                c: cs,
                dims: (m, k, n),
            });
        }
        _ => ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c),
    }
}

/// The operands of [`gemm`]'s own loops, by layout.
#[derive(Clone, Copy)]
enum Loops<'a, T> {
    /// Row-major a and b.
    RowsOfB(&'a [T], &'a [T]),
    /// Row-major a, and b a transposed row-major matrix (bᵀ's rows).
    Dots(&'a [T], &'a [T]),
    /// a a transposed row-major matrix (aᵀ's rows), and row-major b.
    RankOne(&'a [T], &'a [T]),
}

/// c ← α·a·b + β·c for contiguous c (m×n) in plain loops: compiled inside
/// `pulp`'s dispatch, so that they vectorize for the CPU at hand.
#[inline(always)]
fn loops<T: NdFloat>(
    alpha: T,
    layout: Loops<'_, T>,
    beta: T,
    cs: &mut [T],
    (m, k, n): (usize, usize, usize),
) {
    if beta == T::zero() {
        cs.iter_mut().for_each(|v| *v = T::zero());
    } else if beta != T::one() {
        cs.iter_mut().for_each(|v| *v *= beta);
    }
    match layout {
        Loops::RowsOfB(a, b) => {
            // One row of a (a batch of one): four rows of b scaled into c in
            // one pass, so that c is read and written once per four rows
            // instead of once per row; the rest one by one. (Several rows
            // keep the order of the additions one row at a time.)
            let whole = if m == 1 { k - k % 4 } else { 0 };
            let (b4, b_rest) = b.split_at(whole * n);
            for (a_row, c_row) in a.chunks_exact(k).zip(cs.chunks_exact_mut(n)) {
                let (a4, a_rest) = a_row.split_at(whole);
                for (a, b) in a4.chunks_exact(4).zip(b4.chunks_exact(4 * n)) {
                    let s = [alpha * a[0], alpha * a[1], alpha * a[2], alpha * a[3]];
                    let (b0, rest) = b.split_at(n);
                    let (b1, rest) = rest.split_at(n);
                    let (b2, b3) = rest.split_at(n);
                    let rows = b0.iter().zip(b1).zip(b2).zip(b3);
                    for (c, (((&x0, &x1), &x2), &x3)) in c_row.iter_mut().zip(rows) {
                        *c += s[0] * x0 + s[1] * x1 + s[2] * x2 + s[3] * x3;
                    }
                }
                for (&a_ip, b_row) in a_rest.iter().zip(b_rest.chunks_exact(n)) {
                    let s = alpha * a_ip;
                    c_row.iter_mut().zip(b_row).for_each(|(c, &b)| *c += s * b);
                }
            }
        }
        Loops::Dots(a, bt) => {
            for (a_row, c_row) in a.chunks_exact(k).zip(cs.chunks_exact_mut(n)) {
                for (c_ij, bt_row) in c_row.iter_mut().zip(bt.chunks_exact(k)) {
                    *c_ij += alpha * dot(a_row, bt_row);
                }
            }
        }
        Loops::RankOne(at, b) => {
            for (at_row, b_row) in at.chunks_exact(m).zip(b.chunks_exact(n)) {
                for (&a_ip, c_row) in at_row.iter().zip(cs.chunks_exact_mut(n)) {
                    let s = alpha * a_ip;
                    c_row.iter_mut().zip(b_row).for_each(|(c, &b)| *c += s * b);
                }
            }
        }
    }
}

/// Σ x·y with eight running sums, so that the loop vectorizes (one sum
/// would fix the order of the additions and keep it scalar).
#[inline(always)]
fn dot<T: NdFloat>(x: &[T], y: &[T]) -> T {
    let mut sums = [T::zero(); 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: T = xc
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

/// a·b as a new matrix, by [`gemm_with`] with packing space of its own: a
/// batch of one takes the vector-times-matrix loop.
pub fn matmul<T: NdFloat>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    gemm_with(
        &mut Packing::default(),
        T::one(),
        a,
        b,
        T::zero(),
        c.view_mut(),
    );
    c
}

/// y ← α·a·x + β·y for a matrix and a vector, allocating nothing.
pub fn gemv<T: NdFloat>(
    alpha: T,
    a: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    beta: T,
    mut y: ArrayViewMut1<'_, T>,
) {
    for (a_row, y_i) in a.rows().into_iter().zip(y.iter_mut()) {
        let dot = Zip::from(&a_row)
            .and(&x)
            .fold(T::zero(), |s, &a, &x| s + a * x);
        *y_i = alpha * dot
            + if beta == T::zero() {
                T::zero()
            } else {
                beta * *y_i
            };
    }
}

/// c ← α·a·b + β·c, as [`gemm`], but products above [`SMALL_PRODUCT`] run in
/// packed panels in `pack` instead of matrixmultiply: nothing is allocated
/// once `pack` has grown to the largest product's panels.
pub fn gemm_with<T: NdFloat>(
    pack: &mut Packing<T>,
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    if m * k * n <= SMALL_PRODUCT || m == 1 || k == 1 || !c.is_standard_layout() {
        gemm(alpha, a, b, beta, c);
    } else {
        gemm_packed(pack, alpha, a, b, beta, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn gemm_and_gemv_agree_with_ndarray_for_every_layout() {
        let a = Array2::from_shape_fn((5, 7), |(i, j)| (i * 7 + j) as f64 * 0.1 - 1.0);
        let b = Array2::from_shape_fn((7, 3), |(i, j)| (i * 3 + j) as f64 * 0.05 + 0.5);
        let at = a.t().to_owned(); // 7×5, so at.t() is a transposed view of a
        let bt = b.t().to_owned();
        for (lhs, rhs) in [
            (a.view(), b.view()),
            (a.view(), bt.t()),
            (at.t(), b.view()),
            (at.t(), bt.t()),
        ] {
            let mut c = Array2::from_elem((5, 3), 1.0);
            gemm(2.0, lhs, rhs, 0.5, c.view_mut());
            let expected = a.dot(&b) * 2.0 + 0.5;
            assert!(
                (&c - &expected).iter().all(|d| d.abs() < 1e-12),
                "{c}\n{expected}"
            );
        }
        let x = array![1.0, -2.0, 0.5, 0.0, 3.0, 1.0, -1.0];
        let mut y = Array1::from_elem(5, 1.0);
        gemv(1.0, a.view(), x.view(), 1.0, y.view_mut());
        assert!((&y - &(a.dot(&x) + 1.0)).iter().all(|d| d.abs() < 1e-12));
        // Large products go to matrixmultiply and agree too.
        let big = Array2::from_shape_fn((40, 40), |(i, j)| ((i + 2 * j) % 7) as f64);
        let mut c = Array2::zeros((40, 40));
        gemm(1.0, big.view(), big.t(), 0.0, c.view_mut());
        assert_eq!(c, big.dot(&big.t()));
    }

    #[test]
    fn packed_products_agree_with_ndarray_for_every_layout_and_size() {
        let mut pack = Packing::default();
        // Whole tiles, ragged edges, several depth and row blocks.
        for (m, k, n) in [
            (6, 16, 16),
            (7, 5, 17),
            (64, 300, 40),
            (100, 70, 3),
            (13, 600, 33),
        ] {
            let a =
                Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.1 - 0.5);
            let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j) % 13) as f64 * 0.1 - 0.6);
            let (at, bt) = (a.t().to_owned(), b.t().to_owned());
            for (lhs, rhs) in [
                (a.view(), b.view()),
                (a.view(), bt.t()),
                (at.t(), b.view()),
                (at.t(), bt.t()),
            ] {
                for beta in [0.0, 1.0, 0.5] {
                    let mut c = Array2::from_elem((m, n), 1.5);
                    gemm_with(&mut pack, -0.5, lhs, rhs, beta, c.view_mut());
                    let expected = a.dot(&b) * -0.5 + 1.5 * beta;
                    let worst = (&c - &expected).iter().fold(0.0f64, |w, d| w.max(d.abs()));
                    assert!(worst < 1e-9, "{m}×{k}×{n}, β = {beta}: off by {worst}");
                }
            }
            // f32 takes the wider panels.
            let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
            let mut c = Array2::<f32>::zeros((m, n));
            gemm_with(
                &mut Packing::default(),
                1.0,
                a32.view(),
                b32.view(),
                0.0,
                c.view_mut(),
            );
            let worst = (&c - &a32.dot(&b32))
                .iter()
                .fold(0.0f32, |w, d| w.max(d.abs()));
            assert!(worst < 1e-3, "f32 {m}×{k}×{n}: off by {worst}");
        }
    }

    #[test]
    fn packed_products_of_strided_views_take_the_element_by_element_path() {
        // Every other row and column: neither row- nor column-major.
        let big_a = Array2::from_shape_fn((40, 60), |(i, j)| ((i + 3 * j) % 7) as f64 - 3.0);
        let big_b = Array2::from_shape_fn((60, 70), |(i, j)| ((2 * i + j) % 5) as f64 - 2.0);
        fn every_other(m: &Array2<f64>) -> ArrayView2<'_, f64> {
            m.slice_axis(ndarray::Axis(0), ndarray::Slice::new(0, None, 2))
                .slice_axis_move(ndarray::Axis(1), ndarray::Slice::new(0, None, 2))
        }
        let (a, b) = (every_other(&big_a), every_other(&big_b));
        let mut c = Array2::zeros((20, 35));
        gemm_with(&mut Packing::default(), 1.0, a, b, 0.0, c.view_mut());
        assert_eq!(c, a.dot(&b));
    }

    #[test]
    fn beta_zero_ignores_what_c_held() {
        let a = Array2::from_elem((20, 30), 1.0f64);
        let b = Array2::from_elem((30, 20), 2.0f64);
        let mut c = Array2::from_elem((20, 20), f64::NAN);
        gemm_with(
            &mut Packing::default(),
            1.0,
            a.view(),
            b.view(),
            0.0,
            c.view_mut(),
        );
        assert!(c.iter().all(|&v| v == 60.0));
    }
}
