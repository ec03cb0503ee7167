//! The Rust of version 3's ops on sequences and tables: gathers and their
//! scatter-adds, rows, transposes, products of each sample's matrices, sums
//! along an axis, the causal mask, `concat` and its slices, one-hot targets,
//! dropout masks.
//!
//! Each is one statement writing into an array of the node's type
//! ([`Emitter::sequence_into`]): the workspace's in `train_step`, a fresh
//! array of zeros in the allocating functions ([`Emitter::sequence_value`]).
//! The kernels are `runtime`'s, called on dynamic-rank views.

use proc_macro2::TokenStream;
use quote::quote;

use super::plan::{physical_rank, Emitter};
use super::tiny::dim;
use crate::ir::{NodeId, Op};

/// Which side of a product an operand is on (a vector is a row on the
/// left, a column on the right).
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

impl Emitter<'_> {
    /// Whether a node's op is one of this file's.
    pub(super) fn is_sequence_op(op: Op) -> bool {
        matches!(
            op,
            Op::Gather
                | Op::ScatterAdd
                | Op::Row(_)
                | Op::PlaceRow(_)
                | Op::Transpose
                | Op::BatchMatMul { .. }
                | Op::BatchOuter
                | Op::SumAxis(_)
                | Op::MeanAxis(_)
                | Op::Causal
                | Op::CausalMask
                | Op::Concat
                | Op::Slice { .. }
                | Op::OneHot
                | Op::DropoutMask { .. }
                | Op::BatchStat { .. }
        )
    }

    /// The expression allocating a node of this file's ops: an array of
    /// zeros of its type, then [`Self::sequence_into`] into it.
    pub(super) fn sequence_value(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        if let Op::Row(k) = n.op {
            // A row of indices stays indices.
            let x = self.reference(n.args[0]);
            let axis = dim(usize::from(self.g.node(n.args[0]).ty.batched));
            let k = dim(k);
            return quote!(#x.index_axis(::denpa::ndarray::Axis(#axis), #k).to_owned());
        }
        let zeros = self.splat(&n.ty, quote!(0.0));
        let out = quote!(out);
        let statement = self.sequence_into(id, &out);
        quote!({
            let mut out = #zeros;
            #statement
            out
        })
    }

    /// The statement computing a node of this file's ops into `out`, an
    /// array of the node's type in standard layout.
    pub(super) fn sequence_into(&mut self, id: NodeId, out: &TokenStream) -> TokenStream {
        let n = self.g.node(id).clone();
        let r = |e: &Self, k: usize| e.reference(n.args[k]);
        let axis = |k: usize| {
            let k = dim(k);
            quote!(::denpa::ndarray::Axis(#k))
        };
        let batch = usize::from(n.ty.batched);
        match n.op {
            Op::Gather => {
                let (table, index) = (r(self, 0), r(self, 1));
                let each = self.g.node(n.args[0]).ty.batched;
                quote!(::denpa::runtime::gather_into(#table.view().into_dyn(), #each, #index.view().into_dyn(), #out.view_mut().into_dyn());)
            }
            Op::ScatterAdd => {
                let (index, delta) = (r(self, 0), r(self, 1));
                let each = n.ty.batched;
                quote!(::denpa::runtime::scatter_add_into(#index.view().into_dyn(), #delta.view().into_dyn(), #each, #out.view_mut().into_dyn());)
            }
            Op::Row(k) => {
                let x = r(self, 0);
                let (a, k) = (axis(usize::from(self.g.node(n.args[0]).ty.batched)), dim(k));
                quote!(#out.assign(&#x.index_axis(#a, #k));)
            }
            Op::PlaceRow(k) => {
                let d = r(self, 0);
                let (a, k) = (axis(batch), dim(k));
                quote! {
                    #out.fill(0.0);
                    #out.index_axis_mut(#a, #k).assign(&#d);
                }
            }
            Op::Transpose => {
                let x = r(self, 0);
                if self.g.node(n.args[0]).ty.batched {
                    quote!(#out.assign(&#x.view().permuted_axes([0, 2, 1]));)
                } else {
                    quote!(#out.assign(&#x.t());)
                }
            }
            Op::BatchMatMul { .. } => self.batch_product_into(id, out, 1.0),
            Op::BatchOuter => {
                // a bᵀ: a as a column, b as a row.
                let a = self.matrix_operand(n.args[0], Side::Right);
                let b = self.matrix_operand(n.args[1], Side::Left);
                let pack = self.scratch_packing();
                quote!(::denpa::runtime::batch_matmul_into(#pack, 1.0, #a, false, #b, false, #out.view_mut().into_dyn());)
            }
            Op::SumAxis(_) | Op::MeanAxis(_) => {
                let x = r(self, 0);
                let sum = quote!(::denpa::runtime::sum_into(#x.view().into_dyn(), #out.view_mut().into_dyn()););
                match n.op {
                    Op::MeanAxis(k) => {
                        let count =
                            crate::lang::literal(self.g.node(n.args[0]).ty.shape[k] as f64).0;
                        quote!(#sum #out.mapv_inplace(|v| v / #count);)
                    }
                    _ => sum,
                }
            }
            Op::Causal | Op::CausalMask => {
                let x = r(self, 0);
                let kernel = if n.op == Op::Causal {
                    quote!(causal_into)
                } else {
                    quote!(causal_mask_into)
                };
                quote!(::denpa::runtime::#kernel(#x.view().into_dyn(), #out.view_mut().into_dyn());)
            }
            Op::Concat => {
                let last = axis(physical_rank(&n.ty) - 1);
                let mut start = 0;
                let mut parts = TokenStream::new();
                for &a in &n.args {
                    let len = self.g.node(a).ty.shape.last().copied().unwrap_or(1);
                    let x = self.reference(a);
                    let (from, to) = (dim(start), dim(start + len));
                    parts.extend(quote! {
                        #out.slice_axis_mut(#last, ::denpa::ndarray::Slice::from(#from..#to)).assign(&#x);
                    });
                    start += len;
                }
                parts
            }
            Op::Slice { start, len } => {
                let x = r(self, 0);
                let last = axis(physical_rank(&n.ty) - 1);
                let (from, to) = (dim(start), dim(start + len));
                quote!(#out.assign(&#x.slice_axis(#last, ::denpa::ndarray::Slice::from(#from..#to)));)
            }
            Op::OneHot => {
                let i = r(self, 0);
                quote!(::denpa::runtime::one_hot_into(#i.view().into_dyn(), #out.view_mut().into_dyn());)
            }
            // The mean of each feature over the batch (and rows or pixels).
            Op::BatchStat { .. } => {
                let x = r(self, 0);
                let image = self.g.node(n.args[0]).ty.shape.len() == 3;
                quote!(::denpa::runtime::feature_mean_into(#x.view().into_dyn(), #image, #out.view_mut().into_dyn());)
            }
            // The masks of the next step: the same in `gradients` and the
            // `train_step` after it.
            Op::DropoutMask { site, p } => {
                let site = dim(site);
                let batched = n.ty.batched;
                quote!(::denpa::runtime::dropout_mask_into(self.dropout_seed, self.optimizer.step, #site, #p, #batched, #out.view_mut().into_dyn());)
            }
            _ => unreachable!("not an op on sequences: {:?}", n.op),
        }
    }

    /// out ← α · op(a)·op(b) for each sample: a product of each sample's
    /// matrices, as the node `id` computes it.
    pub(super) fn batch_product_into(
        &mut self,
        id: NodeId,
        out: &TokenStream,
        alpha: f64,
    ) -> TokenStream {
        let n = self.g.node(id).clone();
        let Op::BatchMatMul { ta, tb } = n.op else {
            unreachable!("a product of each sample's matrices")
        };
        let axis = |k: usize| {
            let k = dim(k);
            quote!(::denpa::ndarray::Axis(#k))
        };
        let batch = usize::from(n.ty.batched);
        let a = self.matrix_operand(n.args[0], Side::Left);
        let b = self.matrix_operand(n.args[1], Side::Right);
        // A vector result is a row (a·B) or a column (A·b).
        let ranks = (
            self.g.node(n.args[0]).ty.shape.len(),
            self.g.node(n.args[1]).ty.shape.len(),
        );
        let o = match ranks {
            (2, 1) => {
                let last = axis(physical_rank(&n.ty));
                quote!(#out.view_mut().insert_axis(#last).into_dyn())
            }
            (1, 2) => {
                let first = axis(batch);
                quote!(#out.view_mut().insert_axis(#first).into_dyn())
            }
            _ => quote!(#out.view_mut().into_dyn()),
        };
        let pack = self.scratch_packing();
        let alpha = crate::lang::literal(alpha).0;
        quote!(::denpa::runtime::batch_matmul_into(#pack, #alpha, #a, #ta, #b, #tb, #o);)
    }

    /// The packing space a kernel borrows scratch from: the workspace's in
    /// place, a fresh one in the allocating functions.
    fn scratch_packing(&mut self) -> TokenStream {
        if self.in_place {
            self.uses_packing = true;
            quote!(&mut ws.packing)
        } else {
            quote!(&mut ::denpa::runtime::Packing::default())
        }
    }

    /// An operand of a product of each sample's matrices, as a dynamic-rank
    /// view of matrices: a vector becomes a matrix of one row (on the left)
    /// or one column (on the right).
    fn matrix_operand(&self, id: NodeId, side: Side) -> TokenStream {
        let r = self.reference(id);
        let ty = &self.g.node(id).ty;
        if ty.shape.len() == 1 {
            let at = usize::from(ty.batched) + usize::from(side == Side::Right);
            let at = dim(at);
            quote!(#r.view().insert_axis(::denpa::ndarray::Axis(#at)).into_dyn())
        } else {
            quote!(#r.view().into_dyn())
        }
    }

    /// How many rows a loss of each sample averages over: T for
    /// `cross_entropy` and `nll` on each sample's rows `[T, n]`, else 1.
    pub(super) fn loss_rows(&self, id: NodeId) -> usize {
        let n = self.g.node(id);
        let averages = matches!(
            n.op,
            Op::Loss(crate::lang::LossKind::CrossEntropy | crate::lang::LossKind::Nll)
                | Op::SoftmaxCrossEntropy
        );
        let y = &self.g.node(n.args[0]).ty;
        if averages && y.batched && y.shape.len() == 2 {
            y.shape[0]
        } else {
            1
        }
    }
}
