//! The packed matrix product of [`gemm_with`](super::gemm_with) for the larger products.
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

use ndarray::{ArrayView2, ArrayViewMut2, NdFloat};

/// Depth of one packed block.
const KC: usize = 256;
/// Rows of a packed block of a.
const MC: usize = 96;
/// Columns of a packed block of b.
const NC: usize = 2048;

/// The packing space of [`gemm_with`](super::gemm_with): reused from call to call, so that a
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

impl<T: NdFloat> Packing<T> {
    /// At least `len` values of scratch, lent from the packed panels' space
    /// (which the next product overwrites): grown once, then reused.
    pub(super) fn scratch(&mut self, len: usize) -> &mut [T] {
        if self.b.len() < len {
            self.b.resize(len, T::zero());
        }
        &mut self.b[..len]
    }
}

/// c ← α·a·b + β·c in packed panels, with the CPU's vector instructions
/// (AVX2 and FMA where it has them, chosen at run time by `pulp`).
pub(super) fn gemm_packed<T: NdFloat>(
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
