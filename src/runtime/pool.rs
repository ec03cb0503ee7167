//! Max and average pooling over batches of images `[B, c, h, w]`, without
//! padding, and their gradients, for generated code. Planes in standard
//! layout are read by slices (a 2×2 window unrolled); any other layout
//! through indexing.

use ndarray::{Array4, ArrayView2, ArrayView4, ArrayViewMut2, ArrayViewMut4, Axis, NdFloat, Zip};

/// The two pools.
#[derive(Clone, Copy)]
enum Pool {
    Max,
    Average,
}

/// A pool's windows: `size×size`, `stride` apart, without padding.
#[derive(Clone, Copy)]
struct Window {
    size: usize,
    stride: usize,
}

impl Window {
    /// The pooled shape `[B, c, oh, ow]` of images `[B, c, h, w]`,
    /// `oh = (h − size)/stride + 1`; panics unless a window fits.
    fn pooled(&self, (b, c, h, w): (usize, usize, usize, usize)) -> (usize, usize, usize, usize) {
        let Window { size, stride } = *self;
        let fits = size >= 1 && stride >= 1 && size <= h && size <= w;
        assert!(
            fits,
            "a {size}×{size} pool by {stride} does not fit {h}×{w}"
        );
        (b, c, (h - size) / stride + 1, (w - size) / stride + 1)
    }

    /// The positions of window (i, j), in row-major order.
    fn cells(&self, i: usize, j: usize) -> impl Iterator<Item = (usize, usize)> {
        let (size, y0, x0) = (self.size, i * self.stride, j * self.stride);
        (y0..y0 + size).flat_map(move |y| (x0..x0 + size).map(move |x| (y, x)))
    }

    /// 1/size².
    fn scale<T: NdFloat>(&self) -> T {
        T::one() / T::from(self.size * self.size).expect("a count converts")
    }
}

/// The position and value of the first maximum of `at` over `cells`: only a
/// larger value replaces one found earlier.
#[inline(always)]
fn first_max<T: NdFloat>(
    mut cells: impl Iterator<Item = (usize, usize)>,
    at: impl Fn(usize, usize) -> T,
) -> ((usize, usize), T) {
    let first = cells.next().expect("a window has cells");
    cells.fold((first, at(first.0, first.1)), |(best, m), (y, x)| {
        let v = at(y, x);
        if v > m {
            ((y, x), v)
        } else {
            (best, m)
        }
    })
}

/// The pool of one plane, `at(y, x)` its elements, into `out`.
#[inline(always)]
fn pool_plane<T: NdFloat>(
    at: impl Fn(usize, usize) -> T,
    out: ArrayViewMut2<'_, T>,
    win: Window,
    pool: Pool,
) {
    let scale = win.scale::<T>();
    Zip::indexed(out).for_each(|(i, j), o| {
        let cells = win.cells(i, j);
        *o = match pool {
            Pool::Max => first_max(cells, &at).1,
            Pool::Average => cells.fold(T::zero(), |s, (y, x)| s + at(y, x)) * scale,
        }
    });
}

/// The index in `plane` (rows of `w`) of the first maximum of the
/// `size×size` window whose top left corner is at `at`, in row-major order.
#[inline(always)]
fn first_max_at<T: NdFloat>(plane: &[T], at: usize, w: usize, size: usize) -> usize {
    if size == 2 {
        // The common window, unrolled.
        let mut best = at;
        for candidate in [at + 1, at + w, at + w + 1] {
            if plane[candidate] > plane[best] {
                best = candidate;
            }
        }
        return best;
    }
    let (mut best, mut max) = (at, plane[at]);
    for u in 0..size {
        let start = at + u * w;
        let row = &plane[start..start + size];
        for (v, &value) in row.iter().enumerate() {
            if value > max {
                (best, max) = (start + v, value);
            }
        }
    }
    best
}

/// The sum of the `size×size` window whose top left corner is at `at`.
#[inline(always)]
fn window_sum<T: NdFloat>(plane: &[T], at: usize, w: usize, size: usize) -> T {
    (0..size).fold(T::zero(), |sum, u| {
        let start = at + u * w;
        plane[start..start + size].iter().fold(sum, |s, &v| s + v)
    })
}

/// The first of the largest of four values in row-major order: the max of a
/// 2×2 window without branches (a NaN in the first cell stays, as in
/// [`first_max_at`]).
#[inline(always)]
fn max4<T: NdFloat>(a: T, b: T, c: T, d: T) -> (usize, T) {
    use std::hint::select_unpredictable as select;
    let (mut at, mut m) = (0, a);
    for (k, v) in [(1, b), (2, c), (3, d)] {
        let larger = v > m;
        at = select(larger, k, at);
        m = select(larger, v, m);
    }
    (at, m)
}

/// Max pooling of planes `h×w` (standard layout) by 2×2 windows 2 apart:
/// two input rows per output row, a pair of each per output.
fn max_pool_2x2<T: NdFloat>(
    src: &[T],
    (h, w): (usize, usize),
    dst: &mut [T],
    (oh, ow): (usize, usize),
) {
    for (plane, pooled) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(oh * ow)) {
        for (i, row) in pooled.chunks_exact_mut(ow).enumerate() {
            let top = &plane[2 * i * w..][..2 * ow];
            let below = &plane[(2 * i + 1) * w..][..2 * ow];
            let pairs = top.chunks_exact(2).zip(below.chunks_exact(2));
            for (o, (a, b)) in row.iter_mut().zip(pairs) {
                *o = max4(a[0], a[1], b[0], b[1]).1;
            }
        }
    }
}

/// The gradient of [`max_pool_2x2`] when the windows tile the plane
/// (`h = 2·oh`, `w = 2·ow`): each pair of rows zeroed, then each δ stored at
/// its window's first maximum, found by selects, at an address computed
/// from it (no branch on which cell won).
fn max_pool_grad_2x2<T: NdFloat>(
    src: &[T],
    deltas: &[T],
    (h, w): (usize, usize),
    dst: &mut [T],
    (oh, ow): (usize, usize),
) {
    let planes = src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h * w));
    for ((plane, grad), deltas) in planes.zip(deltas.chunks_exact(oh * ow)) {
        let rows = plane.chunks_exact(2 * w).zip(grad.chunks_exact_mut(2 * w));
        for ((x, g), deltas) in rows.zip(deltas.chunks_exact(ow)) {
            g.fill(T::zero());
            let (x0, x1) = x.split_at(w);
            let cells = x0.chunks_exact(2).zip(x1.chunks_exact(2));
            for (j, ((a, b), &d)) in cells.zip(deltas).enumerate() {
                // Cell k of the window: row k / 2, column 2j + k % 2.
                let (k, _) = max4(a[0], a[1], b[0], b[1]);
                g[(k >> 1) * w + 2 * j + (k & 1)] = d;
            }
        }
    }
}

/// Either pool of every plane of x into `out`.
fn pool_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    win: Window,
    mut out: ArrayViewMut4<'_, T>,
    pool: Pool,
) {
    assert_eq!(out.dim(), win.pooled(x.dim()), "the output's shape");
    let (_, _, h, w) = x.dim();
    if let (Some(src), Some(dst)) = (x.to_slice(), out.as_slice_mut()) {
        let (oh, ow) = (
            (h - win.size) / win.stride + 1,
            (w - win.size) / win.stride + 1,
        );
        if let (Pool::Max, 2, 2) = (pool, win.size, win.stride) {
            return max_pool_2x2(src, (h, w), dst, (oh, ow));
        }
        let planes = src.chunks_exact(h * w).zip(dst.chunks_exact_mut(oh * ow));
        let scale = win.scale::<T>();
        for (plane, pooled) in planes {
            for (i, row) in pooled.chunks_exact_mut(ow).enumerate() {
                let top = i * win.stride * w;
                for (j, o) in row.iter_mut().enumerate() {
                    let at = top + j * win.stride;
                    *o = match pool {
                        Pool::Max => plane[first_max_at(plane, at, w, win.size)],
                        Pool::Average => window_sum(plane, at, w, win.size) * scale,
                    };
                }
            }
        }
        return;
    }
    for (image, mut pooled) in x.outer_iter().zip(out.outer_iter_mut()) {
        for (p, o) in image.outer_iter().zip(pooled.outer_iter_mut()) {
            match p.to_slice() {
                Some(data) => pool_plane(|y, x| data[y * w + x], o, win, pool),
                None => pool_plane(|y, x| p[[y, x]], o, win, pool),
            }
        }
    }
}

/// Max pooling without padding, windows of `size×size` `stride` apart, from
/// x `[B, c, h, w]` into `out` `[B, c, oh, ow]`, `oh = (h − size)/stride + 1`:
///
/// `out[b, c, i, j] = max_{0 ≤ u, v < size} x[b, c, i·stride + u, j·stride + v]`
pub fn max_pool_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
    out: ArrayViewMut4<'_, T>,
) {
    pool_into(x, Window { size, stride }, out, Pool::Max);
}

/// [`max_pool_into`] into a new array `[B, c, oh, ow]`.
pub fn max_pool<T: NdFloat>(x: ArrayView4<'_, T>, size: usize, stride: usize) -> Array4<T> {
    let mut out = Array4::zeros(Window { size, stride }.pooled(x.dim()));
    max_pool_into(x, size, stride, out.view_mut());
    out
}

/// Average pooling without padding, windows of `size×size` `stride` apart,
/// from x `[B, c, h, w]` into `out` `[B, c, oh, ow]`:
///
/// `out[b, c, i, j] = (1/size²) Σ_{0 ≤ u, v < size} x[b, c, i·stride + u, j·stride + v]`
pub fn avg_pool_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
    out: ArrayViewMut4<'_, T>,
) {
    pool_into(x, Window { size, stride }, out, Pool::Average);
}

/// [`avg_pool_into`] into a new array `[B, c, oh, ow]`.
pub fn avg_pool<T: NdFloat>(x: ArrayView4<'_, T>, size: usize, stride: usize) -> Array4<T> {
    let mut out = Array4::zeros(Window { size, stride }.pooled(x.dim()));
    avg_pool_into(x, size, stride, out.view_mut());
    out
}

/// The gradient of one plane's pool from δ: `at(y, x)` the input's elements
/// (read by max pooling only), `add(y, x, v)` adds to the gradient's.
#[inline(always)]
fn pool_grad_plane<T: NdFloat>(
    at: impl Fn(usize, usize) -> T,
    mut add: impl FnMut(usize, usize, T),
    delta: ArrayView2<'_, T>,
    win: Window,
    pool: Pool,
) {
    let scale = win.scale::<T>();
    Zip::indexed(delta).for_each(|(i, j), &d| match pool {
        Pool::Max => {
            let ((y, x), _) = first_max(win.cells(i, j), &at);
            add(y, x, d);
        }
        Pool::Average => win.cells(i, j).for_each(|(y, x)| add(y, x, d * scale)),
    });
}

/// Calls `f(b, c, δ[b, c], out[b, c])` for every plane of a pool's
/// gradient, after checking δ's shape and zeroing `out`.
fn pool_grad_planes<T: NdFloat>(
    delta: ArrayView4<'_, T>,
    win: Window,
    mut out: ArrayViewMut4<'_, T>,
    mut f: impl FnMut(usize, usize, ArrayView2<'_, T>, ArrayViewMut2<'_, T>),
) {
    assert_eq!(delta.dim(), win.pooled(out.dim()), "δ's shape");
    out.fill(T::zero());
    for (b, (image, mut grad)) in delta.outer_iter().zip(out.outer_iter_mut()).enumerate() {
        for (c, (d, o)) in image.outer_iter().zip(grad.outer_iter_mut()).enumerate() {
            f(b, c, d, o);
        }
    }
}

/// The gradient of max pooling (of x, as [`max_pool_into`]) from δ
/// `[B, c, oh, ow]` into `out` `[B, c, h, w]`, zeroed first: each δ goes to
/// the first maximum of its window in row-major order, and windows that
/// overlap accumulate,
///
/// `out[b, c, y, x] = Σ_{i, j : (y, x) = argmax_{u, v} x[b, c, i·stride + u, j·stride + v]} δ[b, c, i, j]`
pub fn max_pool_grad_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    delta: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
    out: ArrayViewMut4<'_, T>,
) {
    assert_eq!(x.dim(), out.dim(), "the gradient's shape and the input's");
    let win = Window { size, stride };
    let mut out = out;
    if let (Some(src), Some(d), Some(dst)) = (x.to_slice(), delta.to_slice(), out.as_slice_mut()) {
        assert_eq!(delta.dim(), win.pooled(x.dim()), "δ's shape");
        let (_, _, h, w) = x.dim();
        let (_, _, oh, ow) = delta.dim();
        if (size, stride, h, w) == (2, 2, 2 * oh, 2 * ow) {
            return max_pool_grad_2x2(src, d, (h, w), dst, (oh, ow));
        }
        dst.fill(T::zero());
        let planes = src.chunks_exact(h * w).zip(d.chunks_exact(oh * ow));
        for ((plane, deltas), grad) in planes.zip(dst.chunks_exact_mut(h * w)) {
            for (i, row) in deltas.chunks_exact(ow).enumerate() {
                let top = i * stride * w;
                for (j, &d) in row.iter().enumerate() {
                    grad[first_max_at(plane, top + j * stride, w, size)] += d;
                }
            }
        }
        return;
    }
    pool_grad_planes(delta, win, out, |b, c, d, mut o| {
        let p = x.index_axis(Axis(0), b).index_axis_move(Axis(0), c);
        let add = |y, x, v| o[[y, x]] += v;
        pool_grad_plane(|y, x| p[[y, x]], add, d, win, Pool::Max);
    });
}

/// [`max_pool_grad_into`] into a new array of x's shape.
pub fn max_pool_grad<T: NdFloat>(
    x: ArrayView4<'_, T>,
    delta: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
) -> Array4<T> {
    let mut out = Array4::zeros(x.raw_dim());
    max_pool_grad_into(x, delta, size, stride, out.view_mut());
    out
}

/// The gradient of average pooling from δ `[B, c, oh, ow]` into `out`
/// `[B, c, h, w]`, zeroed first: each δ / size² is added to every element of
/// its window,
///
/// `out[b, c, y, x] = (1/size²) Σ_{i, j : 0 ≤ y − i·stride < size, 0 ≤ x − j·stride < size} δ[b, c, i, j]`
pub fn avg_pool_grad_into<T: NdFloat>(
    delta: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
    out: ArrayViewMut4<'_, T>,
) {
    let (win, none) = (Window { size, stride }, |_, _| T::zero());
    let mut out = out;
    let (_, _, h, w) = out.dim();
    if let (Some(d), Some(dst)) = (delta.to_slice(), out.as_slice_mut()) {
        assert_eq!(
            delta.dim(),
            win.pooled((delta.dim().0, delta.dim().1, h, w)),
            "δ's shape"
        );
        let (_, _, oh, ow) = delta.dim();
        dst.fill(T::zero());
        let scale = win.scale::<T>();
        for (deltas, grad) in d.chunks_exact(oh * ow).zip(dst.chunks_exact_mut(h * w)) {
            for (n, &d) in deltas.iter().enumerate() {
                let at = (n / ow) * stride * w + (n % ow) * stride;
                for u in 0..size {
                    let row = &mut grad[at + u * w..at + u * w + size];
                    row.iter_mut().for_each(|g| *g += d * scale);
                }
            }
        }
        return;
    }
    pool_grad_planes(delta, win, out, |_, _, d, mut o| {
        pool_grad_plane(none, |y, x, v| o[[y, x]] += v, d, win, Pool::Average);
    });
}

/// [`avg_pool_grad_into`] into a new array `[B, c, h, w]` for images of
/// `h×w`.
pub fn avg_pool_grad<T: NdFloat>(
    delta: ArrayView4<'_, T>,
    size: usize,
    stride: usize,
    (h, w): (usize, usize),
) -> Array4<T> {
    let mut out = Array4::zeros((delta.dim().0, delta.dim().1, h, w));
    avg_pool_grad_into(delta, size, stride, out.view_mut());
    out
}
