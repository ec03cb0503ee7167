//! Products of matrices in the workspace: one packed GEMM each (`gemm_with`,
//! its panels in the workspace's packing space), a batch of matrices of
//! each sample read as one matrix of all their rows (`[B·T, d]`), and a
//! product that a sum adds written straight into the sum (β = 1).

use proc_macro2::TokenStream;
use quote::quote;

use super::kernels::view_of;
use super::plan::{physical_rank, Emitter};
use crate::ir::{NodeId, Op};

impl Emitter<'_> {
    /// Whether a product reads (or makes) matrices of each sample as one
    /// matrix of all their rows, `[B·T, d]`.
    pub(super) fn of_rows(&self, id: NodeId) -> bool {
        let n = self.g.node(id);
        std::iter::once(id)
            .chain(n.args.iter().copied())
            .any(|a| physical_rank(&self.g.node(a).ty) == 3)
    }

    /// An operand of a product of rows: a batch of matrices as the matrix of
    /// all their rows (`runtime::rows`), transposed where `t` says.
    pub(super) fn rows_operand(&self, id: NodeId, t: bool) -> TokenStream {
        let r = self.reference(id);
        let m = if physical_rank(&self.g.node(id).ty) == 3 {
            quote!(::denpa::runtime::rows(#r.view()))
        } else {
            r
        };
        if t {
            quote!(#m.t())
        } else {
            quote!(#m.view())
        }
    }

    /// out ← op(a)·op(b) + β·out for a product of two matrices (of rows, or
    /// 2D), packed in the workspace.
    pub(super) fn product_into(
        &mut self,
        id: NodeId,
        out: &TokenStream,
        beta: TokenStream,
    ) -> TokenStream {
        let n = self.g.node(id).clone();
        let Op::MatMul { ta, tb } = n.op else {
            unreachable!("a product")
        };
        self.uses_packing = true;
        if self.of_rows(id) {
            let (a, b) = (
                self.rows_operand(n.args[0], ta),
                self.rows_operand(n.args[1], tb),
            );
            quote!(::denpa::runtime::gemm_with(&mut ws.packing, 1.0, #a, #b, #beta, ::denpa::runtime::rows_mut(#out.view_mut()));)
        } else {
            let (a, b) = (self.reference(n.args[0]), self.reference(n.args[1]));
            let (a, b) = (view_of(&a, ta), view_of(&b, tb));
            quote!(::denpa::runtime::gemm_with(&mut ws.packing, 1.0, #a, #b, #beta, #out.view_mut());)
        }
    }

    /// out ← a·b without allocation: packed in the workspace's packing space,
    /// which the workspace then has.
    pub(super) fn packed_product(
        &mut self,
        a: TokenStream,
        b: TokenStream,
        out: &TokenStream,
    ) -> TokenStream {
        self.uses_packing = true;
        quote!(::denpa::runtime::gemm_with(&mut ws.packing, 1.0, #a, #b, 0.0, #out.view_mut());)
    }
}
