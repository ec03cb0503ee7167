//! Matrix products of tiny size fixed at compile time, written out term by
//! term: which products qualify ([`Tiny::of`], at most [`UNROLLED`]
//! multiply-adds per row or sample) and the statements that compute them.

use proc_macro2::TokenStream;
use quote::quote;

use super::plan::physical_rank;
use crate::ir::{Graph, NodeId, Op};

/// Most multiply-adds per row (or per sample, for a sum over the batch) that
/// a product of fixed-size factors is written out for, instead of calling
/// a matrix product.
pub const UNROLLED: usize = 16;

/// A matrix product whose per-sample work is tiny and known at compile time,
/// written out term by term (`out[1] = a[0] * W[[0, 1]] + a[1] * W[[1, 1]]`):
/// no call, no loop over the fixed dimensions, nothing a library would pack.
#[derive(Debug, Clone, Copy)]
pub enum Tiny {
    /// out[b, j] = Σ_p a[b, p]·W[p, j], W a parameter (`transposed`: W[j, p]);
    /// `k` and `n` are W's contracted and kept dimensions.
    Rows {
        k: usize,
        n: usize,
        transposed: bool,
    },
    /// out[i, j] = Σ_b a[b, i]·d[b, j]: a weight gradient, m×n, summed over
    /// the batch.
    BatchSum { m: usize, n: usize },
}

impl Tiny {
    /// The product `id` as tiny, if it is one.
    pub fn of(g: &Graph, id: NodeId) -> Option<Tiny> {
        let n = g.node(id);
        let Op::MatMul { ta, tb } = n.op else {
            return None;
        };
        let (a, b) = (g.node(n.args[0]), g.node(n.args[1]));
        if physical_rank(&a.ty) != 2 || physical_rank(&b.ty) != 2 {
            return None;
        }
        match (ta, a.ty.batched, b.ty.batched, &b.ty.shape[..]) {
            (false, true, false, &[r, c]) if matches!(b.op, Op::Param(_)) && r * c <= UNROLLED => {
                let (k, n) = if tb { (c, r) } else { (r, c) };
                Some(Tiny::Rows {
                    k,
                    n,
                    transposed: tb,
                })
            }
            (true, true, true, &[cols]) if !tb && !n.ty.batched => {
                let m = a.ty.shape.first().copied()?;
                (m * cols <= UNROLLED).then_some(Tiny::BatchSum { m, n: cols })
            }
            _ => None,
        }
    }

    /// out ← (the product), or with `add` out ← out + α·(the product); `α`
    /// scales it (`None`: 1). `a` and `b` are the product's arguments as
    /// stored (before any transpose).
    pub fn tokens(
        self,
        a: &TokenStream,
        b: &TokenStream,
        alpha: Option<&TokenStream>,
        add: bool,
        out: &TokenStream,
    ) -> TokenStream {
        let scaled = |term: TokenStream| match alpha {
            Some(alpha) => quote!(#alpha * #term),
            None => term,
        };
        match self {
            Tiny::Rows { k, n, transposed } => {
                let cells = (0..n).map(|j| {
                    let terms = (0..k).map(|p| {
                        let (p, j2) = (dim(p), dim(j));
                        let w = if transposed {
                            quote!(#b[[#j2, #p]])
                        } else {
                            quote!(#b[[#p, #j2]])
                        };
                        quote!(a[#p] * #w)
                    });
                    let j = dim(j);
                    let sum = scaled(quote!(#(#terms)+*));
                    if add {
                        quote!(out[#j] += #sum;)
                    } else {
                        quote!(out[#j] = #sum;)
                    }
                });
                quote! {
                    for (a, mut out) in #a.rows().into_iter().zip(#out.rows_mut()) {
                        #(#cells)*
                    }
                }
            }
            Tiny::BatchSum { m, n } => {
                let cells: Vec<(TokenStream, TokenStream)> = (0..m)
                    .flat_map(|i| (0..n).map(move |j| (dim(i), dim(j))))
                    .collect();
                let sums = cells
                    .iter()
                    .map(|(i, j)| quote!(sum[#i][#j] += a[#i] * d[#j];));
                let stores = cells.iter().map(|(i, j)| {
                    let value = scaled(quote!(sum[#i][#j]));
                    if add {
                        quote!(#out[[#i, #j]] += #value;)
                    } else {
                        quote!(#out[[#i, #j]] = #value;)
                    }
                });
                let (m, n) = (dim(m), dim(n));
                quote! {{
                    let mut sum = [[0.0; #n]; #m];
                    for (a, d) in #a.rows().into_iter().zip(#b.rows()) {
                        #(#sums)*
                    }
                    #(#stores)*
                }}
            }
        }
    }
}

/// A dimension or index as an unsuffixed literal (`2`, not `2usize`).
pub fn dim(n: usize) -> TokenStream {
    let lit = proc_macro2::Literal::usize_unsuffixed(n);
    quote!(#lit)
}
