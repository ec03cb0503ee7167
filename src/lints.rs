//! Warnings: things that compile but are probably not what was meant, found
//! on the forward graph after `ir::build` (and before `derive`).
//!
//! Each rule below is one pass over the forward graph; they need the graph
//! because "reaches the loss" is a question about paths.

use crate::check::Net;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{Graph, Op};
use crate::lang::Func;

/// The warnings of one network, given its forward graph.
pub fn lints(net: &Net, g: &Graph) -> Diagnostics {
    let mut out = Diagnostics::new();
    let roots: Vec<_> = g
        .outputs
        .iter()
        .map(|o| o.1)
        .chain([g.sample_loss])
        .collect();
    let used = g.live(&roots);
    let to_loss = g.live(&[g.sample_loss]);
    // Which nodes the loss reaches by a path that carries a gradient: not
    // through `step`, whose derivative is 0.
    let mut differentiable = vec![false; g.nodes.len()];
    differentiable[g.sample_loss.index()] = true;
    for id in g.ids().rev() {
        if differentiable[id.index()] && g.node(id).op != Op::Map(Func::Step) {
            for a in &g.node(id).args {
                differentiable[a.index()] = true;
            }
        }
    }
    // Computed only when a warning points at a user.
    let (mut output_users, mut step_users) = (None, None);
    for id in g.ids() {
        let n = g.node(id);
        match n.op {
            // A parameter that nothing uses.
            Op::Param(p) if !used[id.index()] => out.push(
                Diagnostic::warning(
                    net.params[p].name_span,
                    format!("the parameter `{}` is never used", net.params[p].name),
                )
                .label("declared here")
                .help("remove it, or use it in a binding"),
            ),
            // A parameter that only outputs the loss ignores use: training
            // never changes it.
            Op::Param(p) if !to_loss[id.index()] => {
                let mut d = Diagnostic::warning(
                    net.params[p].name_span,
                    format!(
                        "no gradient reaches `{}`: the loss does not depend on it",
                        net.params[p].name
                    ),
                )
                .label("training never changes this parameter");
                let outputs = output_users.get_or_insert_with(|| {
                    first_user_spans(g, |n| g.outputs.iter().any(|o| o.1 == n))
                });
                if let Some(span) = outputs[id.index()] {
                    d = d.also(
                        span,
                        "only this output uses it, and the loss ignores the output",
                    );
                }
                out.push(d.help("use the output in the loss, or remove the parameter"));
            }
            // A parameter whose every path to the loss crosses `step`.
            Op::Param(p) if !differentiable[id.index()] => {
                let mut d = Diagnostic::warning(
                    net.params[p].name_span,
                    format!(
                        "no gradient reaches `{}`: it is used only through `step`",
                        net.params[p].name
                    ),
                )
                .label("training never changes this parameter");
                let steps = step_users.get_or_insert_with(|| {
                    first_user_spans(g, |n| g.node(n).op == Op::Map(Func::Step))
                });
                if let Some(span) = steps[id.index()] {
                    d = d.also(span, "no gradient passes `step`");
                }
                out.push(d.help("`step` has derivative 0; use `sigmoid` for a smooth threshold"));
            }
            Op::Input(i) if !used[id.index()] => out.push(
                Diagnostic::warning(
                    net.inputs[i].name_span,
                    format!("the input `{}` is never used", net.inputs[i].name),
                )
                .label("declared here")
                .help("`forward` still takes it as an argument; remove it if it is not needed"),
            ),
            Op::Target(i) if !to_loss[id.index()] => out.push(
                Diagnostic::warning(
                    net.targets[i].name_span,
                    format!("the target `{}` is never used", net.targets[i].name),
                )
                .label("declared here")
                .help("a target is compared with a prediction in the loss"),
            ),
            _ => {}
        }
    }
    out
}

/// For every node, the source span of the first node that `is_wanted` and
/// depends on it: one sweep from the last node back (each node takes the
/// earliest wanted node among its users').
fn first_user_spans(
    g: &Graph,
    is_wanted: impl Fn(crate::ir::NodeId) -> bool,
) -> Vec<Option<crate::diagnostics::Span>> {
    let mut first: Vec<Option<crate::ir::NodeId>> = vec![None; g.nodes.len()];
    for id in g.ids().rev() {
        let below = first[id.index()];
        for a in &g.node(id).args {
            let candidate = if is_wanted(id) { Some(id) } else { below };
            let slot = &mut first[a.index()];
            if let Some(c) = candidate {
                if slot.is_none_or(|s| c < s) {
                    *slot = Some(c);
                }
            }
        }
    }
    first
        .into_iter()
        .map(|n| match g.node(n?).role {
            crate::ir::Role::Forward { span } => Some(span),
            _ => None,
        })
        .collect()
}
