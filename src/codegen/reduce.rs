//! Sums that undo a broadcast (`Reduce`): a parameter's gradient summed over
//! the batch, a per-sample scalar's over its vector, a per-channel vector's
//! over each image, and (version 3) NumPy's broadcasts of leading axes and
//! of axes kept with length 1. The sums of versions 1 and 2 are `sum_axis`
//! chains; the others go through `runtime::sum_into`, into the output viewed
//! with the summed axes as length 1.

use proc_macro2::TokenStream;
use quote::quote;

use super::plan::{physical_rank, Emitter};
use super::tiny::dim;
use crate::ir::{NodeId, Op};
use crate::lang::{literal, Type};

impl Emitter<'_> {
    /// Σ of an adjoint over the axes it was broadcast along.
    pub(super) fn reduce(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        let from = self.g.node(n.args[0]).ty.clone();
        if let Op::Const(c) = self.g.node(n.args[0]).op {
            // Σ of a constant: the constant times the number of terms.
            let mut factor = literal(c).0;
            if from.batched && !n.ty.batched {
                self.uses_batch_size = true;
                factor = quote!(#factor * batch_size);
            }
            if from.shape.len() > n.ty.shape.len() {
                let count = literal(from.shape.iter().product::<usize>() as f64).0;
                factor = quote!(#factor * #count);
            }
            return self.splat(&n.ty, factor);
        }
        let g = self.reference(n.args[0]);
        if physical_rank(&n.ty) == 0 {
            return quote!(#g.sum());
        }
        if !leading_reduction(&from, &n.ty) {
            // Along axes of NumPy's alignment, or kept with length 1.
            let zeros = self.splat(&n.ty, quote!(0.0));
            let out = self.aligned_out(quote!(out), &n.ty, &from);
            return quote!({
                let mut out = #zeros;
                ::denpa::runtime::sum_into(#g.view().into_dyn(), #out);
                out
            });
        }
        // (B, n) → (n): over the batch; (B, n) → (B): over each sample;
        // (B, c, h, w) → (c): over the batch and each channel's image.
        let mut sum = quote!(#g);
        for a in reduced_axes(&from, &n.ty) {
            let a = dim(a);
            sum = quote!(#sum.sum_axis(::denpa::ndarray::Axis(#a)));
        }
        if sum.to_string() == g.to_string() {
            return quote!(#g.clone());
        }
        sum
    }

    /// A writable dynamic-rank view of `out`, an array of type `to`, with
    /// length-1 axes inserted so that it stands against an array of type
    /// `from` axis for axis (as `lang::aligned` aligns them): the
    /// destination of `runtime::sum_into`.
    pub(super) fn aligned_out(&self, out: TokenStream, to: &Type, from: &Type) -> TokenStream {
        let mut view = quote!(#out.view_mut());
        if from.batched && !to.batched {
            view = quote!(#view.insert_axis(::denpa::ndarray::Axis(0)));
        }
        let first = usize::from(from.batched);
        let (own, rank) = (to.shape.len(), from.shape.len());
        let at: Vec<usize> = if own == 1 && rank == 3 {
            vec![first + 1, first + 2]
        } else {
            (0..rank - own).map(|_| first).collect()
        };
        for a in at {
            let a = dim(a);
            view = quote!(#view.insert_axis(::denpa::ndarray::Axis(#a)));
        }
        quote!(#view.into_dyn())
    }
}

/// Whether a reduction from `from` to `to` keeps `to`'s axes in front (only
/// the batch, trailing axes or each channel's image summed away): the sums
/// of version 1 and 2, written with `sum_axis`. Any other (NumPy's leading
/// axes, axes kept with length 1) goes through `runtime::sum_into`.
pub(super) fn leading_reduction(from: &Type, to: &Type) -> bool {
    to.shape.is_empty()
        || to.shape == from.shape
        || (to.shape.len() == 1 && from.shape.len() == 3 && to.shape[0] == from.shape[0])
}

/// The physical axes that a reduction from `from` to `to` sums over, the
/// last first (so that each removal leaves the others' numbers): the batch
/// axis where `to` has none, and the per-sample axes after `to`'s.
fn reduced_axes(from: &Type, to: &Type) -> Vec<usize> {
    let first = usize::from(from.batched);
    let mut axes: Vec<usize> = (to.shape.len()..from.shape.len())
        .map(|i| first + i)
        .rev()
        .collect();
    if from.batched && !to.batched {
        axes.push(0);
    }
    axes
}
