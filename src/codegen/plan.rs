//! One function body from the graph, planned: the nodes a set of roots needs,
//! as Rust statements in topological order.
//!
//! Elementwise nodes used once by another elementwise node are fused into
//! their user's loop (one `Zip` pass, at most five arrays, at most
//! [`MAX_FUSED`] nodes); every other node is a named `let`. Every `let` gets a
//! comment in math notation: what it computes, which derivative it is, and
//! which later statements share it.
//!
//! This file decides which nodes are live, which fuse into which loop, how
//! values are named in scope, and the order of the statements; what each
//! statement computes is written by [`super::kernels`], its comment by
//! [`super::comments`].

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::tiny::dim;
use crate::check::Net;
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
    /// The checked network (its parameters' names).
    pub(super) net: &'a Net,
    /// The graph the body computes from.
    pub(super) g: &'a Graph,
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
    /// Whether a convolution keeps its columns in the workspace
    /// (`ws.conv_scratch`).
    pub uses_conv: bool,
    /// The workspace fields of im2col matrices a convolution keeps for its
    /// kernel gradient (`ws.columns_<name>`), by name.
    pub columns: std::collections::BTreeSet<String>,
    /// The element type (`f32`, `f64`).
    pub(super) ty: TokenStream,
    /// Products computed straight into the sum that adds them (no array of
    /// their own): in place, the sum's array, then each product added into
    /// it by the GEMM (β = 1).
    absorbed: Vec<bool>,
    /// The products each such sum adds, in order.
    accumulates: BTreeMap<NodeId, Vec<NodeId>>,
    /// A product of each sample's matrices computed straight into the node
    /// that scales it, with α: by that node.
    scaled: BTreeMap<NodeId, (NodeId, f64)>,
}

impl<'a> Emitter<'a> {
    /// Plans the statements for `roots`, each value allocated (`forward`,
    /// `loss`, `gradients`: the functions people read).
    pub fn new(net: &'a Net, g: &'a Graph, names: &'a [String], roots: &[NodeId]) -> Self {
        Self::planned(net, g, names, roots, false)
    }

    /// Plans the statements for `roots` in the workspace (`train_step`'s
    /// way): every array reused, and each product that a sum adds (a layer's
    /// `x·W + b`, the contributions of a value's users to its adjoint)
    /// accumulated into the sum by the GEMM.
    pub fn in_place(net: &'a Net, g: &'a Graph, names: &'a [String], roots: &[NodeId]) -> Self {
        let mut e = Self::planned(net, g, names, roots, true);
        e.in_place = true;
        e
    }

    fn planned(
        net: &'a Net,
        g: &'a Graph,
        names: &'a [String],
        roots: &[NodeId],
        accumulate: bool,
    ) -> Self {
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
                Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::Statistic(_) => false,
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
        let (mut absorbed, accumulates) = if accumulate {
            accumulations(g, &live, &uses, &user, &root, &inline)
        } else {
            (vec![false; g.nodes.len()], BTreeMap::new())
        };
        let scaled = if accumulate {
            causal_softmaxes(g, &live, &uses, &user, &root, &mut absorbed);
            scalings(g, &live, &uses, &user, &root, &inline, &mut absorbed)
        } else {
            BTreeMap::new()
        };
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
            uses_conv: false,
            columns: Default::default(),
            ty,
            absorbed,
            accumulates,
            scaled,
        };
        e.limit_clusters();
        e
    }

    /// Whether a product is computed into the sum that adds it.
    pub(super) fn is_absorbed(&self, id: NodeId) -> bool {
        self.absorbed[id.index()]
    }

    /// The product a bound node scales (computed into it, with α).
    pub(super) fn scaled(&self, id: NodeId) -> Option<(NodeId, f64)> {
        self.scaled.get(&id).copied()
    }

    /// The products a bound sum adds into itself, in order.
    pub(super) fn accumulated(&self, id: NodeId) -> Option<&[NodeId]> {
        self.accumulates.get(&id).map(Vec::as_slice)
    }

    /// Whether every term of the sum rooted at `root` is an absorbed
    /// product (so the first product writes the sum, β = 0).
    pub(super) fn only_products(&self, root: NodeId) -> bool {
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            let n = self.g.node(id);
            match n.op {
                Op::Add if id == root || self.is_inlined(id) => {
                    stack.extend(n.args.iter().copied())
                }
                _ if self.is_absorbed(id) => {}
                _ => return false,
            }
        }
        true
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
    pub(super) fn cluster(&self, root: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
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
            let mut read = self.members(id).1;
            for p in self.accumulated(id).unwrap_or_default() {
                read.extend(self.g.node(*p).args.iter().copied());
            }
            if let Some((p, _)) = self.scaled(id) {
                read.retain(|r| *r != p);
                read.extend(self.g.node(p).args.iter().copied());
            }
            read
        } else if let Some(&a) = self
            .g
            .node(id)
            .args
            .first()
            .filter(|a| self.is_absorbed(**a))
        {
            // A softmax reads its folded causal's argument.
            let mut read = self.g.node(a).args.clone();
            read.extend(self.g.node(id).args[1..].iter().copied());
            read
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
            // A product added in by the GEMM is not read by the loop.
            _ => n
                .args
                .iter()
                .copied()
                .filter(|a| !self.absorbed[a.index()])
                .collect(),
        }
    }

    /// The rank of a node's array.
    pub(super) fn physical_rank(&self, id: NodeId) -> usize {
        physical_rank(&self.g.node(id).ty)
    }

    /// Whether the roots need a node.
    pub(super) fn is_live(&self, id: NodeId) -> bool {
        self.live[id.index()]
    }

    /// Whether a node gets its own `let` in this body.
    pub fn is_bound(&self, id: NodeId) -> bool {
        self.live[id.index()]
            && !self.inline[id.index()]
            && !self.absorbed[id.index()]
            && !is_leaf(self.g.node(id).op)
    }

    /// Whether a node is computed inside its user's loop (or, a constant,
    /// written in place) rather than bound to a name.
    pub(super) fn is_inlined(&self, id: NodeId) -> bool {
        self.inline[id.index()]
    }

    /// A node's name in this body.
    pub(super) fn name(&self, id: NodeId) -> &str {
        &self.names[id.index()]
    }

    /// A node's name as an identifier.
    pub(super) fn ident(&self, id: NodeId) -> Ident {
        Ident::new(&self.names[id.index()], Span::call_site())
    }

    /// The im2col matrix a convolution and its kernel gradient share when
    /// this body computes both in place: the workspace field
    /// `columns_<the convolution's name>` (for either node), else none.
    /// They share it when they unfold the same input by the same windows.
    pub(super) fn kept_columns(&self, id: NodeId) -> Option<Ident> {
        let shares = |conv: NodeId, grad: NodeId| {
            let (c, k) = (self.g.node(conv), self.g.node(grad));
            let side = |shape: &[usize]| shape.get(2..).map(<[usize]>::to_vec);
            matches!((c.op, k.op), (Op::Conv2d(_), Op::ConvKernelGrad(_)))
                && self.live[conv.index()]
                && self.live[grad.index()]
                && c.op.window() == k.op.window()
                && c.args[0] == k.args[0]
                && side(&self.g.node(c.args[1]).ty.shape) == side(&k.ty.shape)
        };
        if !self.in_place {
            return None;
        }
        let conv = match self.g.node(id).op {
            Op::Conv2d(_) => self.g.ids().any(|k| shares(id, k)).then_some(id)?,
            Op::ConvKernelGrad(_) => self.g.ids().find(|&c| shares(c, id))?,
            _ => return None,
        };
        // Unique against the values' names (the workspace's other fields).
        Some(unique(
            &format!("columns_{}", self.names[conv.index()]),
            self.names,
        ))
    }

    /// How a node's value is referred to: `x`, `self.W1`, `h`.
    pub fn reference(&self, id: NodeId) -> TokenStream {
        let name = self.ident(id);
        match self.g.node(id).op {
            Op::Param(_) | Op::Statistic(_) => quote!(self.#name),
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
    pub(super) fn dims(&mut self, ty: &Type) -> TokenStream {
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

    /// The bound nodes that read each node, in order.
    pub(super) fn readers(&self) -> Vec<Vec<NodeId>> {
        let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); self.g.nodes.len()];
        for id in self.g.ids().filter(|id| self.is_bound(*id)) {
            for r in self.reads(id) {
                readers[r.index()].push(id);
            }
        }
        readers
    }

    /// Every `let` the roots need, in order, with comments.
    pub fn statements(&mut self) -> Body {
        let mut out = TokenStream::new();
        let mut notes = BTreeMap::new();
        let readers = self.readers();
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
                let elem = if ty.is_index() { quote!(usize) } else { t };
                let array = super::array_path(&elem, physical_rank(&ty));
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
            // The kernel runs at the first of the two statements: the
            // target (a one-hot vector of indices is computed) must be ready.
            let ready = |y: NodeId| t < y.min(loss);
            if let (Some(y), true) = (softmax.filter(|&y| ready(y)), batched(z) && batched(t)) {
                together.insert(y.min(loss), (y, loss));
                skip.insert(y.max(loss));
            }
        }
        (together, skip)
    }

    /// Whether the node is the adjoint of the logits of a fused `op`.
    pub(super) fn fused_user(&self, id: NodeId, op: Op) -> bool {
        match self.g.node(id).role {
            Role::Adjoint(of) => self.fused.contains(&(of, op.mnemonic())),
            _ => false,
        }
    }
}

/// The products that sums add, to be computed into the sums: a product of
/// two matrices (of rows, or 2D) used once, by an `Add` of its own type,
/// which is bound or reaches a bound sum through `Add`s of that type alone
/// (the product is a term of that sum, not a factor).
fn accumulations(
    g: &Graph,
    live: &[bool],
    uses: &[usize],
    user: &[Option<NodeId>],
    root: &[bool],
    inline: &[bool],
) -> (Vec<bool>, BTreeMap<NodeId, Vec<NodeId>>) {
    let mut absorbed = vec![false; g.nodes.len()];
    let mut into: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
    let matrix = |id: NodeId| physical_rank(&g.node(id).ty) >= 2;
    for p in g.ids() {
        let n = g.node(p);
        let product = matches!(n.op, Op::MatMul { .. })
            && matrix(p)
            && n.args.iter().all(|a| matrix(*a))
            && super::tiny::Tiny::of(g, p).is_none();
        if !live[p.index()] || root[p.index()] || uses[p.index()] != 1 || !product {
            continue;
        }
        let Some(mut sum) = user[p.index()] else {
            continue;
        };
        let term_of = |s: NodeId| g.node(s).op == Op::Add && g.node(s).ty == n.ty;
        let mut ok = term_of(sum);
        while ok && inline[sum.index()] {
            match user[sum.index()] {
                Some(next) if term_of(next) => sum = next,
                _ => ok = false,
            }
        }
        if ok {
            absorbed[p.index()] = true;
            into.entry(sum).or_default().push(p);
        }
    }
    (absorbed, into)
}

/// Products of each sample's matrices scaled by a number (`q·kᵀ / 4`): the
/// product used once, by a bound `/ c` or `· c` of its own type, is computed
/// straight into that node's array with α = 1/c (or c). By the scaling node:
/// (the product, α).
fn scalings(
    g: &Graph,
    live: &[bool],
    uses: &[usize],
    user: &[Option<NodeId>],
    root: &[bool],
    inline: &[bool],
    absorbed: &mut [bool],
) -> BTreeMap<NodeId, (NodeId, f64)> {
    let mut scaled = BTreeMap::new();
    for p in g.ids() {
        let n = g.node(p);
        if !matches!(n.op, Op::BatchMatMul { .. })
            || !live[p.index()]
            || root[p.index()]
            || uses[p.index()] != 1
        {
            continue;
        }
        let Some(u) = user[p.index()] else { continue };
        let un = g.node(u);
        if un.args.len() != 2 {
            continue;
        }
        let c = match (un.op, g.node(un.args[1]).op) {
            (Op::Div | Op::Mul, Op::Const(c)) if un.args[0] == p => c,
            _ => continue,
        };
        if un.ty != n.ty || inline[u.index()] || c == 0.0 {
            continue;
        }
        absorbed[p.index()] = true;
        scaled.insert(u, (p, if un.op == Op::Div { 1.0 / c } else { c }));
    }
    scaled
}

/// `causal(s)` used once, by the softmax of its rows: folded into the
/// softmax's kernel, which reads s and computes only the entries on and
/// below the diagonal (those above are 0).
fn causal_softmaxes(
    g: &Graph,
    live: &[bool],
    uses: &[usize],
    user: &[Option<NodeId>],
    root: &[bool],
    absorbed: &mut [bool],
) {
    for c in g.ids() {
        if g.node(c).op != Op::Causal || !live[c.index()] || root[c.index()] || uses[c.index()] != 1
        {
            continue;
        }
        if user[c.index()].is_some_and(|u| matches!(g.node(u).op, Op::Softmax | Op::LogSoftmax)) {
            absorbed[c.index()] = true;
        }
    }
}

/// Whether an op is a value the body reads but never computes: an input, a
/// target, a parameter or a running statistic.
pub(super) fn is_leaf(op: Op) -> bool {
    matches!(
        op,
        Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::Statistic(_)
    )
}

/// `base`, made unique against the values' names by trailing underscores:
/// a local or field the generated code adds beside them.
pub(super) fn unique(base: &str, names: &[String]) -> Ident {
    let mut name = base.to_owned();
    while names.contains(&name) {
        name.push('_');
    }
    format_ident!("{name}")
}

/// The rank of a node's array: its per-sample rank, plus one if batched.
pub fn physical_rank(ty: &Type) -> usize {
    ty.shape.len() + usize::from(ty.batched)
}
