//! Convolution and pooling over batches of images, for generated code.
//!
//! Layouts are PyTorch's: images `[B, c, h, w]`, kernels `[k, c, r, s]`,
//! and a convolution is a cross-correlation with zero padding `p` on each
//! side and a `stride` ≥ 1, so that its output is `[B, k, oh, ow]` with
//! `oh = (h + 2p − r)/stride + 1` and `ow = (w + 2p − s)/stride + 1`.
//!
//! (The pools are in `pool.rs`.) The three convolution kernels are one GEMM each over the whole batch:
//! - forward: im2col of x (`columns[c·r·s, B·oh·ow]`), then
//!   `W[k, c·r·s] · columns` and a scatter into `[B, k, oh, ow]`;
//! - input gradient: `Wᵀ · δ[k, B·oh·ow]` into the columns, then col2im;
//! - kernel gradient: im2col of x, then `δ[k, B·oh·ow] · columnsᵀ`.
//!
//! The buffers live in a [`ConvScratch`] the caller keeps, so that once a
//! kernel has seen its shapes it allocates nothing. Inputs and outputs may be
//! views in any memory layout: a standard-layout one is read or written in
//! place, any other is copied through the scratch space.

use std::ops::Range;

use ndarray::{
    Array4, ArrayView, ArrayView2, ArrayView4, ArrayViewMut, ArrayViewMut1, ArrayViewMut2,
    ArrayViewMut4, Dimension, NdFloat,
};

use super::gemm::gemm_with;
use super::packed::Packing;

/// Reusable buffers of the convolution kernels: the im2col matrix, a second
/// matrix (δ rearranged to `[k, B·oh·ow]`, or a product before it is
/// scattered), and the GEMM's packing space. Each grows on first use and is
/// reused: after one call with the same shapes, no kernel allocates.
#[derive(Clone)]
pub struct ConvScratch<T> {
    /// The im2col matrix `[c·r·s, B·oh·ow]`.
    columns: Vec<T>,
    /// δ as `[k, B·oh·ow]`, a product before scattering, or a copy of an
    /// input in another layout.
    gathered: Vec<T>,
    /// The packing space of [`gemm_with`].
    packing: Packing<T>,
}

impl<T> Default for ConvScratch<T> {
    fn default() -> Self {
        ConvScratch {
            columns: Vec::new(),
            gathered: Vec::new(),
            packing: Packing::default(),
        }
    }
}

/// Its sizes, not its contents (scratch, overwritten by every call).
impl<T> std::fmt::Debug for ConvScratch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvScratch")
            .field("columns", &self.columns.len())
            .field("gathered", &self.gathered.len())
            .field("packing", &self.packing)
            .finish()
    }
}

impl<T> ConvScratch<T> {
    /// The three buffers, to borrow apart.
    fn parts(&mut self) -> (&mut Vec<T>, &mut Vec<T>, &mut Packing<T>) {
        (&mut self.columns, &mut self.gathered, &mut self.packing)
    }
}

/// The im2col matrix of one convolution's input, kept by the forward kernel
/// ([`conv2d_keeping_columns_into`]) for the kernel gradient of the same
/// step ([`conv2d_kernel_grad_from_columns_into`]), which then reads it
/// instead of unfolding the same images again. It remembers the shapes it
/// was made for, and the gradient checks them.
#[derive(Clone, Default)]
pub struct Columns<T> {
    /// `[c·r·s, B·oh·ow]`, row-major.
    data: Vec<T>,
    /// The geometry the columns were made for (its kernel count aside).
    made_for: Option<Geometry>,
}

/// Its size and shapes, not its contents.
impl<T> std::fmt::Debug for Columns<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("len", &self.data.len())
            .field("made_for", &self.made_for)
            .finish()
    }
}

/// The shapes of one convolution: images `[batch, channels, h, w]`,
/// `kernels` of `r×s`, outputs `oh×ow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    batch: usize,
    channels: usize,
    h: usize,
    w: usize,
    kernels: usize,
    r: usize,
    s: usize,
    stride: usize,
    padding: usize,
    oh: usize,
    ow: usize,
}

/// One side of a convolution's output, `(len + 2p − kernel)/stride + 1`;
/// panics unless the stride is positive and the kernel fits the padded side.
fn conv_side(len: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    assert!(stride >= 1, "a convolution's stride is at least 1");
    assert!(
        kernel <= len + 2 * padding,
        "a kernel of {kernel} does not fit a side of {len} padded by {padding}"
    );
    (len + 2 * padding - kernel) / stride + 1
}

impl Geometry {
    /// The geometry of images `[B, c, h, w]` under kernels `[k, c, r, s]`
    /// with outputs `[B, k, oh, ow]`; panics unless the three agree.
    fn new(
        (batch, channels, h, w): (usize, usize, usize, usize),
        (kernels, kc, r, s): (usize, usize, usize, usize),
        output: (usize, usize, usize, usize),
        (stride, padding): (usize, usize),
    ) -> Self {
        let oh = conv_side(h, r, stride, padding);
        let ow = conv_side(w, s, stride, padding);
        assert_eq!(kc, channels, "the kernels' channels and the images'");
        assert_eq!(output, (batch, kernels, oh, ow), "the output's shape");
        Geometry {
            batch,
            channels,
            h,
            w,
            kernels,
            r,
            s,
            stride,
            padding,
            oh,
            ow,
        }
    }

    /// The geometry of the columns alone: the same images, windows and
    /// outputs whatever the number of kernels.
    fn columns_only(self) -> Self {
        Geometry { kernels: 0, ..self }
    }

    /// Whether the product is empty (its result all zeros).
    fn is_empty(&self) -> bool {
        self.rows() == 0 || self.cols() == 0 || self.kernels == 0
    }

    /// Rows of the im2col matrix: c·r·s.
    fn rows(&self) -> usize {
        self.channels * self.r * self.s
    }

    /// Columns of the im2col matrix: B·oh·ow.
    fn cols(&self) -> usize {
        self.batch * self.oh * self.ow
    }

    /// The outputs `lo..hi` along one side whose input `i·stride + offset`
    /// lies inside `0..len` (the rest read the zero padding).
    fn inside(&self, offset: usize, len: usize, outputs: usize) -> (usize, usize) {
        let (stride, offset) = (self.stride, offset as isize - self.padding as isize);
        let lo = ((-offset).max(0) as usize).div_ceil(stride);
        let end = (len as isize - offset).max(0) as usize; // i·stride < end
        let hi = end.div_ceil(stride).min(outputs);
        (lo.min(hi), hi)
    }
}

/// `buf[..len]`, grown (with zeros) if it is shorter.
fn grow<T: NdFloat>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    if buf.len() < len {
        buf.resize(len, T::zero());
    }
    &mut buf[..len]
}

/// a's elements in standard (row-major) order: a's own memory, or a copy in
/// `buf` (of [`copy_len`]) when a is in another layout.
fn standard<'a, T: NdFloat>(a: &'a ArrayView4<'_, T>, buf: &'a mut [T]) -> &'a [T] {
    match a.to_slice() {
        Some(data) => data,
        None => {
            reshape_into(a.view(), ArrayViewMut1::from(&mut *buf));
            buf
        }
    }
}

/// The buffer [`standard`] needs for a: none in standard layout.
fn copy_len<T: NdFloat>(a: &ArrayView4<'_, T>) -> usize {
    if a.is_standard_layout() {
        0
    } else {
        a.len()
    }
}

/// `buf[k, b·oh·ow + i·ow + j] ← δ[b, k, i, j]`: δ as the matrix
/// `[k, B·oh·ow]`.
fn gather<'a, T: NdFloat>(delta: ArrayView4<'_, T>, buf: &'a mut [T]) -> ArrayView2<'a, T> {
    let (b, k, oh, ow) = delta.dim();
    let plane = oh * ow;
    match delta.to_slice() {
        // Plane by plane: buf[k, b·oh·ow ..][.. oh·ow] ← δ[b, k]
        Some(src) => {
            for (at, planes) in src.chunks_exact(plane).enumerate() {
                let (bb, kk) = (at / k, at % k);
                let start = (kk * b + bb) * plane;
                buf[start..start + plane].copy_from_slice(planes);
            }
        }
        None => {
            let mut matrix =
                ArrayViewMut4::from_shape((k, b, oh, ow), &mut *buf).expect("k·B·oh·ow");
            matrix.assign(&delta.permuted_axes([1, 0, 2, 3]));
        }
    }
    ArrayView2::from_shape((k, b * plane), buf).expect("k × B·oh·ow")
}

/// Walks the im2col matrix `[c·r·s, B·oh·ow]` in runs along its rows, each
/// row `(c·r + u)·s + v` holding `x[b, c, i·stride + u − p, j·stride + v − p]`
/// at column `b·oh·ow + i·ow + j`: `run(columns, Some(at))` for a run that
/// reads the image (in standard layout) from `at` on, every `stride`-th
/// element, and `run(columns, None)` for one in the padding. The runs cover
/// the matrix once, in order; no element is tested for the padding.
#[inline(always)]
fn unfold(g: &Geometry, mut run: impl FnMut(Range<usize>, Option<usize>)) {
    let (plane, out_plane, n, ow) = (g.h * g.w, g.oh * g.ow, g.cols(), g.ow);
    let mut row = 0;
    for c in 0..g.channels {
        for u in 0..g.r {
            let (i0, i1) = g.inside(u, g.h, g.oh);
            for v in 0..g.s {
                let (j0, j1) = g.inside(v, g.w, g.ow);
                for b in 0..g.batch {
                    let (start, image) = (row * n + b * out_plane, (b * g.channels + c) * plane);
                    run(start..start + i0 * ow, None);
                    for i in i0..i1 {
                        let (y, x0) = (i * g.stride + u - g.padding, j0 * g.stride + v - g.padding);
                        let at = start + i * ow;
                        run(at..at + j0, None);
                        run(at + j0..at + j1, Some(image + y * g.w + x0));
                        run(at + j1..at + ow, None);
                    }
                    run(start + i1 * ow..start + out_plane, None);
                }
                row += 1;
            }
        }
    }
}

/// The im2col matrix of x (in standard layout) into `columns` (see
/// [`unfold`]): runs of zeros and copies of image rows.
fn im2col<T: NdFloat>(x: &[T], g: &Geometry, columns: &mut [T]) {
    unfold(g, |cols, at| {
        let dst = &mut columns[cols];
        match at {
            None => dst.fill(T::zero()),
            Some(at) if g.stride == 1 => dst.copy_from_slice(&x[at..at + dst.len()]),
            Some(at) => {
                let src = x[at..].iter().step_by(g.stride);
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
            }
        }
    });
}

/// The adjoint of [`im2col`]: each entry of `columns` that is not padding
/// added to the element of `out` (in standard layout) it was read from.
fn col2im<T: NdFloat>(columns: &[T], g: &Geometry, out: &mut [T]) {
    unfold(g, |cols, at| {
        let src = &columns[cols];
        match at {
            None => {}
            Some(at) if g.stride == 1 => {
                let dst = &mut out[at..at + src.len()];
                dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
            }
            Some(at) => {
                let dst = out[at..].iter_mut().step_by(g.stride);
                dst.zip(src).for_each(|(d, &s)| *d += s);
            }
        }
    });
}

/// The 2-d convolution (PyTorch's `Conv2d`, a cross-correlation) of images
/// x `[B, c, h, w]` with kernels W `[k, c, r, s]`, zero padding `p` on each
/// side, into `out` `[B, k, oh, ow]`:
///
/// `out[b, k, i, j] = Σ_c Σ_u Σ_v W[k, c, u, v] · x[b, c, i·stride + u − p, j·stride + v − p]`
///
/// by one im2col of the batch, one GEMM and a scatter; allocating nothing
/// once `scratch` has seen these shapes.
pub fn conv2d_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    scratch: &mut ConvScratch<T>,
    out: ArrayViewMut4<'_, T>,
) {
    let g = Geometry::new(x.dim(), w.dim(), out.dim(), (stride, padding));
    let (columns, gathered, packing) = scratch.parts();
    forward(x, w, &g, columns, gathered, packing, out);
}

/// [`conv2d_into`], keeping the im2col matrix of x in `columns` for
/// [`conv2d_kernel_grad_from_columns_into`] (the kernel gradient of this
/// convolution later in the same step) instead of in the scratch space.
pub fn conv2d_keeping_columns_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    columns: &mut Columns<T>,
    scratch: &mut ConvScratch<T>,
    out: ArrayViewMut4<'_, T>,
) {
    let g = Geometry::new(x.dim(), w.dim(), out.dim(), (stride, padding));
    columns.made_for = Some(g.columns_only());
    let (_, gathered, packing) = scratch.parts();
    forward(x, w, &g, &mut columns.data, gathered, packing, out);
}

/// The forward convolution of [`conv2d_into`] with its buffers apart: the
/// im2col matrix into `columns`.
fn forward<T: NdFloat>(
    x: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    g: &Geometry,
    columns: &mut Vec<T>,
    gathered: &mut Vec<T>,
    packing: &mut Packing<T>,
    mut out: ArrayViewMut4<'_, T>,
) {
    let (k, rows, n) = (g.kernels, g.rows(), g.cols());
    if g.is_empty() {
        out.fill(T::zero());
        return;
    }
    let columns = grow(columns, rows * n);
    im2col(standard(&x, grow(gathered, copy_len(&x))), g, columns);
    let columns = ArrayView2::from_shape((rows, n), &*columns).expect("c·r·s × B·oh·ow");
    let (product, w_copy) = grow(gathered, k * n + copy_len(&w)).split_at_mut(k * n);
    let w = ArrayView2::from_shape((k, rows), standard(&w, w_copy)).expect("k × c·r·s");
    let c = ArrayViewMut2::from_shape((k, n), &mut *product).expect("k × B·oh·ow");
    gemm_with(packing, T::one(), w, columns, T::zero(), c);
    // out[b, k, i, j] ← product[k, b·oh·ow + i·ow + j]
    let plane = g.oh * g.ow;
    match out.as_slice_mut() {
        // Plane by plane: out[b, k] ← product[k, b·oh·ow ..][.. oh·ow]
        Some(out) => {
            for (at, dst) in out.chunks_exact_mut(plane).enumerate() {
                let (b, kk) = (at / k, at % k);
                let start = (kk * g.batch + b) * plane;
                dst.copy_from_slice(&product[start..start + plane]);
            }
        }
        None => {
            let product =
                ArrayView4::from_shape((k, g.batch, g.oh, g.ow), &*product).expect("k·B·oh·ow");
            out.assign(&product.permuted_axes([1, 0, 2, 3]));
        }
    }
}

/// [`conv2d_into`] into a new array `[B, k, oh, ow]`, with scratch space of
/// its own.
pub fn conv2d<T: NdFloat>(
    x: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
) -> Array4<T> {
    let ((b, _, h, w_), (k, _, r, s)) = (x.dim(), w.dim());
    let oh = conv_side(h, r, stride, padding);
    let ow = conv_side(w_, s, stride, padding);
    let mut out = Array4::zeros((b, k, oh, ow));
    let scratch = &mut ConvScratch::default();
    conv2d_into(x, w, stride, padding, scratch, out.view_mut());
    out
}

/// The gradient of a convolution with respect to its input (a transposed
/// convolution): from δ `[B, k, oh, ow]` and W `[k, c, r, s]` into `out`
/// `[B, c, h, w]` (overwritten),
///
/// `out[b, c, y, x] = Σ_k Σ_u Σ_v Σ_{i, j : i·stride + u − p = y, j·stride + v − p = x} W[k, c, u, v] · δ[b, k, i, j]`
///
/// by one GEMM `Wᵀ[c·r·s, k] · δ[k, B·oh·ow]` into the columns and col2im;
/// allocating nothing once `scratch` has seen these shapes.
pub fn conv2d_input_grad_into<T: NdFloat>(
    delta: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    scratch: &mut ConvScratch<T>,
    mut out: ArrayViewMut4<'_, T>,
) {
    let g = Geometry::new(out.dim(), w.dim(), delta.dim(), (stride, padding));
    let (k, rows, n) = (g.kernels, g.rows(), g.cols());
    if g.is_empty() {
        out.fill(T::zero());
        return;
    }
    let (columns, gathered, packing) = scratch.parts();
    let (delta_buf, w_copy) = grow(gathered, k * n + copy_len(&w)).split_at_mut(k * n);
    let delta = gather(delta, delta_buf);
    let w = ArrayView2::from_shape((k, rows), standard(&w, w_copy)).expect("k × c·r·s");
    let columns = grow(columns, rows * n);
    let c = ArrayViewMut2::from_shape((rows, n), &mut *columns).expect("c·r·s × B·oh·ow");
    gemm_with(packing, T::one(), w.t(), delta, T::zero(), c);
    match out.as_slice_mut() {
        Some(out) => {
            out.fill(T::zero());
            col2im(columns, &g, out);
        }
        None => {
            let image = grow(gathered, out.len());
            image.fill(T::zero());
            col2im(columns, &g, image);
            reshape_into(ArrayView::from(&*image), out);
        }
    }
}

/// [`conv2d_input_grad_into`] into a new array `[B, c, h, w]` for images of
/// `h×w`, with scratch space of its own.
pub fn conv2d_input_grad<T: NdFloat>(
    delta: ArrayView4<'_, T>,
    w: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    (h, w_): (usize, usize),
) -> Array4<T> {
    let mut out = Array4::zeros((delta.dim().0, w.dim().1, h, w_));
    let scratch = &mut ConvScratch::default();
    conv2d_input_grad_into(delta, w, stride, padding, scratch, out.view_mut());
    out
}

/// The gradient of a convolution with respect to its kernels, summed over
/// the batch: from images x `[B, c, h, w]` and δ `[B, k, oh, ow]` into `out`
/// `[k, c, r, s]` (overwritten),
///
/// `out[k, c, u, v] = Σ_b Σ_i Σ_j δ[b, k, i, j] · x[b, c, i·stride + u − p, j·stride + v − p]`
///
/// by one im2col of x and one GEMM `δ[k, B·oh·ow] · columnsᵀ`; allocating
/// nothing once `scratch` has seen these shapes.
pub fn conv2d_kernel_grad_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    delta: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    scratch: &mut ConvScratch<T>,
    mut out: ArrayViewMut4<'_, T>,
) {
    let g = Geometry::new(x.dim(), out.dim(), delta.dim(), (stride, padding));
    if g.is_empty() {
        out.fill(T::zero());
        return;
    }
    let (columns, gathered, packing) = scratch.parts();
    let columns = grow(columns, g.rows() * g.cols());
    im2col(standard(&x, grow(gathered, copy_len(&x))), &g, columns);
    kernel_grad(columns, delta, &g, gathered, packing, out);
}

/// [`conv2d_kernel_grad_into`] from the im2col matrix of x that
/// [`conv2d_keeping_columns_into`] kept in the forward pass of the same
/// step: the same result, without unfolding x again. Panics if the columns
/// were made for other shapes (x, the kernels' side, stride or padding).
pub fn conv2d_kernel_grad_from_columns_into<T: NdFloat>(
    x: ArrayView4<'_, T>,
    columns: &Columns<T>,
    delta: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    scratch: &mut ConvScratch<T>,
    mut out: ArrayViewMut4<'_, T>,
) {
    let g = Geometry::new(x.dim(), out.dim(), delta.dim(), (stride, padding));
    assert_eq!(
        columns.made_for,
        Some(g.columns_only()),
        "columns kept from a convolution of other shapes"
    );
    if g.is_empty() {
        out.fill(T::zero());
        return;
    }
    let (_, gathered, packing) = scratch.parts();
    let columns = &columns.data[..g.rows() * g.cols()];
    kernel_grad(columns, delta, &g, gathered, packing, out);
}

/// The kernel gradient's product `δ[k, B·oh·ow] · columnsᵀ` into out.
fn kernel_grad<T: NdFloat>(
    columns: &[T],
    delta: ArrayView4<'_, T>,
    g: &Geometry,
    gathered: &mut Vec<T>,
    packing: &mut Packing<T>,
    out: ArrayViewMut4<'_, T>,
) {
    let (k, rows, n) = (g.kernels, g.rows(), g.cols());
    let columns = ArrayView2::from_shape((rows, n), columns).expect("c·r·s × B·oh·ow");
    // The product is small (k × c·r·s): written apart and copied into out,
    // whatever its layout.
    let (delta_buf, product) = grow(gathered, k * n + k * rows).split_at_mut(k * n);
    let delta = gather(delta, delta_buf);
    if transpose_kernel_grad(k, rows) {
        // (δ·columnsᵀ)ᵀ = columns·δᵀ: the columns' rows read in place.
        let c = ArrayViewMut2::from_shape((rows, k), &mut *product).expect("c·r·s × k");
        gemm_with(packing, T::one(), columns, delta.t(), T::zero(), c);
        let product = ArrayView2::from_shape((rows, k), &*product).expect("c·r·s × k");
        reshape_into(product.t(), out);
    } else {
        let c = ArrayViewMut2::from_shape((k, rows), &mut *product).expect("k × c·r·s");
        gemm_with(packing, T::one(), delta, columns.t(), T::zero(), c);
        reshape_into(ArrayView::from(&*product), out);
    }
}

/// Whether the kernel gradient's product runs faster transposed, as
/// `columns[c·r·s, n] · δᵀ[n, k]`: unless its tiles (4 rows by 16 columns in
/// f32) would waste more of the padding on ragged edges. Transposed, the
/// long rows of the columns stream in place and only k columns of δ are
/// packed, instead of c·r·s columns of the columns; measured on the
/// benchmark's shapes 1.5–2× faster where the padding is equal.
fn transpose_kernel_grad(k: usize, rows: usize) -> bool {
    let tiles = |m: usize, n: usize| m.next_multiple_of(4) * n.next_multiple_of(16);
    tiles(rows, k) <= tiles(k, rows)
}

/// [`conv2d_kernel_grad_into`] into a new array `[k, c, r, s]` for kernels
/// of `r×s`, with scratch space of its own.
pub fn conv2d_kernel_grad<T: NdFloat>(
    x: ArrayView4<'_, T>,
    delta: ArrayView4<'_, T>,
    stride: usize,
    padding: usize,
    (r, s): (usize, usize),
) -> Array4<T> {
    let mut out = Array4::zeros((delta.dim().1, x.dim().1, r, s));
    let scratch = &mut ConvScratch::default();
    conv2d_kernel_grad_into(x, delta, stride, padding, scratch, out.view_mut());
    out
}

/// Σ over the batch and the plane of each channel, into `out` `[c]`
/// (overwritten): the gradient of a convolution's bias,
///
/// `out[c] = Σ_b Σ_i Σ_j g[b, c, i, j]`
pub fn sum_channels_into<T: NdFloat>(g: ArrayView4<'_, T>, mut out: ArrayViewMut1<'_, T>) {
    assert_eq!(out.len(), g.dim().1, "one sum per channel");
    out.fill(T::zero());
    for image in g.outer_iter() {
        for (p, o) in image.outer_iter().zip(out.iter_mut()) {
            *o += p.sum();
        }
    }
}

/// Σ over the plane of each image's channel, into `out` `[B, c]`
/// (overwritten):
///
/// `out[b, c] = Σ_i Σ_j g[b, c, i, j]`
pub fn sum_spatial_into<T: NdFloat>(g: ArrayView4<'_, T>, mut out: ArrayViewMut2<'_, T>) {
    assert_eq!(out.dim(), (g.dim().0, g.dim().1), "the sums' shape");
    for (image, mut sums) in g.outer_iter().zip(out.outer_iter_mut()) {
        for (p, o) in image.outer_iter().zip(sums.iter_mut()) {
            *o = p.sum();
        }
    }
}

/// x's elements in logical row-major order into `out`, of any shape with
/// as many elements (flattening `[B, c, h, w]` to `[B, c·h·w]` and back):
///
/// `out[n] = x[n]`, n the row-major position in each.
///
/// Either side may be in any memory layout; lengths that differ are a
/// debug assertion (in release, the shorter one is copied).
pub fn reshape_into<T: NdFloat, D1: Dimension, D2: Dimension>(
    x: ArrayView<'_, T, D1>,
    mut out: ArrayViewMut<'_, T, D2>,
) {
    debug_assert_eq!(x.len(), out.len(), "a reshape keeps the element count");
    if let (Some(src), Some(dst)) = (x.as_slice(), out.as_slice_mut()) {
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        return;
    }
    out.iter_mut().zip(x.iter()).for_each(|(o, &v)| *o = v);
}

#[cfg(test)]
#[path = "conv_tests.rs"]
mod tests;
