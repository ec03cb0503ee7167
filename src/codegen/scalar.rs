//! The scalar form of `train_step`, for networks whose values are all tiny
//! (the textbook's XOR): each sample's forward and derived backward pass in
//! one loop over the batch, every value a local scalar or fixed-size array
//! (`let h: [f32; 3] = [σ(…), σ(…), σ(…)]`), the parameters read once into
//! locals before the loop and written back once after the update. No array
//! of the batch, no workspace, no call per elementwise pass.
//!
//! The statements are the general form's plan ([`Emitter`]: the same bound
//! nodes, the same fused expressions, the same comments), written element by
//! element. Which nodes qualify is decided here from the shapes ([`Phase`],
//! [`SCALAR_VALUES`], [`SCALAR_PARAMS`]); anything else keeps the general form.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::optimizer::optimizer;
use super::plan::{unique, Emitter};
use super::tiny::dim;
use super::train::StepGradient;
use crate::check::{Net, Optimizer};
use crate::ir::{Graph, NodeId, Op};
use crate::lang::{literal, LossKind};

/// Most elements of a per-sample value for the scalar form.
pub const SCALAR_VALUES: usize = 16;
/// Most elements of a parameter, or of a value summed over the batch.
pub const SCALAR_PARAMS: usize = 64;

/// When a value is computed in the scalar form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the loop: parameters, constants and what depends only on them.
    Fixed,
    /// Inside the loop, once per sample.
    Sample,
    /// Summed over the batch inside the loop (a gradient sum, the loss).
    Summed,
    /// After the loop, from summed values.
    After,
}

/// `train_step`'s body after the batch checks, in the scalar form, if the
/// network takes it: every live value tiny and of a supported op.
/// `roots` are the loss and each parameter's gradient sum (or a constant
/// zero); `comments` gains the body's.
pub(super) fn train_step(
    net: &Net,
    g: &Graph,
    names: &[String],
    roots: &[NodeId],
    comments: &mut BTreeMap<String, Vec<String>>,
) -> Option<TokenStream> {
    let mut e = Emitter::new(net, g, names, roots);
    let phases = phases(&e)?;
    let readers = e.readers();
    let t = e.ty.clone();
    let (mut before, mut inside, mut after) = (Vec::new(), Vec::new(), Vec::new());
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let live: Vec<NodeId> = g.ids().filter(|id| e.is_live(*id)).collect();
    for id in live {
        let n = g.node(id);
        let name = e.ident(id);
        let ty = local_type(&t, &n.ty.shape);
        match n.op {
            Op::Param(_) => {
                let value = array_of(&n.ty.shape, &mut |idx| {
                    let at = index_tuple(idx);
                    quote!(self.#name[#at])
                });
                before.push(quote!(let #name: #ty = #value;));
                notes.insert(
                    e.name(id).to_owned(),
                    vec![format!(
                        "{}, read once into a local (written back once, after the update)",
                        e.name(id)
                    )],
                );
            }
            Op::Input(_) | Op::Target(_) => {
                // This sample's row: x[[sample, 0]], or x[sample] for a scalar.
                let value = array_of(&n.ty.shape, &mut |idx| {
                    let idx = idx.iter().map(|i| dim(*i));
                    match n.ty.shape.len() {
                        0 => quote!(#name[sample]),
                        _ => quote!(#name[[sample, #(#idx),*]]),
                    }
                });
                inside.push(quote!(let #name: #ty = #value;));
            }
            _ if !e.is_bound(id) => {}
            _ => {
                let phase = phases[id.index()];
                match (phase, n.op) {
                    (Phase::Summed, Op::BatchMean) => {
                        let sum = unique(&format!("{}_sum", e.name(id)), names);
                        let l = read(&e, n.args[0], &[]);
                        before.push(quote!(let mut #sum: #t = 0.0;));
                        inside.push(quote!(#sum += #l;));
                        after.push(quote!(let #name: #t = #sum / batch_size;));
                    }
                    (Phase::Summed, _) => {
                        let zeros = array_of(&n.ty.shape, &mut |_| quote!(0.0));
                        before.push(quote!(let mut #name: #ty = #zeros;));
                        for idx in indices(&n.ty.shape) {
                            let term = summed_term(&e, id, &idx)?;
                            let at = element_index(&idx);
                            inside.push(quote!(#name #at += #term;));
                        }
                    }
                    _ => {
                        let value = value(&mut e, id)?;
                        let statement = quote!(let #name: #ty = #value;);
                        match phase {
                            Phase::Fixed => before.push(statement),
                            Phase::Sample => inside.push(statement),
                            _ => after.push(statement),
                        }
                    }
                }
                notes.insert(e.name(id).to_owned(), e.comment(id, &readers[id.index()]));
            }
        }
    }
    let loss = e.ident(roots[0]);
    let (finite, update) = update(net, &e, roots, &mut notes);
    comments.extend(
        notes
            .into_iter()
            .map(|(k, v)| (format!("train_step/{k}"), v)),
    );
    Some(quote! {
        let batch = shapes.samples();
        let batch_size = batch as #t;
        #(#before)*
        for sample in 0..batch {
            #(#inside)*
        }
        #(#after)*
        // Nothing changes unless the loss and every gradient are finite.
        #finite
        #update
        Ok(#loss)
    })
}

/// The finite check of the loss and the gradient sums in locals (one pass,
/// one branch), and the optimizer's update from them: for SGD each element
/// written back once, W ← W + descent·Σ; for the others the general form's
/// update, on views of the locals. `roots` are the loss, then each
/// parameter's gradient sum (a constant zero where the loss does not depend
/// on it).
fn update(
    net: &Net,
    e: &Emitter<'_>,
    roots: &[NodeId],
    notes: &mut BTreeMap<String, Vec<String>>,
) -> (TokenStream, TokenStream) {
    let t = &e.ty;
    let net_name = &net.name;
    let (loss, sums) = (e.ident(roots[0]), &roots[1..]);
    let mut checks = vec![quote!(("the loss", ::core::slice::from_ref(&#loss)))];
    let mut views = Vec::new();
    let mut updates = Vec::new();
    for (p, root) in net.params.iter().zip(sums) {
        let (param, sum) = (format_ident!("{}", p.name), e.ident(*root));
        let rank = p.shape.len();
        if matches!(e.g.node(*root).op, Op::Const(_)) {
            // No gradient: W − η·0 is W; a stateful optimizer still steps.
            let zeros = array_of(&p.shape, &mut |_| quote!(0.0));
            views.push(view(rank, quote!(&#zeros)));
            continue;
        }
        views.push(view(rank, quote!(&#sum)));
        let what = format!("the gradient of {}", p.name);
        checks.push(match rank {
            0 => quote!((#what, ::core::slice::from_ref(&#sum))),
            1 => quote!((#what, &#sum[..])),
            _ => quote!((#what, #sum.as_flattened())),
        });
        for idx in indices(&p.shape) {
            let (at, local) = (index_tuple(&idx), element_index(&idx));
            updates.push(quote!(self.#param[#at] = #param #local + descent * #sum #local;));
        }
    }
    let finite = quote!(::denpa::runtime::ensure_finite_groups(#net_name, &[#(#checks),*])?;);
    let update = match net.optimizer {
        Optimizer::Sgd { lr } => {
            let lr = literal(lr).0;
            notes.insert(
                "descent".into(),
                vec![
                    "descent = −η/N: SGD's step; W ← W + descent·Σ_b ∂ℓ_b/∂W, each element once"
                        .into(),
                ],
            );
            quote! {
                let descent: #t = -#lr / batch_size;
                #(#updates)*
                self.optimizer.step += 1;
            }
        }
        _ => {
            notes.insert(
                "scale".into(),
                vec![
                    "scale = 1/N: ∂E/∂W = (1/N) Σ_b ∂ℓ_b/∂W, the sums scaled in the update".into(),
                ],
            );
            let grads: Vec<StepGradient<'_>> = views.iter().map(Ok).collect();
            let update = optimizer(net, t, &grads).update;
            quote! {
                let scale: #t = 1.0 / batch_size;
                #update
            }
        }
    };
    (finite, update)
}

/// An array view of a local array (`aview2(&grad_W1_sum)`), for the
/// optimizers' updates.
fn view(rank: usize, local: TokenStream) -> TokenStream {
    let f = format_ident!("aview{rank}");
    quote!(::denpa::ndarray::#f(#local))
}

/// The phase of every live node, if the network takes the scalar form:
/// per-sample values of rank 0 or 1 and at most [`SCALAR_VALUES`] elements,
/// the others of rank at most 2 and [`SCALAR_PARAMS`] elements; elementwise
/// operands of the node's shape or scalars; nothing per sample computed from
/// a sum over the batch.
fn phases(e: &Emitter<'_>) -> Option<Vec<Phase>> {
    let g = e.g;
    let mut phase = vec![Phase::Fixed; g.nodes.len()];
    for id in g.ids().filter(|id| e.is_live(*id)) {
        let n = g.node(id);
        // Indices, version 3's ops and softmax of rows keep the general form.
        let rows = matches!(n.op, Op::Softmax | Op::LogSoftmax) && n.ty.shape.len() > 1;
        let statistic = matches!(n.op, Op::Statistic(_));
        if n.ty.is_index() || Emitter::is_sequence_op(n.op) || rows || statistic {
            return None;
        }
        let args: Vec<Phase> = n.args.iter().map(|a| phase[a.index()]).collect();
        let p = match n.op {
            Op::Input(_) | Op::Target(_) => Phase::Sample,
            Op::Param(_) | Op::BatchSize => Phase::Fixed,
            _ if args
                .iter()
                .any(|p| matches!(p, Phase::Summed | Phase::After)) =>
            {
                if n.ty.batched || !n.op.is_elementwise() {
                    return None;
                }
                Phase::After
            }
            _ if n.ty.batched => Phase::Sample,
            _ if args.contains(&Phase::Sample) => Phase::Summed,
            _ => Phase::Fixed,
        };
        let size: usize = n.ty.shape.iter().product();
        let fits = match p {
            Phase::Sample => n.ty.shape.len() <= 1 && size <= SCALAR_VALUES,
            _ => n.ty.shape.len() <= 2 && size <= SCALAR_PARAMS,
        };
        let operands_fit = !n.op.is_elementwise()
            || n.args.iter().all(|a| {
                let s = &g.node(*a).ty.shape;
                s.is_empty() || *s == n.ty.shape
            });
        if !fits || !operands_fit {
            return None;
        }
        phase[id.index()] = p;
    }
    Some(phase)
}

/// A bound node's value outside a sum: its elements, as a scalar or a
/// fixed-size array literal.
fn value(e: &mut Emitter<'_>, id: NodeId) -> Option<TokenStream> {
    let g = e.g;
    let n = g.node(id);
    let arg = |k: usize| n.args[k];
    let shape = |k: usize| g.node(n.args[k]).ty.shape.clone();
    let sum = |terms: Vec<TokenStream>| quote!(#(#terms)+*);
    let ty = e.ty.clone();
    let value = match n.op {
        op if op.is_elementwise() || matches!(op, Op::Const(_)) => {
            let out = n.ty.shape.clone();
            array_of(&out, &mut |idx| {
                let idx = idx.to_vec();
                e.element(id, true, &|e, a| read(e, a, &idx)).0
            })
        }
        Op::MatMul { ta: false, tb } => {
            let (a, b) = (shape(0), shape(1));
            let k = *a.first()?;
            if a.len() != 1 || !matches!(b.len(), 1 | 2) || (tb && b.len() == 1) {
                return None;
            }
            if e.g.node(arg(1)).ty.batched {
                return None;
            }
            array_of(&n.ty.shape, &mut |idx| {
                let terms = (0..k)
                    .map(|p| {
                        let w = match (b.len(), tb) {
                            (1, _) => vec![p],
                            (_, false) => vec![p, idx[0]],
                            (_, true) => vec![idx[0], p],
                        };
                        let (x, w) = (read(e, arg(0), &[p]), read(e, arg(1), &w));
                        quote!(#x * #w)
                    })
                    .collect();
                sum(terms)
            })
        }
        Op::Outer => {
            let (a, b) = (g.node(arg(0)), g.node(arg(1)));
            if b.ty.batched || (n.ty.batched && !a.ty.batched) {
                return None;
            }
            let split = a.ty.shape.len();
            array_of(&n.ty.shape, &mut |idx| {
                let (x, y) = (
                    read(e, arg(0), &idx[..split]),
                    read(e, arg(1), &idx[split..]),
                );
                quote!(#x * #y)
            })
        }
        Op::Sum | Op::Mean | Op::Reduce => {
            let from = shape(0);
            if n.op == Op::Reduce && !from.starts_with(&n.ty.shape) {
                return None;
            }
            let count = literal(from.iter().product::<usize>() as f64).0;
            let mean = n.op == Op::Mean;
            array_of(&n.ty.shape, &mut |idx| {
                let s = sum(spread(&from, idx)
                    .iter()
                    .map(|i| read(e, arg(0), i))
                    .collect());
                if mean {
                    quote!((#s) / #count)
                } else {
                    s
                }
            })
        }
        Op::Softmax | Op::LogSoftmax if shape(0).len() == 1 => {
            let z = e.ident(arg(0));
            match n.op {
                Op::Softmax => quote!(::denpa::runtime::softmax_array(#z)),
                _ => quote!(::denpa::runtime::log_softmax_array(#z)),
            }
        }
        Op::SoftmaxCrossEntropy if shape(0).len() == 1 && shape(1) == shape(0) => {
            let (z, t) = (e.ident(arg(0)), e.ident(arg(1)));
            quote!(::denpa::runtime::softmax_cross_entropy_array(#z, #t))
        }
        Op::Loss(_) | Op::SigmoidBinaryCrossEntropy => {
            let terms: Vec<TokenStream> = indices(&shape(0))
                .iter()
                .map(|i| {
                    let (y, t) = (read(e, arg(0), i), read(e, arg(1), i));
                    // `y.ln()`; of a constant, `f64::ln(0.5)`, whose type a
                    // literal alone would not give.
                    let constant = matches!(g.node(arg(0)).op, Op::Const(_));
                    let ln = |v: TokenStream| match constant {
                        true => quote!(#ty::ln(#v)),
                        false => quote!(#v.ln()),
                    };
                    match n.op {
                        Op::Loss(LossKind::Sse | LossKind::Mse) => quote!((#y - #t) * (#y - #t)),
                        Op::Loss(LossKind::CrossEntropy) => {
                            let ln_y = ln(y);
                            quote!(#t * #ln_y)
                        }
                        Op::Loss(LossKind::BinaryCrossEntropy) => {
                            let (ln_y, ln_1y) = (ln(y.clone()), ln(quote!((1.0 - #y))));
                            quote!(#t * #ln_y + (1.0 - #t) * #ln_1y)
                        }
                        _ => quote!(::denpa::runtime::softplus(#y) - #t * #y),
                    }
                })
                .collect();
            let s = sum(terms);
            let count = literal(shape(0).iter().product::<usize>() as f64).0;
            match n.op {
                Op::Loss(LossKind::Sse) => quote!((#s) * 0.5),
                Op::Loss(LossKind::Mse) => quote!((#s) / #count),
                Op::Loss(_) => quote!(-(#s)),
                _ => s,
            }
        }
        _ => return None,
    };
    Some(value)
}

/// What one sample adds to element `idx` of a value summed over the batch.
fn summed_term(e: &Emitter<'_>, id: NodeId, idx: &[usize]) -> Option<TokenStream> {
    let g = e.g;
    let n = g.node(id);
    let (a, shape) = (n.args[0], &g.node(n.args[0]).ty.shape);
    match n.op {
        Op::MatMul {
            ta: true,
            tb: false,
        } => {
            let b = n.args[1];
            let split = shape.len();
            let whole = [&shape[..], &g.node(b).ty.shape[..]].concat();
            if whole != n.ty.shape || !g.node(b).ty.batched || split > 1 {
                return None;
            }
            let (x, d) = (read(e, a, &idx[..split]), read(e, b, &idx[split..]));
            Some(quote!(#x * #d))
        }
        Op::Reduce if shape.starts_with(&n.ty.shape) => {
            let terms = spread(shape, idx).into_iter().map(|i| read(e, a, &i));
            Some(quote!(#(#terms)+*))
        }
        _ => None,
    }
}

/// One element of a bound value (or a leaf) in scope: `h[2]`, `W1[0][1]`,
/// `loss`; a scalar is read whole wherever it broadcasts.
fn read(e: &Emitter<'_>, id: NodeId, idx: &[usize]) -> TokenStream {
    let n = e.g.node(id);
    match n.op {
        Op::Const(c) if e.is_inlined(id) || !e.is_bound(id) => literal(c).0,
        Op::BatchSize => quote!(batch_size),
        _ => {
            let name = e.ident(id);
            if n.ty.shape.is_empty() {
                quote!(#name)
            } else {
                let at = element_index(&idx[idx.len() - n.ty.shape.len()..]);
                quote!(#name #at)
            }
        }
    }
}

/// The elements of `from` that sum into element `idx` of a prefix of its
/// shape: `idx` followed by every index of the remaining axes.
fn spread(from: &[usize], idx: &[usize]) -> Vec<Vec<usize>> {
    indices(&from[idx.len()..])
        .into_iter()
        .map(|rest| [idx, &rest[..]].concat())
        .collect()
}

/// Every index of a shape, in row-major order (one empty index for a scalar).
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    shape.iter().fold(vec![Vec::new()], |acc, &d| {
        acc.iter()
            .flat_map(|i| (0..d).map(move |k| [&i[..], &[k]].concat()))
            .collect()
    })
}

/// A scalar, or a (nested) array literal of the shape, from each element.
fn array_of(shape: &[usize], element: &mut dyn FnMut(&[usize]) -> TokenStream) -> TokenStream {
    fn nest(
        shape: &[usize],
        prefix: &mut Vec<usize>,
        element: &mut dyn FnMut(&[usize]) -> TokenStream,
    ) -> TokenStream {
        let Some((&d, rest)) = shape.split_first() else {
            return element(prefix);
        };
        let items: Vec<TokenStream> = (0..d)
            .map(|k| {
                prefix.push(k);
                let item = nest(rest, prefix, element);
                prefix.pop();
                item
            })
            .collect();
        quote!([#(#items),*])
    }
    nest(shape, &mut Vec::new(), element)
}

/// The local's type: `f32`, `[f32; 3]`, `[[f32; 3]; 2]`.
fn local_type(t: &TokenStream, shape: &[usize]) -> TokenStream {
    shape.iter().rev().fold(t.clone(), |inner, &d| {
        let d = dim(d);
        quote!([#inner; #d])
    })
}

/// `[i][j]`: an element of a local array.
fn element_index(idx: &[usize]) -> TokenStream {
    let idx = idx.iter().map(|i| dim(*i));
    quote!(#([#idx])*)
}

/// `[[i, j]]` (or `[i]`, `[()]`): an element of an ndarray array.
fn index_tuple(idx: &[usize]) -> TokenStream {
    let parts: Vec<TokenStream> = idx.iter().map(|i| dim(*i)).collect();
    match parts.as_slice() {
        [] => quote!(()),
        [one] => quote!(#one),
        _ => quote!([#(#parts),*]),
    }
}
