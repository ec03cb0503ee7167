//! Constant folding: an elementwise operation, sum or mean whose arguments
//! are all constants becomes a constant.
//!
//! `2 * 0.5` → `1`; `log(0.5)` → `-0.693…`; `sum(2)` → `2`. Sound because the
//! ops are pure and constants are the same for every element and sample;
//! folding happens in f64, which the generated code then rounds to its dtype.
//!
//! After this pass no elementwise node, `sum` or `mean` has only constant
//! arguments.

use crate::ir::{Graph, Op};

/// Folds operations on constants, in one forward sweep.
pub fn fold(mut g: Graph) -> Graph {
    for id in g.ids() {
        let n = g.node(id);
        let args: Option<Vec<f64>> = n
            .args
            .iter()
            .map(|a| match g.node(*a).op {
                Op::Const(c) => Some(c),
                _ => None,
            })
            .collect();
        let Some(v) = args.filter(|v| !v.is_empty()) else {
            continue;
        };
        let shape_count = g.node(n.args[0]).ty.shape.iter().product::<usize>() as f64;
        let value = match n.op {
            Op::Add => v[0] + v[1],
            Op::Sub => v[0] - v[1],
            Op::Mul => v[0] * v[1],
            Op::Div => v[0] / v[1],
            Op::Neg => -v[0],
            Op::Map(f) => f.eval(v[0]),
            // Σ of n equal elements; the mean of equal elements is one of them.
            Op::Sum if !g.node(n.args[0]).ty.batched || n.ty.batched => v[0] * shape_count,
            Op::Mean if !g.node(n.args[0]).ty.batched || n.ty.batched => v[0],
            _ => continue,
        };
        if value.is_finite() {
            let node = &mut g.nodes[id.index()];
            node.op = Op::Const(value);
            node.args.clear();
        }
    }
    g
}
