//! Reverse mode: the backward pass, derived by the chain rule over the graph.
//!
//! `derive` walks the forward graph from the loss back towards the
//! parameters, in reverse topological order. Each node's adjoint ∂ℓ/∂v is the
//! sum (`+=`) of the contributions of the nodes that use v, and each
//! contribution is the local derivative of one op times the user's adjoint —
//! one rule per op, in [`rules`]. A node's adjoint is built once, so every
//! product that several gradients need (a layer's delta δ, used by its weight
//! gradient, its bias gradient and the delta below it) is one node, shared.
//!
//! After this pass the graph also holds, for every parameter W, the node
//! ∂E/∂W in `Graph::gradients`. No adjoint is built for a value that no
//! parameter influences (inputs, targets, constants), nor through `step`.
//!
//! The loss of a batch is the mean of the per-sample losses ℓ_b, so
//! ∂E/∂W = (1/N) Σ_b ∂ℓ_b/∂W. The chain rule runs on the per-sample ℓ with the
//! seed ∂ℓ/∂ℓ = 1, so the deltas are the textbook's per-sample δ (y − t for
//! softmax and cross-entropy), and 1/B is applied once per parameter.

pub mod rules;

use crate::ir::{Graph, Node, NodeId, Op, Role};
use crate::lang::{aligned, Type};

/// Appends the backward pass to a forward graph.
pub fn derive(mut g: Graph) -> Graph {
    let forward_len = g.nodes.len();
    // A node needs an adjoint when a parameter influences it and it
    // influences the loss.
    let on_path = g.live(&[g.sample_loss]);
    let mut needs = vec![false; forward_len];
    for id in g.ids() {
        let n = g.node(id);
        let from_param = matches!(n.op, Op::Param(_)) || n.args.iter().any(|a| needs[a.index()]);
        needs[id.index()] = from_param;
    }
    for (i, need) in needs.iter_mut().enumerate() {
        *need &= on_path[i];
    }

    let mut contributions: Vec<Vec<NodeId>> = vec![Vec::new(); forward_len];
    let seed_ty = g.node(g.sample_loss).ty.clone();
    let seed = constant(&mut g, 1.0, seed_ty);
    contributions[g.sample_loss.index()].push(seed);
    let mut adjoints: Vec<Option<NodeId>> = vec![None; forward_len];

    for index in (0..forward_len).rev() {
        let id = NodeId(index as u32);
        if !needs[index] || contributions[index].is_empty() {
            continue;
        }
        // ∂ℓ/∂v = Σ over the users u of v of (∂ℓ/∂u)(∂u/∂v)
        let parts = std::mem::take(&mut contributions[index]);
        let first_new = g.nodes.len();
        let adjoint = sum(&mut g, &parts);
        if g.nodes[adjoint.index()].role == Role::Backward {
            g.nodes[adjoint.index()].role = Role::Adjoint(id);
        }
        adjoints[index] = Some(adjoint);
        g.adjoints.insert(id, adjoint);
        let args = g.node(id).args.clone();
        for (k, arg) in args.into_iter().enumerate() {
            if !needs[arg.index()] {
                continue;
            }
            if let Some(part) = rules::adjoint(&mut g, id, k, adjoint) {
                let ty = g.node(arg).ty.clone();
                let part = fit(&mut g, part, ty);
                contributions[arg.index()].push(part);
            }
        }
        for node in &mut g.nodes[first_new..] {
            node.from = Some(id);
        }
    }

    let params: Vec<(usize, NodeId)> = g
        .ids()
        .take(forward_len)
        .filter_map(|id| match g.node(id).op {
            Op::Param(p) => Some((p, id)),
            _ => None,
        })
        .collect();
    let mut gradients = vec![NodeId(0); params.len()];
    for (p, id) in params {
        let ty = g.node(id).ty.clone();
        let first_new = g.nodes.len();
        let gradient = match adjoints[id.index()] {
            // ∂E/∂W = (1/N) Σ_b ∂ℓ_b/∂W
            Some(adjoint) => {
                let b = push(&mut g, Op::BatchSize, vec![], Type::scalar());
                push(&mut g, Op::Div, vec![adjoint, b], ty)
            }
            None => constant(&mut g, 0.0, ty),
        };
        g.nodes[gradient.index()].role = Role::Gradient(p);
        for node in &mut g.nodes[first_new..] {
            node.from = Some(id);
        }
        gradients[p] = gradient;
    }
    g.gradients = gradients;
    g
}

/// Appends a backward node.
pub(crate) fn push(g: &mut Graph, op: Op, args: Vec<NodeId>, ty: Type) -> NodeId {
    g.push(Node {
        op,
        args,
        ty,
        name: None,
        hint: None,
        role: Role::Backward,
        from: None,
    })
}

/// A constant of the given type.
pub(crate) fn constant(g: &mut Graph, value: f64, ty: Type) -> NodeId {
    push(g, Op::Const(value), vec![], ty)
}

/// The sum of the contributions, left to right.
fn sum(g: &mut Graph, parts: &[NodeId]) -> NodeId {
    let mut total = parts[0];
    for &part in &parts[1..] {
        let ty = g.node(total).ty.clone();
        total = push(g, Op::Add, vec![total, part], ty);
    }
    total
}

/// Makes a contribution the type of the value it belongs to: summed over
/// the axes it was broadcast along, or broadcast where the rule left it
/// smaller (the adjoint of `sum(x)` is the same for every element of x).
/// Shapes are aligned as elementwise operations align them
/// (`lang::aligned`): `[T, 1]` against `[T, d]`, `[d]` against `[T, d]`,
/// `[c]` against `[c, h, w]` per channel.
fn fit(g: &mut Graph, part: NodeId, ty: Type) -> NodeId {
    let have = g.node(part).ty.clone();
    if have.shape == ty.shape && have.batched == ty.batched {
        return part;
    }
    let rank = have.shape.len().max(ty.shape.len());
    let (h, t) = (aligned(&have.shape, rank), aligned(&ty.shape, rank));
    // What both reach: per aligned axis, the smaller length (an axis one of
    // them lacks, or has as 1, is summed).
    let both: Vec<usize> = h.iter().zip(&t).map(|(a, b)| *a.min(b)).collect();
    // Written in the smaller of the two ranks, as that side stands.
    let (small, small_rank) = if have.shape.len() > ty.shape.len() {
        (&ty.shape, ty.shape.len())
    } else {
        (&have.shape, have.shape.len())
    };
    let positions = own_axes(small_rank, rank);
    let middle = Type::new(
        positions.iter().map(|&p| both[p]).collect(),
        have.batched && ty.batched,
    );
    debug_assert!(middle.shape.len() == small.len());
    let reduced = if middle != have {
        push(g, Op::Reduce, vec![part], middle.clone())
    } else {
        part
    };
    if middle != ty {
        push(g, Op::Broadcast, vec![reduced], ty)
    } else {
        reduced
    }
}

/// Where the axes of a shape of rank `own` stand among `rank` aligned axes
/// (see `lang::aligned`): the last ones, or the first of an image's three for
/// a vector applying per channel.
fn own_axes(own: usize, rank: usize) -> Vec<usize> {
    if own == 1 && rank == 3 {
        vec![0]
    } else {
        (rank - own..rank).collect()
    }
}
