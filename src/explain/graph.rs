//! `denpa graph`: the forward and backward graph in Graphviz DOT.
//!
//! Forward values are boxes, with arrows from arguments to users. Each
//! derivative ∂ℓ/∂v is an ellipse; an arrow from ∂ℓ/∂u to ∂ℓ/∂v carries the
//! local derivative ∂u/∂v that the chain rule multiplies by. Products that
//! several gradients share are filled.

use std::fmt::Write as _;

use crate::check::Net;
use crate::ir::math::{self, Notation, Writer};
use crate::ir::{names, Graph, NodeId, Op, Role};
use crate::lang::LossKind;

/// The graph of one network as DOT.
pub fn dot(net: &Net, g: &Graph) -> String {
    let names = names(net, g);
    let live = {
        let mut roots: Vec<NodeId> = g.outputs.iter().map(|o| o.1).collect();
        roots.push(g.loss);
        roots.extend(g.gradients.iter().copied());
        g.live(&roots)
    };
    let label = |id: NodeId| {
        let n = g.node(id);
        (matches!(n.op, Op::Input(_) | Op::Target(_) | Op::Param(_))
            || matches!(n.role, Role::Forward { .. }))
        .then(|| names[id.index()].clone())
    };
    let writer = Writer::new(g, Notation::Unicode, &label).per_sample();
    // The adjoint of each forward node (∂ℓ/∂ℓ = 1 included).
    let mut adjoint: Vec<Option<NodeId>> = vec![None; g.nodes.len()];
    for (v, d) in &g.adjoints {
        adjoint[v.index()] = Some(*d);
    }
    // The chain starts at ∂ℓ/∂ℓ = 1, a constant the code never needs.
    adjoint[g.sample_loss.index()].get_or_insert(g.sample_loss);
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", net.name);
    let _ = writeln!(out, "  rankdir=TB;");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    let clusters = clusters(net, g, &names);
    // Each node's line goes to its block call's cluster; arrows after all.
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); clusters.paths.len()];
    let mut edges = String::new();
    // Forward values.
    for id in g
        .ids()
        .filter(|id| live[id.index()] && matches!(g.node(*id).role, Role::Forward { .. }))
    {
        let n = g.node(id);
        let text = match n.op {
            Op::Input(_) | Op::Target(_) | Op::Param(_) => {
                format!("{} {}", names[id.index()], n.ty.shape_text())
            }
            _ => format!("{} = {}", names[id.index()], writer.formula(id)),
        };
        let color = match n.op {
            Op::Param(_) => "lightyellow",
            Op::Input(_) | Op::Target(_) => "lightgrey",
            _ => "white",
        };
        lines[clusters.of[id.index()]].push(format!(
            "n{} [shape=box, style=filled, fillcolor={color}, label=\"{}\"];",
            id.0,
            escape(&text)
        ));
        for a in &n.args {
            let _ = writeln!(edges, "  n{} -> n{};", a.0, id.0);
        }
    }
    // Derivatives, with the chain rule's local factors on the arrows.
    let users = {
        let mut u = vec![Vec::new(); g.nodes.len()];
        for id in g
            .ids()
            .filter(|id| matches!(g.node(*id).role, Role::Forward { .. }))
        {
            for a in &g.node(id).args {
                u[a.index()].push(id);
            }
        }
        u
    };
    // How many nodes read each node (a node reading it twice counts once).
    let mut readers = vec![0usize; g.nodes.len()];
    for n in &g.nodes {
        for (k, a) in n.args.iter().enumerate() {
            if !n.args[..k].contains(a) {
                readers[a.index()] += 1;
            }
        }
    }
    // The derivatives' arrows, each value's after those of the values it
    // feeds: a layout that checks each new arrow for a cycle then finds
    // none to follow (layout-rs searches every path, which a residual
    // stream makes exponential in the depth).
    let mut derivative_edges: Vec<String> = Vec::new();
    for v in g.ids() {
        let Some(d) = adjoint[v.index()] else {
            continue;
        };
        let from_users: Vec<NodeId> = users[v.index()]
            .iter()
            .copied()
            .filter(|u| adjoint[u.index()].is_some())
            .collect();
        let shared = readers[d.index()] > 1;
        let style = if shared { "filled, bold" } else { "solid" };
        let text = if v == g.sample_loss {
            "∂ℓ/∂ℓ = 1".to_string()
        } else {
            format!("∂ℓ/∂{}", names[v.index()])
        };
        lines[clusters.of[v.index()]].push(format!(
            "d{} [shape=ellipse, style=\"{style}\", fillcolor=lightblue, label=\"{}\"];",
            v.0,
            escape(&text)
        ));
        let mut arrows = String::new();
        for u in from_users {
            let k = g.node(u).args.iter().position(|a| *a == v).unwrap_or(0);
            let local = local_derivative(g, &names, u, k);
            let _ = writeln!(
                arrows,
                "  d{} -> d{} [style=dashed, label=\"{}\"];",
                u.0,
                v.0,
                escape(&local)
            );
        }
        derivative_edges.push(arrows);
    }
    for arrows in derivative_edges.iter().rev() {
        edges.push_str(arrows);
    }
    clusters.write(&lines, &mut out);
    out.push_str(&edges);
    out.push_str("}\n");
    out
}

/// The block calls of a network as nested clusters: every call a path of
/// the calls that led to it (the network itself is the empty path, index 0),
/// sorted so that a call's cluster directly follows its caller's.
struct Clusters {
    /// (the path of binding names, the label of the innermost call).
    paths: Vec<(Vec<String>, String)>,
    /// The cluster of each node.
    of: Vec<usize>,
}

fn clusters(net: &Net, g: &Graph, names: &[String]) -> Clusters {
    let mut paths: Vec<(Vec<String>, String)> = vec![(Vec::new(), String::new())];
    for b in &net.bindings {
        for depth in 1..=b.calls.len() {
            let path: Vec<String> = b.calls[..depth].iter().map(|c| c.binding.clone()).collect();
            let call = &b.calls[depth - 1];
            paths.push((path, format!("{} = {}(…)", call.binding, call.block)));
        }
    }
    paths.sort();
    paths.dedup_by(|a, b| a.0 == b.0);
    let index = |path: &[String]| paths.iter().position(|p| p.0 == path).unwrap_or(0);
    let mut of = vec![0; g.nodes.len()];
    for b in net.bindings.iter().filter(|b| !b.calls.is_empty()) {
        let path: Vec<String> = b.calls.iter().map(|c| c.binding.clone()).collect();
        let cluster = index(&path);
        for id in g.ids() {
            if g.node(id).name.as_deref() == Some(b.name.as_str()) {
                of[id.index()] = cluster;
            }
        }
    }
    // The rest of a binding's expression joins its user's cluster, and so
    // do the parameters a call declared (named with its prefix).
    for id in g.ids().rev() {
        let n = g.node(id);
        if !matches!(n.role, Role::Forward { .. }) || of[id.index()] == 0 {
            continue;
        }
        let cluster = of[id.index()];
        let prefix = format!("{}_", paths[cluster].0.last().map_or("", String::as_str));
        for a in &n.args {
            let arg = g.node(*a);
            let joins = match arg.op {
                Op::Param(_) => names[a.index()].starts_with(&prefix),
                Op::Input(_) | Op::Target(_) => false,
                _ => arg.name.is_none(),
            };
            if joins && of[a.index()] == 0 {
                of[a.index()] = cluster;
            }
        }
    }
    Clusters { paths, of }
}

impl Clusters {
    /// The lines of each cluster, inside nested `subgraph cluster_…`.
    fn write(&self, lines: &[Vec<String>], out: &mut String) {
        let mut open: Vec<&String> = Vec::new();
        for (i, (path, label)) in self.paths.iter().enumerate() {
            while open.len() > path.len() || !open.iter().zip(path).all(|(a, b)| *a == b) {
                open.pop();
                let _ = writeln!(out, "{}}}", "  ".repeat(open.len() + 1));
            }
            if let Some(last) = path.last() {
                let indent = "  ".repeat(open.len() + 1);
                let _ = writeln!(out, "{indent}subgraph cluster_{last} {{");
                let _ = writeln!(
                    out,
                    "{indent}  label=\"{label}\"; style=rounded; color=grey50; fontname=\"Helvetica\";"
                );
                open.push(last);
            }
            let indent = "  ".repeat(open.len() + 1);
            for line in &lines[i] {
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        while open.pop().is_some() {
            let _ = writeln!(out, "{}}}", "  ".repeat(open.len() + 1));
        }
    }
}

/// ∂u/∂(argument k) in words and symbols, for an arrow's label.
fn local_derivative(g: &Graph, names: &[String], u: NodeId, k: usize) -> String {
    let n = g.node(u);
    let name = |id: NodeId| names[id.index()].clone();
    let other = |k: usize| name(n.args[1 - k]);
    match n.op {
        Op::Add => "1".into(),
        Op::Sub if k == 0 => "1".into(),
        Op::Sub | Op::Neg => "−1".into(),
        Op::Mul => other(k),
        Op::Div if k == 0 => format!("1/{}", other(k)),
        Op::Div => format!("−{}/{}", name(u), other(k)),
        Op::Map(f) => math::derivative(f, &name(n.args[0]), &name(u), Notation::Unicode),
        Op::MatMul { .. } if k == 0 => format!("·{}ᵀ", other(k)),
        Op::MatMul { .. } => format!("{}ᵀ·", other(k)),
        Op::Softmax => format!("diag({0}) − {0}{0}ᵀ", name(u)),
        Op::LogSoftmax => "I − softmax·1ᵀ".into(),
        Op::Sum => "1".into(),
        Op::Mean => "1/n".into(),
        Op::Loss(kind) => match kind {
            LossKind::Sse => format!("{} − {}", name(n.args[0]), name(n.args[1])),
            LossKind::Mse => {
                format!("(2/n)({} − {})", name(n.args[0]), name(n.args[1]))
            }
            LossKind::CrossEntropy => {
                format!("−{}/{}", name(n.args[1]), name(n.args[0]))
            }
            LossKind::BinaryCrossEntropy => "(y − t)/(y(1 − y))".into(),
            LossKind::Nll => format!("−{}", name(n.args[1])),
        },
        Op::SoftmaxCrossEntropy => {
            format!("softmax({})·Σ{1} − {1}", name(n.args[0]), name(n.args[1]))
        }
        Op::SigmoidBinaryCrossEntropy => format!("σ({}) − {}", name(n.args[0]), name(n.args[1])),
        Op::Conv2d(_) if k == 0 => format!("conv_transpose(·, {})", other(k)),
        Op::Conv2d(_) => format!("{} ⋆ ·", other(k)),
        Op::MaxPool(_) => "1 at the first max".into(),
        Op::AvgPool(w) => format!("1/{}", w.size * w.size),
        Op::Reshape => "reshape".into(),
        _ => String::new(),
    }
}
