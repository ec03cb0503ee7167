//! One function body from the graph: the nodes a set of roots needs, as Rust
//! statements in topological order.
//!
//! Elementwise nodes used once by another elementwise node are fused into
//! their user's loop (one `Zip` pass, at most five arrays, at most
//! [`MAX_FUSED`] nodes); every other node is a named `let`. Every `let` gets a
//! comment in math notation: what it computes, which derivative it is, and
//! which later statements share it.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::check::Net;
use crate::ir::math::{self, Notation};
use crate::ir::{Graph, NodeId, Op, Role};
use crate::lang::{literal, Prec, Type};

/// Most nodes fused into one elementwise loop.
pub const MAX_FUSED: usize = 12;
/// Most arrays one fused loop reads (ndarray's `Zip` takes six parts, one of
/// which is the output).
const MAX_LEAVES: usize = 5;

/// A generated body: statements, plus the tokens that name each root.
pub struct Body {
    /// The `let` statements (with the batch checks before them).
    pub statements: TokenStream,
    /// The comment of each `let`, by name.
    pub comments: BTreeMap<String, Vec<String>>,
}

/// The statements computing `roots`, given which names are in scope.
pub struct Emitter<'a> {
    net: &'a Net,
    g: &'a Graph,
    names: &'a [String],
    live: Vec<bool>,
    inline: Vec<bool>,
    /// The logits of fused losses: (logits, the fused op's mnemonic).
    fused: std::collections::BTreeSet<(NodeId, String)>,
    /// Whether every array is written into a reusable workspace (`ws`)
    /// instead of being allocated: `train_step`'s way.
    pub in_place: bool,
    /// The workspace's arrays: name, type and dimensions (in `batch`).
    pub fields: Vec<(Ident, TokenStream, TokenStream)>,
    /// Whether `batch` / `batch_size` are used.
    pub uses_batch: bool,
    /// Whether `batch_size` (B as a float) is used.
    pub uses_batch_size: bool,
    /// Whether a product packs its panels in the workspace (`ws.packing`).
    pub uses_packing: bool,
    /// Whether matrix products go through `runtime::matmul` (forward, where
    /// a batch of one is common) rather than ndarray's `dot`, which reads
    /// like the math (the gradients people read).
    pub inference: bool,
    ty: TokenStream,
}

impl<'a> Emitter<'a> {
    /// Plans the statements for `roots`.
    pub fn new(net: &'a Net, g: &'a Graph, names: &'a [String], roots: &[NodeId]) -> Self {
        let live = g.live(roots);
        let mut uses = vec![0usize; g.nodes.len()];
        let mut user: Vec<Option<NodeId>> = vec![None; g.nodes.len()];
        for id in g.ids() {
            if live[id.index()] {
                // A derivative reads only the input or the output it needs.
                let n = g.node(id);
                let read = n.args.iter().enumerate().filter(|(k, _)| match n.op {
                    Op::Deriv(f) => {
                        (*k == 0 && f.derivative_uses_x()) || (*k == 1 && f.derivative_uses_y())
                    }
                    _ => true,
                });
                for (_, a) in read {
                    uses[a.index()] += 1;
                    user[a.index()] = Some(id);
                }
            }
        }
        for r in roots {
            uses[r.index()] += 2;
        }
        let mut root = vec![false; g.nodes.len()];
        for r in roots {
            root[r.index()] = true;
        }
        let is_root = |id: NodeId| root[id.index()];
        let mut inline = vec![false; g.nodes.len()];
        for id in g.ids() {
            let n = g.node(id);
            inline[id.index()] = match n.op {
                _ if is_root(id) => false,
                Op::Const(_) | Op::BatchSize => true,
                Op::Input(_) | Op::Target(_) | Op::Param(_) => false,
                op if op.is_elementwise() => {
                    // Used once, by another elementwise node: computed inside
                    // that node's loop. A value the user named keeps its `let`.
                    uses[id.index()] == 1
                        && n.name.is_none()
                        && !matches!(n.role, Role::Gradient(_))
                        && user[id.index()].is_some_and(|u| g.node(u).op.is_elementwise())
                }
                _ => false,
            };
        }
        let ty = syn::parse_str::<TokenStream>(net.dtype.rust_name()).expect("a type name");
        let mut e = Emitter {
            net,
            g,
            names,
            live,
            inline,
            fused: g
                .nodes
                .iter()
                .filter(|u| {
                    matches!(
                        u.op,
                        Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy
                    )
                })
                .map(|u| (u.args[0], u.op.mnemonic()))
                .collect(),
            in_place: false,
            fields: Vec::new(),
            uses_batch: false,
            uses_batch_size: false,
            uses_packing: false,
            inference: false,
            ty,
        };
        e.limit_clusters();
        e
    }

    /// Splits fused loops that would read too many arrays or hold too many
    /// nodes. One sweep, arguments first: each node's loop (itself and its
    /// inlined arguments) is measured from its arguments' loops; where it is
    /// too big, its largest inlined argument becomes its own `let` — a loop
    /// that already fits, since it was measured before.
    fn limit_clusters(&mut self) {
        let n = self.g.nodes.len();
        let mut size = vec![0usize; n];
        let mut leaves: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for id in self.g.ids() {
            if !self.live[id.index()] || !self.g.node(id).op.is_elementwise() {
                continue;
            }
            loop {
                let mut total = 1;
                let mut reads: Vec<NodeId> = Vec::new();
                let mut biggest: Option<NodeId> = None;
                for a in self.used_args(id) {
                    if self.inline[a.index()] && self.g.node(a).op.is_elementwise() {
                        total += size[a.index()];
                        reads.extend(leaves[a.index()].iter().copied());
                        if biggest.is_none_or(|b| size[a.index()] >= size[b.index()]) {
                            biggest = Some(a);
                        }
                    } else if !self.inline[a.index()] && self.physical_rank(a) > 0 {
                        reads.push(a);
                    }
                }
                reads.sort();
                reads.dedup();
                match biggest {
                    Some(b) if total > MAX_FUSED || reads.len() > MAX_LEAVES => {
                        self.inline[b.index()] = false
                    }
                    _ => {
                        size[id.index()] = total;
                        leaves[id.index()] = reads;
                        break;
                    }
                }
            }
        }
    }

    /// The inlined nodes of the loop rooted at `root`, and the arrays it reads.
    fn cluster(&self, root: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
        let (members, inputs) = self.members(root);
        let leaves = inputs
            .into_iter()
            .filter(|a| self.physical_rank(*a) > 0)
            .collect();
        (members, leaves)
    }

    /// The inlined nodes of the loop rooted at `root`, and every value it
    /// reads (arrays and scalars), in id order.
    fn members(&self, root: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
        let mut members = Vec::new();
        let mut inputs = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            members.push(id);
            for a in self.used_args(id) {
                if self.inline[a.index()] {
                    stack.push(a);
                } else if !inputs.contains(&a) {
                    inputs.push(a);
                }
            }
        }
        inputs.sort();
        (members, inputs)
    }

    /// The named values a bound node's statement reads.
    fn reads(&self, id: NodeId) -> Vec<NodeId> {
        let op = self.g.node(id).op;
        if op.is_elementwise() || matches!(op, Op::Const(_)) {
            self.members(id).1
        } else {
            self.g.node(id).args.clone()
        }
    }

    /// The arguments an elementwise node actually reads (a derivative may
    /// use only x or only y).
    fn used_args(&self, id: NodeId) -> Vec<NodeId> {
        let n = self.g.node(id);
        match n.op {
            Op::Deriv(f) => {
                let mut v = Vec::new();
                if f.derivative_uses_x() {
                    v.push(n.args[0]);
                }
                if f.derivative_uses_y() {
                    v.push(n.args[1]);
                }
                v
            }
            _ => n.args.clone(),
        }
    }

    fn physical_rank(&self, id: NodeId) -> usize {
        physical_rank(&self.g.node(id).ty)
    }

    /// Whether a node gets its own `let` in this body.
    pub fn is_bound(&self, id: NodeId) -> bool {
        self.live[id.index()] && !self.inline[id.index()] && !is_leaf(self.g.node(id).op)
    }

    fn ident(&self, id: NodeId) -> Ident {
        Ident::new(&self.names[id.index()], Span::call_site())
    }

    /// How a node's value is referred to: `x`, `self.W1`, `h`.
    pub fn reference(&self, id: NodeId) -> TokenStream {
        let name = self.ident(id);
        match self.g.node(id).op {
            Op::Param(_) => quote!(self.#name),
            // Constants are written in place unless bound (a root).
            Op::Const(c) if self.inline[id.index()] => match literal(c) {
                (tokens, Prec::Atom) => tokens,
                (tokens, _) => quote!((#tokens)),
            },
            Op::BatchSize if self.inline[id.index()] => quote!(batch_size),
            Op::Input(_) | Op::Target(_) => quote!(#name),
            _ if self.in_place && physical_rank(&self.g.node(id).ty) > 0 => quote!(ws.#name),
            _ => quote!(#name),
        }
    }

    /// The dimensions of a node's physical array, as a tuple expression.
    fn dims(&mut self, ty: &Type) -> TokenStream {
        let mut dims: Vec<TokenStream> = Vec::new();
        if ty.batched {
            self.uses_batch = true;
            dims.push(quote!(batch));
        }
        dims.extend(ty.shape.iter().map(|d| dim(*d)));
        match dims.len() {
            1 => dims.remove(0),
            _ => quote!((#(#dims),*)),
        }
    }

    /// Every `let` the roots need, in order, with comments.
    pub fn statements(&mut self) -> Body {
        let mut out = TokenStream::new();
        let mut notes = BTreeMap::new();
        let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); self.g.nodes.len()];
        for id in self.g.ids().filter(|id| self.is_bound(*id)) {
            for r in self.reads(id) {
                readers[r.index()].push(id);
            }
        }
        let (together, skip) = self.softmax_with_loss();
        for id in self.g.ids() {
            if !self.is_bound(id) {
                continue;
            }
            let name = self.ident(id);
            let t = self.ty.clone();
            // Arrays infer their type; a scalar is annotated so that a
            // constant expression cannot default to f64.
            if physical_rank(&self.g.node(id).ty) == 0 {
                let value = self.value(id);
                out.extend(quote!(let #name: #t = #value;));
            } else if self.in_place {
                let ty = self.g.node(id).ty.clone();
                let array = match physical_rank(&ty) {
                    1 => quote!(::denpa::ndarray::Array1::<#t>),
                    _ => quote!(::denpa::ndarray::Array2::<#t>),
                };
                // The dimensions are for the workspace's `ensure(batch)`, not this body.
                let used = self.uses_batch;
                let dims = self.dims(&ty);
                self.uses_batch = used;
                self.fields.push((name.clone(), array, dims));
                if let Some(&(y, loss)) = together.get(&id) {
                    out.extend(self.softmax_and_loss_into(y, loss));
                } else if !skip.contains(&id) {
                    out.extend(self.value_into(id));
                }
            } else {
                let value = self.value(id);
                out.extend(quote!(let #name = #value;));
            }
            notes.insert(
                self.names[id.index()].clone(),
                self.comment(id, &readers[id.index()]),
            );
        }
        Body {
            statements: out,
            comments: notes,
        }
    }

    /// The expression computing a bound node.
    fn value(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        let arg = |k: usize| n.args[k];
        if n.op.is_elementwise() || matches!(n.op, Op::Const(_)) {
            return self.fused(id);
        }
        let view = |e: &Self, k: usize| {
            let r = e.reference(arg(k));
            quote!(#r.view())
        };
        match n.op {
            Op::MatMul { ta, tb } => {
                let a = self.reference(arg(0));
                let b = self.reference(arg(1));
                if self.inference
                    && (self.physical_rank(arg(0)), self.physical_rank(arg(1))) == (2, 2)
                {
                    // Matrices through runtime::matmul: a batch of one takes
                    // the vector-times-matrix loop.
                    let (a, b) = (view_of(&a, ta), view_of(&b, tb));
                    return quote!(::denpa::runtime::matmul(#a, #b));
                }
                let a = if ta { quote!(#a.t()) } else { a };
                let b = if tb { quote!(#b.t()) } else { b };
                quote!(#a.dot(&#b))
            }
            Op::Outer => {
                let (a, b) = (view(self, 0), view(self, 1));
                quote!(::denpa::runtime::outer(#a, #b))
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
                    (true, _) => quote!(#x.sum_axis(::denpa::ndarray::Axis(1))),
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
                let call = quote!(::denpa::runtime::#kernel(#a, #b));
                if n.ty.batched {
                    call
                } else {
                    quote!(#call[0])
                }
            }
            Op::Reduce => self.reduce(id),
            Op::BatchMean => {
                self.uses_batch_size = true;
                let l = self.reference(arg(0));
                quote!(#l.sum() / batch_size)
            }
            Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::Const(_) | Op::BatchSize => {
                self.reference(id)
            }
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
        }
    }

    /// A view with one row per sample (an unbatched vector becomes one row).
    fn rows(&self, id: NodeId) -> TokenStream {
        let r = self.reference(id);
        let ty = &self.g.node(id).ty;
        match (ty.batched, ty.shape.len()) {
            (true, 0) => quote!(#r.view().insert_axis(::denpa::ndarray::Axis(1))),
            (true, _) => quote!(#r.view()),
            (false, 0) => quote!(::denpa::ndarray::Array2::from_elem((1, 1), #r).view()),
            (false, 1) => quote!(#r.view().insert_axis(::denpa::ndarray::Axis(0))),
            // A matrix compared element by element: one row of all its elements.
            (false, _) => quote!(::denpa::ndarray::Array::from_iter(#r.iter().copied())
                .insert_axis(::denpa::ndarray::Axis(0))
                .view()),
        }
    }

    /// Σ of an adjoint over the axes it was broadcast along.
    fn reduce(&mut self, id: NodeId) -> TokenStream {
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
        let axis = |k: usize| {
            let k = dim(k);
            quote!(::denpa::ndarray::Axis(#k))
        };
        match (physical_rank(&from), physical_rank(&n.ty)) {
            (_, 0) => quote!(#g.sum()),
            // (B, n) → (n): over the batch; (B, n) → (B): over each sample.
            (2, 1) if from.batched && !n.ty.batched => {
                let a = axis(0);
                quote!(#g.sum_axis(#a))
            }
            (2, 1) => {
                let a = axis(1);
                quote!(#g.sum_axis(#a))
            }
            _ => quote!(#g.clone()),
        }
    }

    /// Where a body computes both softmax(z) and the fused cross-entropy of
    /// the same logits, in place and batched: one kernel writes both at the
    /// first of the two statements (keyed by it: the softmax node and the
    /// loss node), and the second is skipped.
    fn softmax_with_loss(
        &self,
    ) -> (
        BTreeMap<NodeId, (NodeId, NodeId)>,
        std::collections::BTreeSet<NodeId>,
    ) {
        let mut together = BTreeMap::new();
        let mut skip = std::collections::BTreeSet::new();
        if !self.in_place {
            return (together, skip);
        }
        for loss in self.g.ids() {
            let n = self.g.node(loss);
            if n.op != Op::SoftmaxCrossEntropy || !self.is_bound(loss) || !n.ty.batched {
                continue;
            }
            let (z, t) = (n.args[0], n.args[1]);
            let batched = |id: NodeId| {
                let ty = &self.g.node(id).ty;
                ty.batched && ty.shape.len() == 1
            };
            let softmax = self.g.ids().find(|&y| {
                let m = self.g.node(y);
                m.op == Op::Softmax && m.args[0] == z && self.is_bound(y)
            });
            if let (Some(y), true) = (softmax, batched(z) && batched(t)) {
                together.insert(y.min(loss), (y, loss));
                skip.insert(y.max(loss));
            }
        }
        (together, skip)
    }

    /// softmax(z) and the fused cross-entropy of z, in one kernel.
    fn softmax_and_loss_into(&self, y: NodeId, loss: NodeId) -> TokenStream {
        let n = self.g.node(loss);
        let (z, t) = (self.reference(n.args[0]), self.reference(n.args[1]));
        let (y, loss) = (self.reference(y), self.reference(loss));
        quote!(::denpa::runtime::softmax_rows_and_cross_entropy_into(#z.view(), #t.view(), #y.view_mut(), #loss.view_mut());)
    }

    /// A statement computing a bound array node into its workspace array
    /// `ws.<name>`: the same computation as [`Self::value`], allocating
    /// nothing.
    fn value_into(&mut self, id: NodeId) -> TokenStream {
        let n = self.g.node(id).clone();
        let out = self.reference(id);
        let arg = |k: usize| n.args[k];
        let mv = |a: TokenStream, x: TokenStream, out: &TokenStream| quote!(::denpa::runtime::gemv(1.0, #a, #x, 0.0, #out.view_mut()););
        let axis = |k: usize| {
            let k = dim(k);
            quote!(::denpa::ndarray::Axis(#k))
        };
        match n.op {
            op if op.is_elementwise() || matches!(op, Op::Const(_)) => self.fused_into(id, &out),
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
                    _ => quote!(::denpa::runtime::sum_rows_into(#x.view(), #out.view_mut());),
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
                let (a, b) = (self.rows(arg(0)), self.rows(arg(1)));
                quote!(::denpa::runtime::#kernel(#a, #b, #out.view_mut());)
            }
            Op::Reduce => {
                let from = self.g.node(arg(0)).ty.clone();
                if let Op::Const(_) = self.g.node(arg(0)).op {
                    let value = self.reduce(id);
                    return quote!(#out.assign(&#value);); // a constant: rare, allowed to allocate
                }
                let g = self.reference(arg(0));
                if from.batched && !n.ty.batched {
                    quote!(::denpa::runtime::sum_columns_into(#g.view(), #out.view_mut());)
                } else {
                    quote!(::denpa::runtime::sum_rows_into(#g.view(), #out.view_mut());)
                }
            }
            _ => {
                let value = self.value(id);
                quote!(#out.assign(&#value);)
            }
        }
    }

    /// out ← a·b without allocation: packed in the workspace's packing space,
    /// which the workspace then has.
    fn packed_product(&mut self, a: TokenStream, b: TokenStream, out: &TokenStream) -> TokenStream {
        self.uses_packing = true;
        quote!(::denpa::runtime::gemm_with(&mut ws.packing, 1.0, #a, #b, 0.0, #out.view_mut());)
    }

    /// A fused elementwise loop writing into `out`.
    fn fused_into(&mut self, root: NodeId, out: &TokenStream) -> TokenStream {
        let (_, leaves) = self.cluster(root);
        let (expr, _) = self.scalar(root, true);
        let ty = self.g.node(root).ty.clone();
        if leaves.is_empty() {
            return quote!(#out.fill(#expr););
        }
        let names: Vec<Ident> = leaves.iter().map(|l| self.ident(*l)).collect();
        let mut chain = quote!(::denpa::ndarray::Zip::from(&mut #out));
        for l in &leaves {
            let r = self.reference(*l);
            let lt = &self.g.node(*l).ty;
            let p = if lt.batched && lt.shape.len() < ty.shape.len() {
                quote!(#r.view().insert_axis(::denpa::ndarray::Axis(1)))
            } else {
                quote!(&#r)
            };
            chain = if *lt == ty {
                quote!(#chain.and(#p))
            } else {
                quote!(#chain.and_broadcast(#p))
            };
        }
        quote!(#chain.for_each(|out, #(&#names),*| *out = #expr);)
    }

    /// An array of the type with every element `value`.
    fn splat(&mut self, ty: &Type, value: TokenStream) -> TokenStream {
        if physical_rank(ty) == 0 {
            return value;
        }
        let t = &self.ty;
        let array = match physical_rank(ty) {
            1 => quote!(::denpa::ndarray::Array1::<#t>),
            _ => quote!(::denpa::ndarray::Array2::<#t>),
        };
        let dims = self.dims(ty);
        if value.to_string() == "0.0" {
            return quote!(#array::zeros(#dims));
        }
        quote!(#array::from_elem(#dims, #value))
    }

    /// One fused elementwise loop for the cluster rooted at `root`.
    fn fused(&mut self, root: NodeId) -> TokenStream {
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
        let producer = |e: &Self, l: NodeId| {
            let r = e.reference(l);
            let lt = &e.g.node(l).ty;
            if lt.batched && lt.shape.len() < ty.shape.len() {
                // One value per sample, spread along each sample's vector.
                quote!(#r.view().insert_axis(::denpa::ndarray::Axis(1)))
            } else {
                quote!(&#r)
            }
        };
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

    /// The scalar expression of an elementwise node inside its loop, with its
    /// precedence. Arrays read by the loop are its closure's parameters, named
    /// as the arrays are.
    fn scalar(&mut self, id: NodeId, top: bool) -> (TokenStream, Prec) {
        let n = self.g.node(id).clone();
        if !top && !self.inline[id.index()] {
            let name = self.ident(id);
            return (quote!(#name), Prec::Atom);
        }
        match n.op {
            Op::Const(c) => literal(c),
            Op::BatchSize => {
                self.uses_batch_size = true;
                (quote!(batch_size), Prec::Atom)
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let (level, sym) = match n.op {
                    Op::Add => (Prec::Add, quote!(+)),
                    Op::Sub => (Prec::Add, quote!(-)),
                    Op::Mul => (Prec::Mul, quote!(*)),
                    _ => (Prec::Mul, quote!(/)),
                };
                let a = self.scalar(n.args[0], false);
                let b = self.scalar(n.args[1], false);
                let a = wrap(a, |p| p > level);
                let b = wrap(b, |p| p >= level);
                (quote!(#a #sym #b), level)
            }
            Op::Neg => {
                let a = wrap(self.scalar(n.args[0], false), |p| p >= Prec::Unary);
                (quote!(-#a), Prec::Unary)
            }
            Op::Map(f) => {
                let x = wrap(self.scalar(n.args[0], false), |p| p > f.value_argument());
                f.value(&x)
            }
            Op::Deriv(f) => {
                let x = if f.derivative_uses_x() {
                    wrap(self.scalar(n.args[0], false), |p| {
                        p > f.derivative_argument()
                    })
                } else {
                    quote!(_)
                };
                let y = if f.derivative_uses_y() {
                    wrap(self.scalar(n.args[1], false), |p| {
                        p > f.derivative_argument()
                    })
                } else {
                    quote!(_)
                };
                f.derivative(&x, &y)
            }
            Op::Broadcast => self.scalar(n.args[0], false),
            _ => {
                let name = self.ident(id);
                (quote!(#name), Prec::Atom)
            }
        }
    }
}

impl Emitter<'_> {
    /// The comment above a bound node: what it is, in math notation, in terms
    /// of the names in scope; and which statements share it.
    fn comment(&self, id: NodeId, readers: &[NodeId]) -> Vec<String> {
        let n = self.g.node(id);
        let name = &self.names[id.index()];
        let math = self.math(id);
        let mut lines = vec![match n.role {
            Role::Adjoint(of) => match self.g.node(of).op {
                Op::Param(_) => format!("{name} = Σ_b ∂ℓ_b/∂{} = {math}", self.names[of.index()]),
                _ => format!("{name} = ∂ℓ/∂{} = {math}", self.names[of.index()]),
            },
            Role::Gradient(p) => format!("{name} = ∂E/∂{} = {math}", self.net.params[p].name),
            _ => format!("{name} = {math}"),
        }];
        match n.op {
            Op::SoftmaxCrossEntropy => {
                lines.push("cross-entropy of softmax, fused: computed by log-sum-exp".into())
            }
            Op::SigmoidBinaryCrossEntropy => lines.push(
                "binary cross-entropy of sigmoid, fused: Σ softplus(z) − t·z, finite for any z"
                    .into(),
            ),
            Op::BatchMean => {
                lines.push("the loss E: the mean over the batch of the per-sample loss ℓ".into())
            }
            _ => {}
        }
        if self.fused_user(id, Op::SoftmaxCrossEntropy) {
            lines
                .push("softmax + cross-entropy, fused: softmax(z)·Σt − t, no division by y".into());
        }
        if self.fused_user(id, Op::SigmoidBinaryCrossEntropy) {
            lines.push(
                "sigmoid + binary cross-entropy, fused: σ(z) − t, no division by y(1 − y)".into(),
            );
        }
        if readers.len() > 1 {
            let users: Vec<&str> = readers
                .iter()
                .map(|r| self.names[r.index()].as_str())
                .collect();
            lines.push(format!("shared by {}", users.join(", ")));
        }
        lines
    }

    /// Whether the node is the adjoint of the logits of a fused `op`.
    fn fused_user(&self, id: NodeId, op: Op) -> bool {
        match self.g.node(id).role {
            Role::Adjoint(of) => self.fused.contains(&(of, op.mnemonic())),
            _ => false,
        }
    }

    /// A node in math notation: bound nodes by their names, inlined ones
    /// written out.
    fn math(&self, id: NodeId) -> String {
        let label = |n: NodeId| {
            let node = self.g.node(n);
            let named = is_leaf(node.op) || !self.inline[n.index()];
            (named && !matches!(node.op, Op::Const(_) | Op::BatchSize))
                .then(|| self.names[n.index()].clone())
        };
        math::Writer::new(self.g, Notation::Unicode, &label).formula(id)
    }
}

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

fn is_leaf(op: Op) -> bool {
    matches!(op, Op::Input(_) | Op::Target(_) | Op::Param(_))
}

/// A dimension or index as an unsuffixed literal (`2`, not `2usize`).
pub fn dim(n: usize) -> TokenStream {
    let lit = proc_macro2::Literal::usize_unsuffixed(n);
    quote!(#lit)
}

/// The rank of a node's array: its per-sample rank, plus one if batched.
pub fn physical_rank(ty: &Type) -> usize {
    ty.shape.len() + usize::from(ty.batched)
}
