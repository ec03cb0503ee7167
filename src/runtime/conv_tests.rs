//! The kernels against their definitions written as nested loops, in f64,
//! over strides, paddings, non-square images and kernels; the gradients
//! against central differences; ties; other memory layouts; and no growth
//! of the scratch space on a second call.

use ndarray::{Array1, Array2, Array4, ArrayView4, Axis};

use super::*;
use crate::runtime::Rng;
use crate::runtime::{avg_pool, avg_pool_grad, max_pool, max_pool_grad};

fn random(shape: (usize, usize, usize, usize), seed: u64) -> Array4<f64> {
    crate::runtime::init::uniform(&mut Rng::new(seed), shape, -1.0, 1.0)
}

/// out[b, k, i, j] = Σ_c Σ_u Σ_v W[k, c, u, v] · x[b, c, i·σ + u − p, j·σ + v − p]
fn naive_conv(x: &Array4<f64>, w: &Array4<f64>, stride: usize, padding: usize) -> Array4<f64> {
    let ((bn, c, h, wd), (k, _, r, s)) = (x.dim(), w.dim());
    let (oh, ow) = (
        (h + 2 * padding - r) / stride + 1,
        (wd + 2 * padding - s) / stride + 1,
    );
    Array4::from_shape_fn((bn, k, oh, ow), |(b, kk, i, j)| {
        let mut sum = 0.0;
        for cc in 0..c {
            for u in 0..r {
                for v in 0..s {
                    let (y, z) = (i * stride + u, j * stride + v);
                    if y >= padding && z >= padding && y - padding < h && z - padding < wd {
                        sum += w[[kk, cc, u, v]] * x[[b, cc, y - padding, z - padding]];
                    }
                }
            }
        }
        sum
    })
}

/// The shape of x, the kernel's r×s, the stride and the padding.
type Configuration = ((usize, usize, usize, usize), (usize, usize), usize, usize);

/// Every configuration the tests run.
fn configurations() -> Vec<Configuration> {
    let mut all = Vec::new();
    for (r, s) in [(3, 3), (2, 3), (1, 1), (3, 2)] {
        for (stride, padding) in [(1, 0), (1, 1), (2, 1), (2, 0)] {
            let (h, w) = (5 + 2 * padding, 7);
            // Keep only the shapes whose windows tile (as the checker does).
            let fits = |n: usize, k: usize| {
                n + 2 * padding >= k && (n + 2 * padding - k).is_multiple_of(stride)
            };
            let w = if fits(w, s) { w } else { w + 1 };
            if fits(h, r) && fits(w, s) {
                all.push(((2, 2, h, w), (r, s), stride, padding));
            }
        }
    }
    assert!(all.len() >= 10);
    all
}

fn close(a: ArrayView4<'_, f64>, b: ArrayView4<'_, f64>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x - y).abs() < 1e-12 * x.abs().max(1.0))
}

#[test]
fn conv2d_is_the_cross_correlation_of_its_definition() {
    for (xs, (r, s), stride, padding) in configurations() {
        let (x, w) = (random(xs, 1), random((3, xs.1, r, s), 2));
        let got = conv2d(x.view(), w.view(), stride, padding);
        assert!(
            close(got.view(), naive_conv(&x, &w, stride, padding).view()),
            "{xs:?} {r}×{s} /{stride} +{padding}"
        );
    }
}

/// ⟨G, conv2d(x, W)⟩, whose gradient is the input and kernel gradients of G.
fn pairing(
    x: &Array4<f64>,
    w: &Array4<f64>,
    g: &Array4<f64>,
    stride: usize,
    padding: usize,
) -> f64 {
    (naive_conv(x, w, stride, padding) * g).sum()
}

#[test]
fn the_convolution_gradients_match_central_differences() {
    let h = 1e-6;
    for (xs, (r, s), stride, padding) in configurations() {
        let (x, w) = (random(xs, 3), random((3, xs.1, r, s), 4));
        let g = random(naive_conv(&x, &w, stride, padding).dim(), 5);
        let dx = conv2d_input_grad(g.view(), w.view(), stride, padding, (xs.2, xs.3));
        let dw = conv2d_kernel_grad(x.view(), g.view(), stride, padding, (r, s));
        for (index, analytic) in dx.indexed_iter() {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[index] += h;
            minus[index] -= h;
            let numeric = (pairing(&plus, &w, &g, stride, padding)
                - pairing(&minus, &w, &g, stride, padding))
                / (2.0 * h);
            assert!(
                (analytic - numeric).abs() < 1e-7,
                "δx{index:?}: {analytic} vs {numeric}"
            );
        }
        for (index, analytic) in dw.indexed_iter() {
            let (mut plus, mut minus) = (w.clone(), w.clone());
            plus[index] += h;
            minus[index] -= h;
            let numeric = (pairing(&x, &plus, &g, stride, padding)
                - pairing(&x, &minus, &g, stride, padding))
                / (2.0 * h);
            assert!(
                (analytic - numeric).abs() < 1e-7,
                "δW{index:?}: {analytic} vs {numeric}"
            );
        }
    }
}

#[test]
fn pools_and_their_gradients_follow_their_definitions() {
    // Overlapping (3 by 2), 2 by 2 (leaving a row and column out, and
    // tiling) and sliding (2 by 1) windows.
    for (size, stride, h, w) in [(3, 2, 7, 9), (2, 2, 7, 9), (2, 2, 8, 6), (2, 1, 7, 9)] {
        let x = random((2, 3, h, w), 6);
        let (oh, ow) = ((h - size) / stride + 1, (w - size) / stride + 1);
        let d = random((2, 3, oh, ow), 7);
        let (mut max_grad, mut avg_grad) = (Array4::zeros(x.dim()), Array4::zeros(x.dim()));
        let (max, avg) = (
            max_pool(x.view(), size, stride),
            avg_pool(x.view(), size, stride),
        );
        for ((b, c, i, j), &dv) in d.indexed_iter() {
            let cells =
                (0..size).flat_map(|u| (0..size).map(move |v| (i * stride + u, j * stride + v)));
            let (mut best, mut sum) = ((i * stride, j * stride), 0.0);
            for (y, z) in cells {
                if x[[b, c, y, z]] > x[[b, c, best.0, best.1]] {
                    best = (y, z);
                }
                sum += x[[b, c, y, z]];
                avg_grad[[b, c, y, z]] += dv / (size * size) as f64;
            }
            assert_eq!(max[[b, c, i, j]], x[[b, c, best.0, best.1]]);
            assert!((avg[[b, c, i, j]] - sum / (size * size) as f64).abs() < 1e-12);
            max_grad[[b, c, best.0, best.1]] += dv;
        }
        assert!(close(
            max_pool_grad(x.view(), d.view(), size, stride).view(),
            max_grad.view()
        ));
        assert!(close(
            avg_pool_grad(d.view(), size, stride, (h, w)).view(),
            avg_grad.view()
        ));
    }
}

#[test]
fn a_tied_window_routes_its_gradient_to_its_first_element() {
    let x = Array4::<f64>::ones((1, 1, 4, 4));
    let d = Array4::<f64>::ones((1, 1, 2, 2));
    let g = max_pool_grad(x.view(), d.view(), 2, 2);
    let firsts: Vec<(usize, usize)> = g
        .indexed_iter()
        .filter(|(_, &v)| v != 0.0)
        .map(|((_, _, i, j), _)| (i, j))
        .collect();
    assert_eq!(firsts, [(0, 0), (0, 2), (2, 0), (2, 2)]);
    // A tie of two of the four: the first in row-major order.
    let pair = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 3.0, 3.0, 2.0]).unwrap();
    let g = max_pool_grad(pair.view(), Array4::ones((1, 1, 1, 1)).view(), 2, 2);
    assert_eq!(g.into_raw_vec_and_offset().0, [0.0, 1.0, 0.0, 0.0]);
    // Sliding windows of 3 by 1 that all tie: each sends to its own corner.
    let d = Array4::<f64>::ones((1, 1, 2, 2));
    let g = max_pool_grad(x.view(), d.view(), 3, 1);
    let firsts: Vec<(usize, usize)> = g
        .indexed_iter()
        .filter(|(_, &v)| v != 0.0)
        .map(|((_, _, i, j), _)| (i, j))
        .collect();
    assert_eq!(firsts, [(0, 0), (0, 1), (1, 0), (1, 1)]);
}

#[test]
fn inputs_in_other_layouts_give_the_same_results() {
    let x = random((3, 2, 6, 5), 8);
    // The same values, stored with the batch axis last.
    let mut stored = Array4::zeros((2, 6, 5, 3));
    stored.assign(&x.view().permuted_axes([1, 2, 3, 0]));
    let other = stored.view().permuted_axes([3, 0, 1, 2]);
    assert!(!other.is_standard_layout());
    let w = random((4, 2, 3, 3), 9);
    assert!(close(
        conv2d(other, w.view(), 1, 1).view(),
        conv2d(x.view(), w.view(), 1, 1).view()
    ));
    let d = random((3, 4, 6, 5), 10);
    let mut d_stored = Array4::zeros((4, 6, 5, 3));
    d_stored.assign(&d.view().permuted_axes([1, 2, 3, 0]));
    let d_other = d_stored.view().permuted_axes([3, 0, 1, 2]);
    assert!(close(
        conv2d_kernel_grad(other, d_other, 1, 1, (3, 3)).view(),
        conv2d_kernel_grad(x.view(), d.view(), 1, 1, (3, 3)).view()
    ));
    assert!(close(
        conv2d_input_grad(d_other, w.view(), 1, 1, (6, 5)).view(),
        conv2d_input_grad(d.view(), w.view(), 1, 1, (6, 5)).view()
    ));
    assert!(close(
        max_pool(other, 2, 1).view(),
        max_pool(x.view(), 2, 1).view()
    ));
    assert!(close(
        avg_pool(other, 3, 1).view(),
        avg_pool(x.view(), 3, 1).view()
    ));
}

#[test]
fn the_sums_and_the_reshape_follow_their_definitions() {
    let g = random((2, 3, 4, 5), 11);
    let mut channels = Array1::zeros(3);
    sum_channels_into(g.view(), channels.view_mut());
    let mut spatial = Array2::zeros((2, 3));
    sum_spatial_into(g.view(), spatial.view_mut());
    for c in 0..3 {
        let per_image: Vec<f64> = (0..2)
            .map(|b| g.index_axis(Axis(0), b).index_axis(Axis(0), c).sum())
            .collect();
        assert!((channels[c] - per_image.iter().sum::<f64>()).abs() < 1e-12);
        for b in 0..2 {
            assert!((spatial[[b, c]] - per_image[b]).abs() < 1e-12);
        }
    }
    let mut flat = Array2::zeros((2, 60));
    reshape_into(g.view(), flat.view_mut());
    assert_eq!(flat[[1, 2 * 20 + 3 * 5 + 4]], g[[1, 2, 3, 4]]);
    let mut back = Array4::zeros((2, 3, 4, 5));
    reshape_into(flat.t().t(), back.view_mut());
    assert_eq!(back, g);
}

#[test]
fn a_second_call_with_the_same_shapes_grows_no_buffer() {
    let (x, w) = (random((4, 3, 8, 8), 12), random((5, 3, 3, 3), 13));
    let d = random((4, 5, 8, 8), 14);
    let mut scratch = ConvScratch::default();
    let (mut out, mut dx, mut dw) = (
        Array4::zeros((4, 5, 8, 8)),
        Array4::zeros(x.dim()),
        Array4::zeros(w.dim()),
    );
    let mut all = |scratch: &mut ConvScratch<f64>| {
        conv2d_into(x.view(), w.view(), 1, 1, scratch, out.view_mut());
        conv2d_input_grad_into(d.view(), w.view(), 1, 1, scratch, dx.view_mut());
        conv2d_kernel_grad_into(x.view(), d.view(), 1, 1, scratch, dw.view_mut());
    };
    all(&mut scratch);
    let sizes = (
        scratch.columns.capacity(),
        scratch.gathered.capacity(),
        scratch.columns.as_ptr(),
        scratch.gathered.as_ptr(),
    );
    all(&mut scratch);
    assert_eq!(
        sizes,
        (
            scratch.columns.capacity(),
            scratch.gathered.capacity(),
            scratch.columns.as_ptr(),
            scratch.gathered.as_ptr()
        )
    );
}

#[test]
fn kept_columns_give_the_kernel_gradient_of_unfolding_again() {
    // 16 kernels of one channel: the product runs transposed; 3 kernels of
    // 4 channels: as written.
    for (k, c) in [(16, 1), (3, 4)] {
        assert_eq!(transpose_kernel_grad(k, c * 9), k == 16);
        for (stride, padding) in [(1, 1), (2, 0)] {
            let (x, w) = (random((3, c, 7, 7), 20), random((k, c, 3, 3), 21));
            let side = (7 + 2 * padding - 3) / stride + 1;
            let d = random((3, k, side, side), 22);
            let (mut scratch, mut columns) = (ConvScratch::default(), Columns::default());
            let mut out = Array4::zeros(d.dim());
            conv2d_keeping_columns_into(
                x.view(),
                w.view(),
                stride,
                padding,
                &mut columns,
                &mut scratch,
                out.view_mut(),
            );
            assert!(close(
                out.view(),
                naive_conv(&x, &w, stride, padding).view()
            ));
            let mut kept = Array4::zeros(w.dim());
            conv2d_kernel_grad_from_columns_into(
                x.view(),
                &columns,
                d.view(),
                stride,
                padding,
                &mut scratch,
                kept.view_mut(),
            );
            let again = conv2d_kernel_grad(x.view(), d.view(), stride, padding, (3, 3));
            assert!(
                close(kept.view(), again.view()),
                "{k}×{c} /{stride} +{padding}"
            );
        }
    }
}

#[test]
#[should_panic(expected = "columns kept from a convolution of other shapes")]
fn columns_of_other_shapes_are_refused() {
    let (x, w) = (random((2, 1, 6, 6), 23), random((4, 1, 3, 3), 24));
    let (mut scratch, mut columns) = (ConvScratch::default(), Columns::default());
    let mut out = Array4::zeros((2, 4, 6, 6));
    conv2d_keeping_columns_into(
        x.view(),
        w.view(),
        1,
        1,
        &mut columns,
        &mut scratch,
        out.view_mut(),
    );
    // The same images, but no padding: other columns.
    let (d, mut grad) = (random((2, 4, 4, 4), 25), Array4::zeros(w.dim()));
    conv2d_kernel_grad_from_columns_into(
        x.view(),
        &columns,
        d.view(),
        1,
        0,
        &mut scratch,
        grad.view_mut(),
    );
}
