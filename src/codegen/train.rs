//! The functions that work in the generated workspace: `gradient_sums` (the
//! loss and each parameter's gradient summed over the batch), `step_with`
//! (the finite checks, then the optimizer's update), `gradients_into` and
//! `forward_into`. For SGD, the update is folded into the last product of each
//! gradient (`Fold`), so that gradient is never stored; its factors are
//! checked finite before any parameter changes.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::kernels::view_of;
use super::optimizer::{optimizer, OptimizerCode};
use super::plan::physical_rank;
use super::tiny::{dim, Tiny};
use super::{function_body, Workspace};
use crate::check::{Net, Optimizer};
use crate::ir::{Graph, NodeId, Op};

/// The in-place functions' bodies and what `step_with` checks and updates.
pub(super) struct InPlace {
    /// `gradient_sums`' statements and the loss it returns.
    pub sums_body: TokenStream,
    pub sums_loss: TokenStream,
    /// The gradient sums `step_with` checks finite, with their descriptions.
    pub sum_names: Vec<String>,
    pub sum_grads: Vec<TokenStream>,
    /// The factors of folded products, each checked once, with descriptions.
    pub factor_names: Vec<String>,
    pub factor_refs: Vec<TokenStream>,
    /// `gradients_into`: each gradient, scaled into the caller's struct.
    pub into_grads: Vec<TokenStream>,
    /// The optimizer's state struct and update.
    pub optimizer: OptimizerCode,
    /// After the update: each batch normalization's running statistics
    /// moved toward the batch's (LANGUAGE.md §13).
    pub stat_updates: TokenStream,
    /// `forward_into`'s statements, its output arguments (names, types),
    /// and the checked stores into them.
    pub forward_into_body: TokenStream,
    pub output_idents: Vec<Ident>,
    pub output_refs: Vec<TokenStream>,
    pub output_stores: Vec<TokenStream>,
    /// `forward`'s new output arrays (zeros for `batch` samples) and their
    /// types: it runs `forward_into` into them.
    pub output_news: Vec<TokenStream>,
    pub output_types: Vec<TokenStream>,
    /// The workspace both fill.
    pub workspace: Workspace,
}

impl InPlace {
    /// Plans the in-place functions of `net`: `gradient_sums` from the
    /// training graph `g`, `forward_into` from the inference graph
    /// (`inference`, with its names; `g` itself when the modes agree);
    /// `comments` gains their `let`s'.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        net: &Net,
        g: &Graph,
        names: &[String],
        inference: (&Graph, &[String]),
        t: &TokenStream,
        param_idents: &[Ident],
        comments: &mut BTreeMap<String, Vec<String>>,
    ) -> InPlace {
        // train_step: the gradients as sums over the batch, updated in place.
        let (ig, inames) = inference;
        let output_ids: Vec<NodeId> = ig.outputs.iter().map(|o| o.1).collect();
        let train_roots = train_roots(g);
        // The products whose update SGD folds in: they are left out of
        // gradient_sums, which computes their operands instead.
        let folds: Vec<Option<Fold>> = train_roots[1..]
            .iter()
            .map(|r| match net.optimizer {
                Optimizer::Sgd { .. } => Fold::of(g, names, *r),
                _ => None,
            })
            .collect();
        let mut sum_roots = vec![g.loss];
        sum_roots.extend(
            train_roots[1..]
                .iter()
                .zip(&folds)
                .filter(|(_, f)| f.is_none())
                .map(|(r, _)| *r),
        );
        let returned = sum_roots.len();
        let mut summed: BTreeSet<NodeId> = sum_roots.iter().copied().collect();
        for operand in folds.iter().flatten().flat_map(|f| f.operands.iter()) {
            if summed.insert(operand.0) {
                sum_roots.push(operand.0);
            }
        }
        // The batch's statistics, kept in the workspace for the running ones.
        let stats: Vec<(NodeId, usize, usize)> = g
            .ids()
            .filter_map(|id| match g.node(id).op {
                Op::BatchStat { running } => {
                    let at = match sum_roots.iter().position(|r| *r == id) {
                        Some(k) => k,
                        None => {
                            sum_roots.push(id);
                            sum_roots.len() - 1
                        }
                    };
                    Some((id, running, at))
                }
                _ => None,
            })
            .collect();
        let mut workspace = Workspace::default();
        let (train_body, train_ret) = function_body(
            net,
            g,
            names,
            &sum_roots,
            "gradient_sums",
            comments,
            Some(&mut workspace),
        );
        // forward_into: the forward plan, in the same workspace.
        let (forward_into_body, forward_into_ret) = function_body(
            net,
            ig,
            inames,
            &output_ids,
            "forward_into",
            comments,
            Some(&mut workspace),
        );
        // The folded updates pack their products there too.
        workspace.packing |= folds
            .iter()
            .flatten()
            .any(|f| matches!(f.kind, FoldKind::Product(..)));
        let output_idents: Vec<Ident> =
            g.outputs.iter().map(|o| format_ident!("{}", o.0)).collect();
        let output_names: Vec<&str> = g.outputs.iter().map(|o| o.0.as_str()).collect();
        let output_refs: Vec<TokenStream> = output_ids
            .iter()
            .map(|o| {
                let array = super::array_type(t, physical_rank(&ig.node(*o).ty));
                quote!(&mut #array)
            })
            .collect();
        let output_stores: Vec<TokenStream> = output_ids
            .iter()
            .zip(&forward_into_ret)
            .zip(&output_idents)
            .zip(&output_names)
            .map(|(((o, value), out), name)| {
                let ty = &ig.node(*o).ty;
                if physical_rank(ty) == 0 {
                    quote!(**#out = #value;)
                } else {
                    let dims: Vec<TokenStream> = ty.shape.iter().map(|d| dim(*d)).collect();
                    let check = if ty.batched {
                        quote!(shapes.check_output(#name, #out.shape(), &[#(#dims),*])?;)
                    } else {
                        quote!(shapes.check_fixed(#name, #out.shape(), &[#(#dims),*])?;)
                    };
                    quote!(#check #out.assign(&#value);)
                }
            })
            .collect();
        let output_news: Vec<TokenStream> = output_ids
            .iter()
            .map(|o| {
                let ty = &ig.node(*o).ty;
                let rank = physical_rank(ty);
                if rank == 0 {
                    return quote!(0.0);
                }
                let mut dims: Vec<TokenStream> = ty.shape.iter().map(|d| dim(*d)).collect();
                if ty.batched {
                    dims.insert(0, quote!(batch));
                }
                let array = super::array_path(t, rank);
                quote!(#array::zeros((#(#dims,)*)))
            })
            .collect();
        let output_types: Vec<TokenStream> = output_ids
            .iter()
            .map(|o| super::array_type(t, physical_rank(&ig.node(*o).ty)))
            .collect();
        // Each parameter's gradient sum in the workspace, or its fold.
        let mut sums = train_ret[1..returned].iter();
        let train_grads: Vec<Result<&TokenStream, &Fold>> = folds
            .iter()
            .map(|f| match f {
                Some(fold) => Err(fold),
                None => Ok(sums.next().expect("one sum per unfolded parameter")),
            })
            .collect();
        let sum_grads: Vec<TokenStream> =
            train_grads.iter().filter_map(|g| g.ok()).cloned().collect();
        let sum_names: Vec<String> = net
            .params
            .iter()
            .zip(&folds)
            .filter(|(_, f)| f.is_none())
            .map(|(p, _)| format!("the gradient of {}", p.name))
            .collect();
        // The operands of folded products, each checked once before any update.
        // A factor that the forward pass multiplied by a parameter into fewer
        // values per sample is checked through that product: a NaN or ±∞ in a
        // row of x makes that whole row of x·W non-finite (NaN·w, ∞·0 and ∞ − ∞
        // are NaN), so x·W finite means x finite — and W finite too.
        let live = g.live(&sum_roots);
        let per_sample = |id: NodeId| g.node(id).ty.shape.iter().product::<usize>();
        // The first such product of each factor, found in one pass.
        let mut stand_ins: BTreeMap<NodeId, NodeId> = BTreeMap::new();
        for m in g.ids() {
            let n = g.node(m);
            // (A product added into a sum by the GEMM has no array to check.)
            if live[m.index()]
                && workspace.names.contains(&names[m.index()])
                && matches!(n.op, Op::MatMul { ta: false, .. })
                && matches!(g.node(n.args[1]).op, Op::Param(_))
                && n.ty.batched
                && physical_rank(&n.ty) == 2
                && per_sample(m) < per_sample(n.args[0])
            {
                stand_ins.entry(n.args[0]).or_insert(m);
            }
        }
        let stand_in = |f: NodeId| stand_ins.get(&f).copied();
        let mut factors: Vec<(NodeId, TokenStream, String)> = Vec::new();
        let mut checked_once = BTreeSet::new();
        for (p, fold) in net.params.iter().zip(&folds) {
            for (id, tokens) in fold.iter().flat_map(|f| f.operands.iter()) {
                let factor = format!(
                    "{}, a factor of the gradient of {}",
                    names[id.index()],
                    p.name
                );
                let (checked, tokens, what) = match stand_in(*id) {
                    Some(m) => {
                        let n = g.node(m);
                        let t = if matches!(n.op, Op::MatMul { tb: true, .. }) {
                            "ᵀ"
                        } else {
                            ""
                        };
                        let name = Ident::new(&names[m.index()], Span::call_site());
                        let what = format!(
                            "{}·{}{t} (standing for {factor})",
                            names[id.index()],
                            names[n.args[1].index()]
                        );
                        (m, quote!(ws.#name), what)
                    }
                    None => (*id, tokens.clone(), factor),
                };
                if checked_once.insert(checked) {
                    factors.push((checked, tokens, what));
                }
            }
        }
        let into_grads: Vec<TokenStream> = train_grads
            .iter()
            .zip(param_idents)
            .map(|(grad, p)| match grad {
                Ok(sum) => quote!(::denpa::ndarray::Zip::from(&mut grads.#p).and(&#sum).for_each(|g, &s| *g = s * scale);),
                Err(fold) => fold.tokens(quote!(scale), false, quote!(grads.#p)),
            })
            .collect();
        let optimizer = optimizer(net, t, &train_grads);
        let stat_updates = stats
            .iter()
            .map(|(id, running, at)| {
                let s = &net.statistics[*running];
                let field = format_ident!("{}", s.name);
                let batch = &train_ret[*at];
                let m = crate::lang::literal(s.momentum).0;
                if s.variance {
                    // n/(n − 1): the unbiased variance, n the values behind it.
                    let per = dim(g.node(g.node(*id).args[0]).ty.values_per_feature());
                    quote! {{
                        let n = (samples * #per) as #t;
                        let unbiased = n / (n - 1.0);
                        ::denpa::ndarray::Zip::from(&mut self.#field)
                            .and(&#batch)
                            .for_each(|r, &b| *r = (1.0 - #m) * *r + #m * b * unbiased);
                    }}
                } else {
                    quote! {
                        ::denpa::ndarray::Zip::from(&mut self.#field)
                            .and(&#batch)
                            .for_each(|r, &b| *r = (1.0 - #m) * *r + #m * b);
                    }
                }
            })
            .collect();
        if folds.iter().any(Option::is_some) {
            comments.insert(
                "step_with/descent".into(),
                vec![
                    "descent = −η/N: SGD's step, folded into the last product of each gradient:"
                        .into(),
                    "W ← W + descent·(aᵀδ) as one product into W (β = 1), b ← b + descent·Σ_b δ,"
                        .into(),
                    "so no gradient is stored; the factors were checked finite above".into(),
                ],
            );
        }

        InPlace {
            sums_body: train_body,
            sums_loss: train_ret[0].clone(),
            sum_names,
            sum_grads,
            factor_names: factors.iter().map(|f| f.2.clone()).collect(),
            factor_refs: factors.into_iter().map(|f| f.1).collect(),
            into_grads,
            optimizer,
            stat_updates,
            forward_into_body,
            output_idents,
            output_refs,
            output_stores,
            output_news,
            output_types,
            workspace,
        }
    }
}

/// What `train_step` computes: the loss, then each parameter's gradient
/// summed over the batch (the adjoint of its node; the gradient itself, a
/// constant zero, where the loss does not depend on it).
pub(super) fn train_roots(g: &Graph) -> Vec<NodeId> {
    let mut roots = vec![g.loss];
    for (param, gradient) in g.param_nodes(g.gradients.len()).iter().zip(&g.gradients) {
        roots.push(
            param
                .and_then(|id| g.adjoints.get(&id).copied())
                .unwrap_or(*gradient),
        );
    }
    roots
}

/// An SGD update folded into the last product of a gradient:
/// W ← W − (η/N)·(aᵀδ) as one GEMM with β = 1 (or b ← b − (η/N)·Σ_b δ as one
/// pass), so the gradient is never stored. Exact: the same sum, scaled once.
pub(super) struct Fold {
    /// The values the product reads, as workspace references.
    operands: Vec<(NodeId, TokenStream)>,
    /// The product or sum, given α, β and the array it adds into.
    kind: FoldKind,
}

enum FoldKind {
    /// op(a)·op(b).
    Product(TokenStream, TokenStream),
    /// A weight gradient of fixed, tiny size, written out term by term: the
    /// arguments as stored.
    Tiny(Tiny, TokenStream, TokenStream),
    /// Σ over the batch of one array.
    ColumnSum(TokenStream),
}

impl Fold {
    /// The fold of a parameter's gradient sum, if it is one product of two
    /// matrices (or one sum over the batch) of values the step computed: no
    /// parameter among them, so no update can change what another reads.
    fn of(g: &Graph, names: &[String], sum: NodeId) -> Option<Fold> {
        let n = g.node(sum);
        let operand = |id: NodeId| -> Option<(NodeId, TokenStream)> {
            let m = g.node(id);
            let name = Ident::new(&names[id.index()], Span::call_site());
            match m.op {
                Op::Input(_) | Op::Target(_) => Some((id, quote!(#name))),
                Op::Param(_) | Op::Statistic(_) | Op::Const(_) | Op::BatchSize => None,
                _ if physical_rank(&m.ty) == 2 => Some((id, quote!(ws.#name))),
                _ => None,
            }
        };
        match n.op {
            Op::MatMul { ta, tb } if physical_rank(&n.ty) == 2 => {
                let (a, b) = (operand(n.args[0])?, operand(n.args[1])?);
                let kind = match Tiny::of(g, sum) {
                    Some(tiny) => FoldKind::Tiny(tiny, a.1.clone(), b.1.clone()),
                    None => FoldKind::Product(view_of(&a.1, ta), view_of(&b.1, tb)),
                };
                Some(Fold {
                    operands: vec![a, b],
                    kind,
                })
            }
            Op::Reduce
                if !n.ty.batched
                    && physical_rank(&n.ty) == 1
                    && physical_rank(&g.node(n.args[0]).ty) == 2 =>
            {
                let x = operand(n.args[0])?;
                let r = &x.1;
                let kind = FoldKind::ColumnSum(quote!(#r.view()));
                Some(Fold {
                    operands: vec![x],
                    kind,
                })
            }
            _ => None,
        }
    }

    /// out ← α·(the product or sum), or with `add` out ← out + α·(…).
    pub(super) fn tokens(&self, alpha: TokenStream, add: bool, out: TokenStream) -> TokenStream {
        let beta = if add { quote!(1.0) } else { quote!(0.0) };
        match &self.kind {
            FoldKind::Tiny(tiny, a, b) => tiny.tokens(a, b, Some(&alpha), add, &out),
            FoldKind::Product(a, b) => {
                quote!(::denpa::runtime::gemm_with(&mut ws.packing, #alpha, #a, #b, #beta, #out.view_mut());)
            }
            FoldKind::ColumnSum(x) => {
                quote!(::denpa::runtime::add_column_sums(#alpha, #x, #beta, #out.view_mut());)
            }
        }
    }
}

/// Each parameter's gradient for the optimizer: its sum in the workspace, or
/// (SGD only) the product its update is folded into.
pub(super) type StepGradient<'a> = Result<&'a TokenStream, &'a Fold>;
