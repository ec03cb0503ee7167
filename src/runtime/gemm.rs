//! Matrix products for generated code: c ← α·op(a)·op(b) + β·c.
//!
//! - [`gemm`]: small products, one row, and outer products in plain loops on
//!   contiguous slices; anything else through matrixmultiply.
//! - [`gemm_with`]: the same, but larger products run in packed panels in a
//!   [`Packing`] the caller keeps (the generated workspace's), so that a
//!   training step allocates nothing once it has seen its batch size.
//!
//! The packed product is the textbook one (Goto's): b is packed KC×NC into
//! panels of NR columns, a into panels of MR rows (or read in place, MR rows
//! side by side, when row-major), and an MR×NR micro-tile of
//! accumulators is kept in registers while the panels stream through it:
//! NR = 16 for f32 (two 8-lane registers), 8 for f64; MR = 6 for a packed a
//! of 64 rows or more (twelve accumulators, enough to hide the latency of a
//! fused multiply-add), 4 otherwise (batches of 32 divide by 4, and four
//! rows read in place stream better than six).
//! The micro-kernel is plain safe Rust (`mul_add` over fixed-size arrays),
//! compiled for AVX2+FMA inside `pulp`'s run-time dispatch, where LLVM turns
//! it into broadcasts and fused multiply-adds on 8-lane registers.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, NdFloat, Zip};

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
            for (a_row, c_row) in a.chunks_exact(k).zip(cs.chunks_exact_mut(n)) {
                for (&a_ip, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
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

/// Depth of one packed block.
const KC: usize = 256;
/// Rows of a packed block of a.
const MC: usize = 96;
/// Columns of a packed block of b.
const NC: usize = 2048;

/// The packing space of [`gemm_with`]: reused from call to call, so that a
/// product allocates nothing once it has seen its sizes.
#[derive(Clone)]
pub struct Packing<T> {
    a: Vec<T>,
    b: Vec<T>,
}

/// Its sizes, not its contents (scratch, overwritten by every product).
impl<T> std::fmt::Debug for Packing<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packing")
            .field("a", &self.a.len())
            .field("b", &self.b.len())
            .finish()
    }
}

impl<T> Default for Packing<T> {
    fn default() -> Self {
        Packing {
            a: Vec::new(),
            b: Vec::new(),
        }
    }
}

/// c ← α·a·b + β·c in packed panels, with the CPU's vector instructions
/// (AVX2 and FMA where it has them, chosen at run time by `pulp`).
fn gemm_packed<T: NdFloat>(
    pack: &mut Packing<T>,
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    struct Run<'a, 'b, 'c, 'p, T> {
        pack: &'p mut Packing<T>,
        alpha: T,
        a: ArrayView2<'a, T>,
        b: ArrayView2<'b, T>,
        beta: T,
        c: ArrayViewMut2<'c, T>,
    }
    impl<T: NdFloat> pulp::WithSimd for Run<'_, '_, '_, '_, T> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Run {
                pack,
                alpha,
                a,
                b,
                beta,
                c,
            } = self;
            // A row-major a is read in place, MR rows side by side; any other
            // is packed (a column-major one cheaply: MR contiguous values a step).
            let rows = match (a.to_slice_memory_order(), a.strides()) {
                (Some(data), &[rs, 1]) => Some((data, rs as usize)),
                _ => None,
            };
            // Six rows a tile (12 accumulators: room to hide the FMA's
            // latency) where a is packed and has enough rows that the ragged
            // last panel costs little; four otherwise (batches of 32 divide
            // by 4, and four rows read in place stream better than six).
            let six = a.nrows() >= 64 && rows.is_none();
            match (std::mem::size_of::<T>() == 4, six) {
                (true, true) => blocked::<T, 6, 16>(pack, alpha, a, rows, b, beta, c),
                (true, false) => blocked::<T, 4, 16>(pack, alpha, a, rows, b, beta, c),
                (false, true) => blocked::<T, 6, 8>(pack, alpha, a, rows, b, beta, c),
                (false, false) => blocked::<T, 4, 8>(pack, alpha, a, rows, b, beta, c),
            }
        }
    }
    pulp::Arch::new().dispatch(Run {
        pack,
        alpha,
        a,
        b,
        beta,
        c,
    });
}

/// The blocked product of [`gemm_packed`] with MR×NR tiles; `rows` is a's
/// memory and row stride when it is row-major (read in place). Reached only
/// through [`gemm_with`]: a product above [`SMALL_PRODUCT`], m and k above 1.
#[inline(always)]
fn blocked<T: NdFloat, const MR: usize, const NR: usize>(
    pack: &mut Packing<T>,
    alpha: T,
    a: ArrayView2<'_, T>,
    rows: Option<(&[T], usize)>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let Some(cs) = c.as_slice_mut() else {
        ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
        return;
    };
    let ldc = n;
    let kc_max = k.min(KC);
    let a_len = kc_max * MC.min(m).next_multiple_of(MR);
    let b_len = kc_max * NC.min(n).next_multiple_of(NR);
    if pack.a.len() < a_len {
        pack.a.resize(a_len, T::zero());
    }
    if pack.b.len() < b_len {
        pack.b.resize(b_len, T::zero());
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        // Depth blocks of equal size, none deeper than KC (784 = 4 × 196, not
        // 3 × 256 + 16: a shallow last block would be all overhead).
        let depth = k.div_ceil(k.div_ceil(KC));
        for pc in (0..k).step_by(depth) {
            let kc = depth.min(k - pc);
            let beta = if pc == 0 { beta } else { T::one() };
            pack_b::<T, NR>(&mut pack.b, &b, pc, kc, jc, nc);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let panels = mc.div_ceil(MR);
                match rows {
                    // Whole panels read from a's rows; only a short last one is packed.
                    Some(_) if mc % MR != 0 => {
                        pack_a::<T, MR>(&mut pack.a, &a, ic + mc - mc % MR, mc % MR, pc, kc)
                    }
                    Some(_) => {}
                    None => pack_a::<T, MR>(&mut pack.a, &a, ic, mc, pc, kc),
                }
                let b_panels = pack.b[..kc * nc.next_multiple_of(NR)].chunks_exact(kc * NR);
                for (jr, bp) in b_panels.enumerate() {
                    let j0 = jc + jr * NR;
                    let cols = NR.min(n - j0);
                    for ir in 0..panels {
                        let i0 = ic + ir * MR;
                        let full = MR.min(m - i0) == MR;
                        let acc = match rows {
                            Some((data, rs)) if full => {
                                let r: [&[T]; MR] =
                                    std::array::from_fn(|i| &data[(i0 + i) * rs + pc..][..kc]);
                                micro_rows::<T, MR, NR>(r, bp)
                            }
                            Some(_) => micro::<T, MR, NR>(&pack.a[..kc * MR], bp),
                            None => micro::<T, MR, NR>(&pack.a[ir * kc * MR..][..kc * MR], bp),
                        };
                        let tile = &mut cs[i0 * ldc + j0..];
                        if full && cols == NR {
                            store_full::<T, MR, NR>(tile, ldc, &acc, alpha, beta);
                        } else {
                            let tile_rows = MR.min(m - i0);
                            store_part::<T, MR, NR>(tile, ldc, &acc, tile_rows, cols, alpha, beta);
                        }
                    }
                }
            }
        }
    }
}

/// The MR×NR tile Σ_p a[p]·b[p] of one packed panel of each.
#[inline(always)]
fn micro<T: NdFloat, const MR: usize, const NR: usize>(a: &[T], b: &[T]) -> [[T; NR]; MR] {
    let mut acc = [[T::zero(); NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        fma_rows(&mut acc, ap, bp);
    }
    acc
}

/// The MR×NR tile Σ_p a[i][p]·b[p] of MR rows of a and a packed panel of b.
#[inline(always)]
fn micro_rows<T: NdFloat, const MR: usize, const NR: usize>(
    a: [&[T]; MR],
    b: &[T],
) -> [[T; NR]; MR] {
    let mut acc = [[T::zero(); NR]; MR];
    // The rows zipped side by side, so that no step checks a bound.
    if let Ok(&[a0, a1, a2, a3, a4, a5]) = <&[&[T]; 6]>::try_from(&a[..]) {
        let columns = a0.iter().zip(a1).zip(a2).zip(a3).zip(a4).zip(a5);
        let mut six = [[T::zero(); NR]; 6];
        for ((((((&x0, &x1), &x2), &x3), &x4), &x5), bp) in columns.zip(b.chunks_exact(NR)) {
            fma_rows(&mut six, &[x0, x1, x2, x3, x4, x5], bp);
        }
        acc.iter_mut().zip(six).for_each(|(r, s)| *r = s);
    } else if let Ok(&[a0, a1, a2, a3]) = <&[&[T]; 4]>::try_from(&a[..]) {
        let columns = a0.iter().zip(a1).zip(a2).zip(a3);
        let mut four = [[T::zero(); NR]; 4];
        for ((((&x0, &x1), &x2), &x3), bp) in columns.zip(b.chunks_exact(NR)) {
            fma_rows(&mut four, &[x0, x1, x2, x3], bp);
        }
        acc.iter_mut().zip(four).for_each(|(r, s)| *r = s);
    }
    acc
}

/// acc[i][j] += a[i]·b[j]: one step of a tile (`a` has M values, `b` NR).
#[inline(always)]
fn fma_rows<T: NdFloat, const M: usize, const NR: usize>(acc: &mut [[T; NR]; M], a: &[T], b: &[T]) {
    for i in 0..M {
        let ai = a[i];
        for j in 0..NR {
            acc[i][j] = ai.mul_add(b[j], acc[i][j]);
        }
    }
}

/// A whole tile of c (rows `ldc` apart) ← β·c + α·acc.
#[inline(always)]
fn store_full<T: NdFloat, const MR: usize, const NR: usize>(
    c: &mut [T],
    ldc: usize,
    acc: &[[T; NR]; MR],
    alpha: T,
    beta: T,
) {
    let rows = c.chunks_mut(ldc).zip(acc);
    if beta == T::zero() {
        for (row, a) in rows {
            let row: &mut [T; NR] = (&mut row[..NR]).try_into().expect("NR values");
            *row = std::array::from_fn(|j| alpha * a[j]);
        }
    } else if beta == T::one() {
        for (row, a) in rows {
            let row: &mut [T; NR] = (&mut row[..NR]).try_into().expect("NR values");
            let old = *row;
            *row = std::array::from_fn(|j| alpha.mul_add(a[j], old[j]));
        }
    } else {
        for (row, a) in rows {
            let row: &mut [T; NR] = (&mut row[..NR]).try_into().expect("NR values");
            let old = *row;
            *row = std::array::from_fn(|j| alpha.mul_add(a[j], beta * old[j]));
        }
    }
}

/// The first `rows`×`cols` of a tile of c ← β·c + α·acc.
#[inline(always)]
fn store_part<T: NdFloat, const MR: usize, const NR: usize>(
    c: &mut [T],
    ldc: usize,
    acc: &[[T; NR]; MR],
    rows: usize,
    cols: usize,
    alpha: T,
    beta: T,
) {
    for (i, acc_row) in acc.iter().enumerate().take(rows) {
        let row = &mut c[i * ldc..][..cols];
        for (v, &s) in row.iter_mut().zip(acc_row) {
            let old = if beta == T::zero() {
                T::zero()
            } else {
                beta * *v
            };
            *v = alpha.mul_add(s, old);
        }
    }
}

/// One panel whose W values a step are contiguous in `data` (a row-major b,
/// a column-major a): step p's start at `first + p·stride`; the first `used`
/// are the matrix's, the rest zeros. A short panel reads a whole window where
/// the data goes on (into the next row) and masks it: one vector blend
/// instead of a loop.
#[inline(always)]
fn pack_contiguous<T: NdFloat, const W: usize>(
    panel: &mut [T],
    data: &[T],
    first: usize,
    stride: usize,
    used: usize,
) {
    for (p, out) in panel.chunks_exact_mut(W).enumerate() {
        let out: &mut [T; W] = out.try_into().expect("W values");
        let start = first + p * stride;
        match data[start..].first_chunk::<W>() {
            Some(window) if used == W => *out = *window,
            Some(window) => {
                *out = std::array::from_fn(|i| if i < used { window[i] } else { T::zero() })
            }
            None => {
                let values = &data[start..][..used];
                *out = std::array::from_fn(|i| values.get(i).copied().unwrap_or(T::zero()))
            }
        }
    }
}

/// a[ic..ic+mc, pc..pc+kc] as panels of MR rows, each kc×MR (p-major), zero padded.
#[inline(always)]
fn pack_a<T: NdFloat, const MR: usize>(
    buf: &mut [T],
    a: &ArrayView2<'_, T>,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
) {
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let panels = buf[..kc * mc.next_multiple_of(MR)].chunks_exact_mut(kc * MR);
    match (a.as_slice_memory_order(), rs, cs) {
        // Row-major: MR rows read side by side.
        (Some(data), _, 1) => {
            let rs = rs as usize;
            for (q, panel) in panels.enumerate() {
                let i0 = ic + q * MR;
                let rows = MR.min(ic + mc - i0);
                if rows == MR {
                    let r: [&[T]; MR] = std::array::from_fn(|i| &data[(i0 + i) * rs + pc..][..kc]);
                    for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
                        for i in 0..MR {
                            out[i] = r[i][p];
                        }
                    }
                } else {
                    for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
                        for (i, o) in out.iter_mut().enumerate() {
                            *o = if i < rows {
                                data[(i0 + i) * rs + pc + p]
                            } else {
                                T::zero()
                            };
                        }
                    }
                }
            }
        }
        // Column-major (a transposed matrix): MR contiguous values per p.
        (Some(data), 1, _) => {
            for (q, panel) in panels.enumerate() {
                let i0 = ic + q * MR;
                let rows = MR.min(ic + mc - i0);
                pack_contiguous::<T, MR>(panel, data, pc * cs as usize + i0, cs as usize, rows);
            }
        }
        _ => {
            for (q, panel) in panels.enumerate() {
                let i0 = ic + q * MR;
                for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
                    for (i, o) in out.iter_mut().enumerate() {
                        *o = if i0 + i < ic + mc {
                            a[[i0 + i, pc + p]]
                        } else {
                            T::zero()
                        };
                    }
                }
            }
        }
    }
}

/// b[pc..pc+kc, jc..jc+nc] as panels of NR columns, each kc×NR (p-major), zero padded.
#[inline(always)]
fn pack_b<T: NdFloat, const NR: usize>(
    buf: &mut [T],
    b: &ArrayView2<'_, T>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
) {
    let (rs, cs) = (b.strides()[0], b.strides()[1]);
    let panels = buf[..kc * nc.next_multiple_of(NR)].chunks_exact_mut(kc * NR);
    match (b.as_slice_memory_order(), rs, cs) {
        // Row-major: NR contiguous values per p.
        (Some(data), _, 1) => {
            for (q, panel) in panels.enumerate() {
                let j0 = jc + q * NR;
                let cols = NR.min(jc + nc - j0);
                pack_contiguous::<T, NR>(panel, data, pc * rs as usize + j0, rs as usize, cols);
            }
        }
        // Column-major (a transposed matrix): NR columns read side by side.
        (Some(data), 1, _) => {
            let cs = cs as usize;
            for (q, panel) in panels.enumerate() {
                let j0 = jc + q * NR;
                let cols = NR.min(jc + nc - j0);
                for j in 0..NR {
                    let rows = panel.chunks_exact_mut(NR);
                    if j < cols {
                        let col = &data[(j0 + j) * cs + pc..][..kc];
                        for (row, &v) in rows.zip(col) {
                            let row: &mut [T; NR] = row.try_into().expect("NR values");
                            row[j] = v;
                        }
                    } else {
                        for row in rows {
                            let row: &mut [T; NR] = row.try_into().expect("NR values");
                            row[j] = T::zero();
                        }
                    }
                }
            }
        }
        // Any other layout: bᵀ's rows are these panels' columns, element by
        // element.
        _ => pack_a::<T, NR>(buf, &b.t(), jc, nc, pc, kc),
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
