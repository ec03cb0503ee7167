//! The chain rule of each convolution, for `explain`: the one δ of the layer
//! and its three uses (the δ below, the kernel gradient, the bias gradient)
//! in index form, and what computing δ once saves.

use std::fmt::Write as _;

use super::cost::multiplications;
use crate::ir::math::index_form;
use crate::ir::{Graph, NodeId, Op, Role};

/// The paragraph on every convolution that a gradient flows through; empty
/// without one. `letter` names a shared product (`B`) where it has one.
pub(super) fn convolutions(
    g: &Graph,
    names: &[String],
    letter: &dyn Fn(NodeId) -> Option<String>,
    md: bool,
) -> String {
    let mut out = String::new();
    let users = readers(g);
    for conv in g.ids() {
        let n = g.node(conv);
        if !matches!(n.op, Op::Conv2d(_)) || !matches!(n.role, Role::Forward { .. }) {
            continue;
        }
        // conv(x, k, size) adds its bias: δ is the adjoint of the sum.
        let with_bias = users[conv.index()]
            .iter()
            .copied()
            .find(|u| g.node(*u).op == Op::Add && matches!(g.node(*u).role, Role::Forward { .. }));
        let z = with_bias.unwrap_or(conv);
        let Some(&delta) = g.adjoints.get(&z) else {
            continue;
        };
        let (x, w) = (n.args[0], n.args[1]);
        let name = |id: NodeId| names[id.index()].clone();
        let d = letter(delta).unwrap_or_else(|| "δ".into());
        let title = format!(
            "The chain rule of {} = {} ⋆ {}{}: one δ = {d} = ∂ℓ/∂{} serves:",
            name(z),
            name(x),
            name(w),
            with_bias.map_or(String::new(), |b| {
                let bias = g.node(b).args[1];
                format!(" + {}", name(bias))
            }),
            name(z)
        );
        let mut lines = vec![title];
        // The backward nodes that read δ: each a use, in index form.
        let mut uses = 0;
        // The δ below, the kernel, the bias: the order of the layer's story.
        let rank = |u: &NodeId| match g.node(*u).op {
            Op::ConvInputGrad(_) => 0,
            Op::ConvKernelGrad(_) => 1,
            _ => 2,
        };
        let mut readers = users[delta.index()].clone();
        readers.sort_by_key(rank);
        for &u in &readers {
            let un = g.node(u);
            let what = match un.op {
                Op::ConvInputGrad(_) => "the δ of the layer below, a transposed convolution",
                Op::ConvKernelGrad(_) => "the kernel's gradient, the input correlated with δ",
                Op::Reduce => "the bias gradient, δ summed over positions and samples",
                _ => continue,
            };
            uses += 1;
            let target = match un.op {
                Op::ConvInputGrad(_) => format!("∂ℓ/∂{}", name(x)),
                _ => format!("Σ_b ∂ℓ/∂{}", name(w)),
            };
            let label = |id: NodeId| {
                if id == delta {
                    d.clone()
                } else if id == u {
                    target.clone()
                } else {
                    name(id)
                }
            };
            let formula = index_form(g, u, &label).unwrap_or_else(|| {
                let bias = with_bias.map_or(String::new(), |b| name(g.node(b).args[1]));
                format!("Σ_b ∂ℓ/∂{bias}[k] = Σ_b Σ_i Σ_j {d}[b, k, i, j]")
            });
            lines.push(format!("  {formula}   ({what})"));
        }
        if uses == 0 {
            continue;
        }
        let cost = cone_cost(g, delta);
        if uses > 1 {
            lines.push(format!(
                "  δ costs {cost} multiplications per sample; computed once for {uses} uses, it saves {}.",
                cost * (uses as u64 - 1)
            ));
        }
        out.push('\n');
        for (i, line) in lines.iter().enumerate() {
            match (md, i) {
                (true, 0) => {
                    let _ = writeln!(out, "{line}\n");
                }
                (true, _) => {
                    let _ = writeln!(out, "- `{}`", line.trim_start());
                }
                (false, _) => {
                    let _ = writeln!(out, "   {line}");
                }
            }
        }
    }
    out
}

/// The nodes that read each node.
pub(super) fn readers(g: &Graph) -> Vec<Vec<NodeId>> {
    let mut r = vec![Vec::new(); g.nodes.len()];
    for id in g.ids() {
        for a in &g.node(id).args {
            if !r[a.index()].contains(&id) {
                r[a.index()].push(id);
            }
        }
    }
    r
}

/// The multiplications of the backward nodes that computing `delta` needs.
pub(super) fn cone_cost(g: &Graph, delta: NodeId) -> u64 {
    let cone = g.live(&[delta]);
    g.ids()
        .filter(|id| cone[id.index()] && !matches!(g.node(*id).role, Role::Forward { .. }))
        .map(|id| multiplications(g, id))
        .fold(0u64, u64::saturating_add)
}
