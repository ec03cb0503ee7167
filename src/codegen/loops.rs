//! The fused elementwise loops: each bound elementwise node and the nodes
//! inlined into it as one pass (`Zip`), allocating (`map_collect`) or into
//! the workspace; images with a value per channel viewed with their rows
//! merged, and loops with a value per row run row by row (a contiguous inner
//! loop each), so that the inner loop vectorizes.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::plan::{is_leaf, physical_rank, Emitter};
use super::tiny::dim;
use crate::ir::NodeId;
use crate::lang::Type;

impl Emitter<'_> {
    /// A fused elementwise loop writing into `out`.
    pub(super) fn fused_into(&mut self, root: NodeId, out: &TokenStream) -> TokenStream {
        let (_, leaves) = self.cluster(root);
        let (expr, _) = self.scalar(root, true);
        let ty = self.g.node(root).ty.clone();
        if leaves.is_empty() {
            return quote!(#out.fill(#expr););
        }
        let names: Vec<Ident> = leaves.iter().map(|l| self.ident(*l)).collect();
        if let Some(rows) = self.row_loop(out, &leaves, &names, &expr, &ty) {
            return rows;
        }
        // Images with a value per channel: Zip's inner loop would run along
        // one row of the image (broadcasting stops it merging axes), so each
        // image is viewed with its rows merged into one, [B, c, 1, h·w],
        // when every image of the loop is a workspace array (standard
        // layout, so the merge always succeeds).
        let image = ty.batched && ty.shape.len() == 3;
        let per_channel = leaves.iter().any(|l| self.g.node(*l).ty.shape.len() < 3);
        let merged = image
            && per_channel
            && leaves.iter().all(|l| {
                let n = self.g.node(*l);
                n.ty.shape.len() <= 1 || (n.ty == ty && !is_leaf(n.op))
            });
        let mut prologue = TokenStream::new();
        let merge = |r: TokenStream, name: &Ident, view: TokenStream| {
            quote! {
                let mut #name = #r.#view();
                #name.merge_axes(::denpa::ndarray::Axis(2), ::denpa::ndarray::Axis(3));
            }
        };
        let out_name = format_ident!("out");
        let head = if merged {
            prologue.extend(merge(out.clone(), &out_name, quote!(view_mut)));
            quote!(&mut out)
        } else {
            quote!(&mut #out)
        };
        let mut chain = quote!(::denpa::ndarray::Zip::from(#head));
        for (i, l) in leaves.iter().enumerate() {
            let lt = &self.g.node(*l).ty;
            let p = if merged && *lt == ty {
                let rows = format_ident!("rows_{i}");
                prologue.extend(merge(self.reference(*l), &rows, quote!(view)));
                quote!(&#rows)
            } else {
                self.producer(*l, &ty)
            };
            chain = if *lt == ty {
                quote!(#chain.and(#p))
            } else {
                quote!(#chain.and_broadcast(#p))
            };
        }
        let body = quote!(#chain.for_each(|out, #(&#names),*| *out = #expr););
        if merged {
            quote!({ #prologue #body })
        } else {
            body
        }
    }

    /// A loop with one value per row among its leaves (`[B, T, 1]` against
    /// `[B, T, d]`, a sample's scalar against its vector) as a loop over the
    /// rows, each row's value read once and the row itself one contiguous
    /// inner loop: Zip broadcasting a value along the inner axis would run
    /// element by element. `None` where a leaf is neither the loop's shape,
    /// one value per row, nor one row for every row (a bias `[d]`).
    fn row_loop(
        &self,
        out: &TokenStream,
        leaves: &[NodeId],
        names: &[Ident],
        expr: &TokenStream,
        ty: &Type,
    ) -> Option<TokenStream> {
        let rank = ty.shape.len();
        let d = *ty.shape.last()?;
        if d < 2 || (rank == 3 && leaves.iter().any(|l| self.g.node(*l).ty.shape.len() == 1)) {
            return None;
        }
        enum Kind {
            Full,
            Row,
            Column,
        }
        let mut kinds = Vec::new();
        for l in leaves {
            let lt = &self.g.node(*l).ty;
            let aligned = crate::lang::aligned(&lt.shape, rank);
            let mut per_row = ty.shape.clone();
            per_row[rank - 1] = 1;
            let mut per_column = vec![1; rank];
            per_column[rank - 1] = d;
            kinds.push(if lt == ty {
                Kind::Full
            } else if lt.batched == ty.batched && aligned == per_row {
                Kind::Row
            } else if !lt.batched && aligned == per_column {
                Kind::Column
            } else {
                return None;
            });
        }
        if !kinds.iter().any(|k| matches!(k, Kind::Row)) {
            return None;
        }
        let mut prologue = TokenStream::new();
        let mut outer = quote!(::denpa::ndarray::Zip::from(#out.rows_mut()));
        let (mut outer_names, mut scalars) = (Vec::new(), Vec::new());
        let mut inner = quote!(::denpa::ndarray::Zip::from(&mut out));
        let mut inner_names = Vec::new();
        for ((l, kind), name) in leaves.iter().zip(&kinds).zip(names) {
            match kind {
                Kind::Full => {
                    let r = self.reference(*l);
                    outer = quote!(#outer.and(#r.rows()));
                    outer_names.push(name.clone());
                    inner = quote!(#inner.and(&#name));
                    inner_names.push(name.clone());
                }
                Kind::Row => {
                    let p = self.producer(*l, ty);
                    outer = quote!(#outer.and((#p).rows()));
                    outer_names.push(name.clone());
                    scalars.push(name.clone());
                }
                Kind::Column => {
                    let r = self.reference(*l);
                    let row = format_ident!("{}_row", name);
                    prologue.extend(quote!(let #row = ::denpa::runtime::rows(#r.view());));
                    inner = quote!(#inner.and_broadcast(#row.row(0)));
                    inner_names.push(name.clone());
                }
            }
        }
        Some(quote!({
            #prologue
            #outer.for_each(|mut out, #(#outer_names),*| {
                #(let #scalars = #scalars[0];)*
                #inner.for_each(|out, #(&#inner_names),*| *out = #expr);
            });
        }))
    }

    /// A leaf of a loop whose result has type `ty`: the array itself, or a
    /// view with unit axes after its own where it holds fewer per-sample axes
    /// (one value per sample spread along its vector, `[B] → [B, 1]`; one
    /// value per channel spread over its image, `[c] → [c, 1, 1]`), so that
    /// it broadcasts along them.
    fn producer(&self, leaf: NodeId, ty: &Type) -> TokenStream {
        let r = self.reference(leaf);
        let lt = &self.g.node(leaf).ty;
        let (own, rank) = (lt.shape.len(), ty.shape.len());
        let first = usize::from(lt.batched);
        let at: Vec<usize> = if own >= rank || (own == 0 && !lt.batched) {
            Vec::new()
        } else if own == 1 && rank == 3 {
            // Per channel: `[c]` against `[c, h, w]` stands as `[c, 1, 1]`.
            vec![first + 1, first + 2]
        } else if lt.batched {
            // NumPy's alignment, after the batch axis: `[B, d]` against
            // `[B, T, d]` stands as `[B, 1, d]`; one value per sample `[B]`
            // against `[B, n]` as `[B, 1]`.
            (own..rank).map(|_| first).collect()
        } else {
            // ndarray aligns the trailing axes, as NumPy does.
            Vec::new()
        };
        if at.is_empty() {
            return quote!(&#r);
        }
        let mut view = quote!(#r.view());
        for a in at {
            let a = dim(a);
            view = quote!(#view.insert_axis(::denpa::ndarray::Axis(#a)));
        }
        view
    }

    /// One fused elementwise loop for the cluster rooted at `root`.
    pub(super) fn fused(&mut self, root: NodeId) -> TokenStream {
        let (_, leaves) = self.cluster(root);
        let (expr, _) = self.scalar(root, true);
        let ty = self.g.node(root).ty.clone();
        if physical_rank(&ty) == 0 {
            return expr;
        }
        if leaves.is_empty() {
            return self.splat(&ty, expr);
        }
        let names: Vec<Ident> = leaves.iter().map(|l| self.ident(*l)).collect();
        let full = leaves.iter().position(|l| self.g.node(*l).ty == ty);
        let producer = |e: &Self, l: NodeId| e.producer(l, &ty);
        match full {
            Some(first) => {
                let head = producer(self, leaves[first]);
                let mut chain = quote!(::denpa::ndarray::Zip::from(#head));
                let mut params = vec![names[first].clone()];
                for (i, l) in leaves.iter().enumerate() {
                    if i == first {
                        continue;
                    }
                    let p = producer(self, *l);
                    chain = if self.g.node(*l).ty == ty {
                        quote!(#chain.and(#p))
                    } else {
                        quote!(#chain.and_broadcast(#p))
                    };
                    params.push(names[i].clone());
                }
                quote!(#chain.map_collect(|#(&#params),*| #expr))
            }
            None => {
                let zeros = self.splat(&ty, quote!(0.0));
                let mut chain = quote!(::denpa::ndarray::Zip::from(&mut out));
                for l in &leaves {
                    let p = producer(self, *l);
                    chain = quote!(#chain.and_broadcast(#p));
                }
                quote!({
                    let mut out = #zeros;
                    #chain.for_each(|out, #(&#names),*| *out = #expr);
                    out
                })
            }
        }
    }
}
