//! The Rust of each bound node of a planned body: the expression that
//! allocates its value ([`Emitter::value`]) or the statement that writes it
//! into its workspace array ([`Emitter::value_into`]): products, sums,
//! softmax and its fused loss, reductions, and the fused elementwise loops
//! with their scalar expressions.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::plan::{physical_rank, Emitter};
use super::reduce::leading_reduction;
use super::tiny::{dim, Tiny};
use crate::ir::{NodeId, Op};
use crate::lang::{literal, Prec, Type};

impl Emitter<'_> {
    /// The expression computing a bound node.
    pub(super) fn value(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        let arg = |k: usize| n.args[k];
        if n.op.is_elementwise() || matches!(n.op, Op::Const(_)) {
            return self.fused(id);
        }
        if Self::is_sequence_op(n.op) {
            return self.sequence_value(id);
        }
        let view = |e: &Self, k: usize| {
            let r = e.reference(arg(k));
            quote!(#r.view())
        };
        match n.op {
            Op::MatMul { ta, tb } if self.of_rows(id) => {
                // Matrices of each sample as one matrix of all their rows.
                let (a, b) = (self.rows_operand(arg(0), ta), self.rows_operand(arg(1), tb));
                let product = quote!(#a.dot(&#b));
                if physical_rank(&n.ty) == 3 {
                    let dims = self.dims(&n.ty);
                    quote!(::denpa::runtime::unrows(#product, #dims))
                } else {
                    product
                }
            }
            Op::MatMul { ta, tb } => {
                let a = self.reference(arg(0));
                let b = self.reference(arg(1));
                let a = if ta { quote!(#a.t()) } else { a };
                let b = if tb { quote!(#b.t()) } else { b };
                quote!(#a.dot(&#b))
            }
            Op::Outer => {
                let (a, b) = (view(self, 0), view(self, 1));
                quote!(::denpa::runtime::outer(#a, #b))
            }
            Op::Softmax | Op::LogSoftmax if n.ty.shape.len() == 2 => {
                // Each row of each sample's matrix: one matrix of all the rows.
                let z = self.reference(arg(0));
                let kernel = if n.op == Op::Softmax {
                    quote!(softmax_rows)
                } else {
                    quote!(log_softmax_rows)
                };
                let rows =
                    quote!(::denpa::runtime::#kernel(::denpa::runtime::rows(#z.view()).view()));
                let dims = self.dims(&n.ty);
                quote!(::denpa::runtime::unrows(#rows, #dims))
            }
            Op::Softmax | Op::LogSoftmax => {
                let z = view(self, 0);
                let kernel = match (n.op == Op::Softmax, n.ty.batched) {
                    (true, true) => quote!(softmax_rows),
                    (true, false) => quote!(softmax),
                    (false, true) => quote!(log_softmax_rows),
                    (false, false) => quote!(log_softmax),
                };
                quote!(::denpa::runtime::#kernel(#z))
            }
            Op::Sum | Op::Mean => {
                let x = self.reference(arg(0));
                let from = self.g.node(arg(0)).ty.clone();
                let count = from.shape.iter().product::<usize>() as f64;
                let sum = match (from.batched, from.shape.len()) {
                    // The sum of one number is itself.
                    (false, 0) => x,
                    (true, 0) => quote!(#x.to_owned()),
                    (true, 1) => quote!(#x.sum_axis(::denpa::ndarray::Axis(1))),
                    // Each sample's elements as one row.
                    (true, _) => {
                        quote!(::denpa::runtime::samples(#x.view()).sum_axis(::denpa::ndarray::Axis(1)))
                    }
                    (false, _) => quote!(#x.sum()),
                };
                if n.op == Op::Mean {
                    let c = literal(count).0;
                    quote!(#sum / #c)
                } else {
                    sum
                }
            }
            Op::Loss(_) | Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy => {
                let kernel = match n.op {
                    Op::Loss(kind) => format_ident!("{}", kind.name()),
                    op => format_ident!("{}", op.mnemonic()),
                };
                let a = self.rows(arg(0));
                let b = self.rows(arg(1));
                let group = self.loss_rows(id);
                if group > 1 && n.op == Op::SoftmaxCrossEntropy {
                    // softmax of each row, the loss averaged over the rows.
                    let (z, t) = (self.reference(arg(0)), self.reference(arg(1)));
                    let zeros = self.splat(&n.ty, quote!(0.0));
                    let group = dim(group);
                    return quote!({
                        let mut out = #zeros;
                        ::denpa::runtime::softmax_cross_entropy_rows_into(::denpa::runtime::rows(#z.view()).view(), ::denpa::runtime::rows(#t.view()).view(), #group, out.view_mut());
                        out
                    });
                }
                let call = quote!(::denpa::runtime::#kernel(#a, #b));
                let call = if group > 1 {
                    // The mean over each sample's rows.
                    let rows = literal(group as f64).0;
                    quote!(#call / #rows)
                } else {
                    call
                };
                if n.ty.batched {
                    call
                } else {
                    quote!(#call[0])
                }
            }
            Op::Reduce => self.reduce(id),
            Op::Conv2d(_)
            | Op::ConvInputGrad(_)
            | Op::ConvKernelGrad(_)
            | Op::MaxPool(_)
            | Op::MaxPoolGrad(_)
            | Op::AvgPool(_)
            | Op::AvgPoolGrad(_) => {
                let (kernel, args) = self.window_call(id);
                let size = self.window_size(id);
                quote!(::denpa::runtime::#kernel(#(#args,)* #size))
            }
            Op::Reshape => {
                let x = view(self, 0);
                let zeros = self.splat(&n.ty, quote!(0.0));
                quote!({
                    let mut out = #zeros;
                    ::denpa::runtime::reshape_into(#x, out.view_mut());
                    out
                })
            }
            Op::BatchMean => {
                self.uses_batch_size = true;
                let l = self.reference(arg(0));
                quote!(#l.sum() / batch_size)
            }
            Op::Input(_)
            | Op::Target(_)
            | Op::Param(_)
            | Op::Statistic(_)
            | Op::Const(_)
            | Op::BatchSize => self.reference(id),
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Neg
            | Op::Map(_)
            | Op::Deriv(_)
            | Op::Broadcast => {
                unreachable!("elementwise ops are fused")
            }
            _ => unreachable!("ops on sequences are written by `sequence_value`"),
        }
    }

    /// A view with one row per sample (an unbatched vector becomes one row).
    fn rows(&self, id: NodeId) -> TokenStream {
        let r = self.reference(id);
        let ty = &self.g.node(id).ty;
        match (ty.batched, ty.shape.len()) {
            (true, 0) => quote!(#r.view().insert_axis(::denpa::ndarray::Axis(1))),
            (true, 1) => quote!(#r.view()),
            // Each sample's elements as one row.
            (true, _) => quote!(::denpa::runtime::samples(#r.view()).view()),
            (false, 0) => quote!(::denpa::ndarray::Array2::from_elem((1, 1), #r).view()),
            (false, 1) => quote!(#r.view().insert_axis(::denpa::ndarray::Axis(0))),
            // A matrix compared element by element: one row of all its elements.
            (false, _) => quote!(::denpa::ndarray::Array::from_iter(#r.iter().copied())
                .insert_axis(::denpa::ndarray::Axis(0))
                .view()),
        }
    }

    /// The runtime kernel of a convolution or pool node, with its array
    /// arguments and its stride and padding (or window side and stride).
    fn window_call(&self, id: NodeId) -> (Ident, Vec<TokenStream>) {
        let n = self.g.node(id);
        let views: Vec<TokenStream> = n
            .args
            .iter()
            .map(|a| {
                let r = self.reference(*a);
                quote!(#r.view())
            })
            .collect();
        let w = n.op.window().expect("a window op");
        // The runtime kernel is named as the op is: `conv2d_input_grad`.
        let mnemonic = n.op.mnemonic();
        let name = mnemonic.split(' ').next().unwrap_or_default();
        let numbers = if w.size == 0 {
            [w.stride, w.padding]
        } else {
            [w.size, w.stride]
        };
        let mut args = views;
        args.extend(numbers.iter().map(|k| dim(*k)));
        (format_ident!("{name}"), args)
    }

    /// The size the allocating form of a window kernel is told: the image
    /// side (h, w) of a gradient back to an image, the kernel's (r, s) of a
    /// kernel gradient; nothing where the arguments determine it.
    fn window_size(&self, id: NodeId) -> Option<TokenStream> {
        let n = self.g.node(id);
        let (a, b) = match (n.op, n.ty.shape.as_slice()) {
            (Op::ConvInputGrad(_) | Op::AvgPoolGrad(_), [_, h, w]) => (*h, *w),
            (Op::ConvKernelGrad(_), [_, _, r, s]) => (*r, *s),
            _ => return None,
        };
        let (a, b) = (dim(a), dim(b));
        Some(quote!((#a, #b)))
    }

    /// softmax(z) and the fused cross-entropy of z, in one kernel.
    pub(super) fn softmax_and_loss_into(&self, y: NodeId, loss: NodeId) -> TokenStream {
        let n = self.g.node(loss);
        let (z, t) = (self.reference(n.args[0]), self.reference(n.args[1]));
        let (y, loss) = (self.reference(y), self.reference(loss));
        quote!(::denpa::runtime::softmax_rows_and_cross_entropy_into(#z.view(), #t.view(), #y.view_mut(), #loss.view_mut());)
    }

    /// A statement computing a bound array node into its workspace array
    /// `ws.<name>`: the same computation as [`Self::value`], allocating
    /// nothing.
    pub(super) fn value_into(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        let out = self.reference(id);
        let arg = |k: usize| n.args[k];
        let mv = |a: TokenStream, x: TokenStream, out: &TokenStream| quote!(::denpa::runtime::gemv(1.0, #a, #x, 0.0, #out.view_mut()););
        let axis = |k: usize| {
            let k = dim(k);
            quote!(::denpa::ndarray::Axis(#k))
        };
        match n.op {
            _ if self.scaled(id).is_some() => {
                let (p, alpha) = self.scaled(id).unwrap_or((id, 1.0));
                self.batch_product_into(p, &out, alpha)
            }
            _ if self.accumulated(id).is_some() => {
                // The other terms first, then each product added in (β = 1);
                // a sum of products alone starts with the first (β = 0).
                let products = self.accumulated(id).unwrap_or_default().to_vec();
                let first = self.only_products(id);
                let mut statements = if first {
                    TokenStream::new()
                } else {
                    self.fused_into(id, &out)
                };
                for (i, p) in products.into_iter().enumerate() {
                    let beta = if first && i == 0 {
                        quote!(0.0)
                    } else {
                        quote!(1.0)
                    };
                    statements.extend(self.product_into(p, &out, beta));
                }
                statements
            }
            op if op.is_elementwise() || matches!(op, Op::Const(_)) => self.fused_into(id, &out),
            op if Self::is_sequence_op(op) => self.sequence_into(id, &out),
            Op::MatMul { .. } if self.of_rows(id) => self.product_into(id, &out, quote!(0.0)),
            Op::MatMul { ta, tb } => {
                let (a, b) = (self.reference(arg(0)), self.reference(arg(1)));
                if let Some(tiny) = Tiny::of(self.g, id) {
                    return tiny.tokens(&a, &b, None, false, &out);
                }
                match (self.physical_rank(arg(0)), self.physical_rank(arg(1))) {
                    (2, 2) => self.packed_product(view_of(&a, ta), view_of(&b, tb), &out),
                    (2, 1) => mv(view_of(&a, ta), quote!(#b.view()), &out),
                    // a·op(B) = op(B)ᵀ·a
                    _ => mv(view_of(&b, !tb), quote!(#a.view()), &out),
                }
            }
            Op::Outer => {
                let (a, b) = (self.reference(arg(0)), self.reference(arg(1)));
                let (col, row) = (axis(1), axis(0));
                self.packed_product(
                    quote!(#a.view().insert_axis(#col)),
                    quote!(#b.view().insert_axis(#row)),
                    &out,
                )
            }
            Op::Softmax | Op::LogSoftmax if self.is_absorbed(arg(0)) => {
                // causal(s) folded in: the rows' entries on and below the
                // diagonal, 0 (or −∞) above it.
                let s = self.reference(self.g.node(arg(0)).args[0]);
                let kernel = if n.op == Op::Softmax {
                    quote!(softmax_causal_rows_into)
                } else {
                    quote!(log_softmax_causal_rows_into)
                };
                let side = dim(n.ty.shape[0]);
                quote!(::denpa::runtime::#kernel(::denpa::runtime::rows(#s.view()).view(), #side, ::denpa::runtime::rows_mut(#out.view_mut()));)
            }
            Op::Softmax | Op::LogSoftmax if n.ty.shape.len() == 2 => {
                let z = self.reference(arg(0));
                let kernel = if n.op == Op::Softmax {
                    quote!(softmax_rows_into)
                } else {
                    quote!(log_softmax_rows_into)
                };
                quote!(::denpa::runtime::#kernel(::denpa::runtime::rows(#z.view()).view(), ::denpa::runtime::rows_mut(#out.view_mut()));)
            }
            Op::Softmax | Op::LogSoftmax => {
                let z = self.reference(arg(0));
                let kernel = match (n.op == Op::Softmax, n.ty.batched) {
                    (true, true) => quote!(softmax_rows_into),
                    (true, false) => quote!(softmax_into),
                    (false, true) => quote!(log_softmax_rows_into),
                    (false, false) => quote!(log_softmax_into),
                };
                quote!(::denpa::runtime::#kernel(#z.view(), #out.view_mut());)
            }
            Op::Sum | Op::Mean => {
                let x = self.reference(arg(0));
                let count =
                    literal(self.g.node(arg(0)).ty.shape.iter().product::<usize>() as f64).0;
                let sum = match self.g.node(arg(0)).ty.shape.len() {
                    0 => quote!(#out.assign(&#x);),
                    1 => quote!(::denpa::runtime::sum_rows_into(#x.view(), #out.view_mut());),
                    _ => {
                        quote!(::denpa::runtime::sum_rows_into(::denpa::runtime::samples(#x.view()).view(), #out.view_mut());)
                    }
                };
                if n.op == Op::Mean {
                    quote!(#sum #out.mapv_inplace(|v| v / #count);)
                } else {
                    sum
                }
            }
            Op::Loss(_) | Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy => {
                let kernel = match n.op {
                    Op::Loss(kind) => format_ident!("{}_into", kind.name()),
                    op => format_ident!("{}_into", op.mnemonic()),
                };
                let group = self.loss_rows(id);
                if group > 1 && n.op == Op::SoftmaxCrossEntropy {
                    let (z, t) = (self.reference(arg(0)), self.reference(arg(1)));
                    let group = dim(group);
                    return quote!(::denpa::runtime::softmax_cross_entropy_rows_into(::denpa::runtime::rows(#z.view()).view(), ::denpa::runtime::rows(#t.view()).view(), #group, #out.view_mut()););
                }
                let (a, b) = (self.rows(arg(0)), self.rows(arg(1)));
                let call = quote!(::denpa::runtime::#kernel(#a, #b, #out.view_mut()););
                if group > 1 {
                    // The mean over each sample's rows.
                    let rows = literal(group as f64).0;
                    quote!(#call #out.mapv_inplace(|v| v / #rows);)
                } else {
                    call
                }
            }
            Op::Reduce => {
                let from = self.g.node(arg(0)).ty.clone();
                let g = self.reference(arg(0));
                let kernel = match (physical_rank(&from), physical_rank(&n.ty), n.ty.batched) {
                    _ if matches!(self.g.node(arg(0)).op, Op::Const(_)) => None,
                    _ if !leading_reduction(&from, &n.ty) => {
                        let dst = self.aligned_out(out.clone(), &n.ty, &from);
                        return quote!(::denpa::runtime::sum_into(#g.view().into_dyn(), #dst););
                    }
                    (2, 1, false) => Some(quote!(sum_columns_into)),
                    (2, 1, true) => Some(quote!(sum_rows_into)),
                    (4, 1, false) => Some(quote!(sum_channels_into)),
                    (4, 2, true) => Some(quote!(sum_spatial_into)),
                    _ => None,
                };
                match kernel {
                    Some(kernel) => {
                        quote!(::denpa::runtime::#kernel(#g.view(), #out.view_mut());)
                    }
                    // A constant: its value times the count, filled in.
                    None if matches!(self.g.node(arg(0)).op, Op::Const(_)) => {
                        let value = self.reduce(id);
                        quote!(#out.assign(&#value);)
                    }
                    // Any other sum (over the batch of a sample's matrix, …).
                    None => {
                        let dst = self.aligned_out(out.clone(), &n.ty, &from);
                        quote!(::denpa::runtime::sum_into(#g.view().into_dyn(), #dst);)
                    }
                }
            }
            Op::Conv2d(_) | Op::ConvInputGrad(_) | Op::ConvKernelGrad(_) => {
                self.uses_conv = true;
                let (kernel, mut args) = self.window_call(id);
                // A convolution and its kernel gradient unfold the input once.
                let kernel = match (self.kept_columns(id), n.op) {
                    (Some(columns), Op::Conv2d(_)) => {
                        self.columns.insert(columns.to_string());
                        args.push(quote!(&mut ws.#columns));
                        format_ident!("{kernel}_keeping_columns_into")
                    }
                    (Some(columns), _) => {
                        args.insert(1, quote!(&ws.#columns));
                        format_ident!("{kernel}_from_columns_into")
                    }
                    (None, _) => format_ident!("{kernel}_into"),
                };
                quote!(::denpa::runtime::#kernel(#(#args,)* &mut ws.conv_scratch, #out.view_mut());)
            }
            Op::MaxPool(_) | Op::MaxPoolGrad(_) | Op::AvgPool(_) | Op::AvgPoolGrad(_) => {
                let (kernel, args) = self.window_call(id);
                let kernel = format_ident!("{kernel}_into");
                quote!(::denpa::runtime::#kernel(#(#args,)* #out.view_mut());)
            }
            Op::Reshape => {
                let x = self.reference(arg(0));
                quote!(::denpa::runtime::reshape_into(#x.view(), #out.view_mut());)
            }
            _ => {
                let value = self.value(id);
                quote!(#out.assign(&#value);)
            }
        }
    }

    /// An array of the type with every element `value`.
    pub(super) fn splat(&mut self, ty: &Type, value: TokenStream) -> TokenStream {
        if physical_rank(ty) == 0 {
            return value;
        }
        let t = &self.ty;
        let array = super::array_path(t, physical_rank(ty));
        let dims = self.dims(ty);
        if value.to_string() == "0.0" {
            return quote!(#array::zeros(#dims));
        }
        quote!(#array::from_elem(#dims, #value))
    }

    /// The scalar expression of an elementwise node inside its loop, with its
    /// precedence. Arrays read by the loop are its closure's parameters, named
    /// as the arrays are.
    pub(super) fn scalar(&mut self, id: NodeId, top: bool) -> (TokenStream, Prec) {
        self.element(id, top, &|e, id| {
            let name = e.ident(id);
            quote!(#name)
        })
    }

    /// The scalar expression of an elementwise node, with its precedence;
    /// `read` writes one value it reads (a bound one): a loop's closure
    /// parameter, or an element of a local array in the scalar form.
    pub(super) fn element(
        &mut self,
        id: NodeId,
        top: bool,
        read: &dyn Fn(&Self, NodeId) -> TokenStream,
    ) -> (TokenStream, Prec) {
        let n = self.g.node(id).clone();
        if !top && !self.is_inlined(id) {
            return (read(self, id), Prec::Atom);
        }
        match n.op {
            Op::Const(c) => literal(c),
            Op::BatchSize => {
                self.uses_batch_size = true;
                (quote!(batch_size), Prec::Atom)
            }
            // A term added in by the GEMM afterwards: the sum of the others.
            Op::Add if self.is_absorbed(n.args[0]) || self.is_absorbed(n.args[1]) => {
                match (self.is_absorbed(n.args[0]), self.is_absorbed(n.args[1])) {
                    (true, true) => literal(0.0),
                    (true, false) => self.element(n.args[1], false, read),
                    _ => self.element(n.args[0], false, read),
                }
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let (level, sym) = match n.op {
                    Op::Add => (Prec::Add, quote!(+)),
                    Op::Sub => (Prec::Add, quote!(-)),
                    Op::Mul => (Prec::Mul, quote!(*)),
                    _ => (Prec::Mul, quote!(/)),
                };
                let a = self.element(n.args[0], false, read);
                let b = self.element(n.args[1], false, read);
                let a = wrap(a, |p| p > level);
                let b = wrap(b, |p| p >= level);
                (quote!(#a #sym #b), level)
            }
            Op::Neg => {
                let a = wrap(self.element(n.args[0], false, read), |p| p >= Prec::Unary);
                (quote!(-#a), Prec::Unary)
            }
            Op::Map(f) => {
                let x = wrap(self.element(n.args[0], false, read), |p| {
                    p > f.value_argument()
                });
                f.value(&x)
            }
            Op::Deriv(f) => {
                let x = if f.derivative_uses_x() {
                    wrap(self.element(n.args[0], false, read), |p| {
                        p > f.derivative_argument()
                    })
                } else {
                    quote!(_)
                };
                let y = if f.derivative_uses_y() {
                    wrap(self.element(n.args[1], false, read), |p| {
                        p > f.derivative_argument()
                    })
                } else {
                    quote!(_)
                };
                f.derivative(&x, &y)
            }
            Op::Broadcast => self.element(n.args[0], false, read),
            _ => (read(self, id), Prec::Atom),
        }
    }
}

/// A matrix as a product's operand: `r.t()` transposed, `r.view()` as is.
pub fn view_of(r: &TokenStream, transposed: bool) -> TokenStream {
    if transposed {
        quote!(#r.t())
    } else {
        quote!(#r.view())
    }
}

fn wrap((tokens, prec): (TokenStream, Prec), needs: impl Fn(Prec) -> bool) -> TokenStream {
    if needs(prec) {
        quote!((#tokens))
    } else {
        tokens
    }
}
