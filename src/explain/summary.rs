//! `denpa summary`: a table of every value and parameter, like Keras'
//! `model.summary()`.

use std::fmt::Write as _;

use super::cost::flops;
use crate::check::Net;
use crate::ir::{names, Graph, NodeId, Op, Role};

/// The table of one network.
pub fn summary(net: &Net, g: &Graph) -> String {
    let names = names(net, g);
    // Each node belongs to a row: a named value, or the named value that its
    // first user belongs to; backward nodes to the row of the forward node
    // whose derivative made them.
    let mut row: Vec<Option<NodeId>> = vec![None; g.nodes.len()];
    let shown = |id: NodeId| {
        let n = g.node(id);
        matches!(n.op, Op::Input(_) | Op::Target(_) | Op::Param(_))
            || (matches!(n.role, Role::Forward { .. }) && (n.name.is_some() || n.hint.is_some()))
    };
    for id in g.ids().rev() {
        let n = g.node(id);
        if !matches!(n.role, Role::Forward { .. }) {
            continue;
        }
        if shown(id) {
            row[id.index()] = Some(id);
        }
        if let Some(r) = row[id.index()] {
            for a in &n.args {
                if row[a.index()].is_none() && !shown(*a) {
                    row[a.index()] = Some(r);
                }
            }
        }
    }
    let mut forward = vec![0u64; g.nodes.len()];
    let mut backward = vec![0u64; g.nodes.len()];
    for id in g.ids() {
        let n = g.node(id);
        match n.role {
            Role::Forward { .. } => {
                if let Some(r) = row[id.index()] {
                    forward[r.index()] += flops(g, id);
                }
            }
            _ => {
                let owner = n.from.and_then(|f| row[f.index()]);
                if let Some(r) = owner {
                    backward[r.index()] += flops(g, id);
                }
            }
        }
    }
    let rows: Vec<NodeId> = g.ids().filter(|id| row[id.index()] == Some(*id)).collect();
    // Columns as wide as their longest entry (a kernel's shape is long).
    let name_width = rows.iter().map(|id| names[id.index()].chars().count());
    let name_width = name_width.max().unwrap_or(0).max(18);
    let shape_width = rows.iter().map(|id| g.node(*id).ty.text().chars().count());
    let shape_width = shape_width.max().unwrap_or(0).max(12);
    let line = |name: &str, kind: &str, shape: &str, count: &str, fwd: &str, bwd: &str| {
        format!(
            "{name:<name_width$} {kind:<8} {shape:<shape_width$} {count:>10} {fwd:>14} {bwd:>14}"
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "Network {} ({})", net.name, net.dtype.rust_name());
    let header = line(
        "value",
        "kind",
        "shape",
        "params",
        "forward FLOPs",
        "backward FLOPs",
    );
    let rule = "─".repeat(header.chars().count());
    let _ = writeln!(out, "{rule}\n{header}\n{rule}");
    let (mut params, mut fwd, mut bwd) = (0usize, 0u64, 0u64);
    for &id in &rows {
        let n = g.node(id);
        let kind = match n.op {
            Op::Input(_) => "input",
            Op::Target(_) => "target",
            Op::Param(_) => "param",
            _ if g.outputs.iter().any(|o| o.1 == id) => "output",
            _ if id == g.sample_loss || id == g.loss => "loss",
            _ => "value",
        };
        let count = if matches!(n.op, Op::Param(_)) {
            n.ty.shape.iter().product()
        } else {
            0
        };
        params += count;
        fwd += forward[id.index()];
        bwd += backward[id.index()];
        let count_text = if count > 0 {
            count.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}",
            line(
                &names[id.index()],
                kind,
                &n.ty.text(),
                &count_text,
                &forward[id.index()].to_string(),
                &backward[id.index()].to_string()
            )
        );
        // A batch normalization's running statistics, after its
        // parameters: kept, not trained.
        if let Some(b) = matches!(n.op, Op::Param(_))
            .then(|| names[id.index()].strip_suffix("_bias"))
            .flatten()
        {
            for s in net.statistics.iter().filter(|s| s.layer == b) {
                let shape = crate::lang::shape_text(&s.shape);
                let _ = writeln!(out, "{}", line(&s.name, "stat", &shape, "", "0", "0"));
            }
        }
    }
    let _ = writeln!(out, "{rule}");
    let _ = writeln!(
        out,
        "{}",
        line(
            "total",
            "",
            "",
            &params.to_string(),
            &fwd.to_string(),
            &bwd.to_string()
        )
    );
    let _ = writeln!(out, "{rule}");
    let _ = writeln!(
        out,
        "Trainable parameters: {params}. FLOPs are per sample: two per multiply-add of a"
    );
    let _ = writeln!(
        out,
        "product, one per element of anything elementwise; backward FLOPs are counted"
    );
    let _ = writeln!(out, "at the value whose derivative rule made them.");
    if !net.statistics.is_empty() {
        let kept: usize = net
            .statistics
            .iter()
            .map(|s| s.shape.iter().product::<usize>())
            .sum();
        let _ = writeln!(
            out,
            "Running statistics (stat): {kept} numbers, kept by train_step, not trained."
        );
    }
    let layers = g.mode_layers();
    if !layers.is_empty() {
        let _ = writeln!(
            out,
            "Changes with the mode (training: train_step, gradients; inference: forward,\nloss, ONNX): {}.",
            layers.join("; ")
        );
    }
    out
}
