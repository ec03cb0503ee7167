//! What a network costs per sample: the ledger of `denpa explain` and the
//! columns of `denpa summary`.
//!
//! Multiplications, as the textbook counts them: a matrix product counts its
//! multiply-adds, an elementwise product or quotient one per element, a local
//! derivative the multiplications in its formula (σ′ = y(1 − y): one).
//! Activations' own exp/log, additions, sums and the final 1/B are not
//! counted. A batch axis counts as one sample.

use crate::ir::{Graph, NodeId, Op, Role};
use crate::lang::{Func, LossKind};

/// Multiplications per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ledger {
    /// The forward pass up to the loss.
    pub forward: u64,
    /// The backward pass as derived, shared products computed once.
    pub backward: u64,
    /// The backward pass with every parameter element's derivative computed
    /// as its own chain-rule product, nothing reused. It grows
    /// exponentially with depth; `u64::MAX` stands for that many or more.
    pub naive: u64,
}

/// The elements of a node per sample.
fn elements(g: &Graph, id: NodeId) -> u64 {
    g.node(id).ty.shape.iter().product::<usize>().max(1) as u64
}

/// The per-sample dimensions of a physical array (the batch axis counts 1).
fn dims(g: &Graph, id: NodeId) -> Vec<u64> {
    let t = &g.node(id).ty;
    let mut d: Vec<u64> = Vec::new();
    if t.batched {
        d.push(1);
    }
    d.extend(t.shape.iter().map(|&n| n as u64));
    d
}

/// (rows of op(a), shared dimension, columns of op(b)) of a product.
fn product_dims(g: &Graph, a: NodeId, b: NodeId, ta: bool, tb: bool) -> (u64, u64, u64) {
    // A batch of matrices of each sample counts one sample's rows.
    let sample = |id: NodeId| {
        let d = dims(g, id);
        if d.len() == 3 {
            d[1..].to_vec()
        } else {
            d
        }
    };
    let (da, db) = (sample(a), sample(b));
    let (r, k) = match (da.as_slice(), ta) {
        ([n, m], false) => (*n, *m),
        ([n, m], true) => (*m, *n),
        ([k], _) => (1, *k),
        _ => (1, 1),
    };
    let c = match (db.as_slice(), tb) {
        ([_, m], false) => *m,
        ([n, _], true) => *n,
        _ => 1,
    };
    (r, k, c)
}

/// (rows, shared, columns) of a product of each sample's matrices (a vector
/// a row on the left, a column on the right).
fn sample_product_dims(g: &Graph, a: NodeId, b: NodeId, ta: bool, tb: bool) -> (u64, u64, u64) {
    let shape =
        |id: NodeId| -> Vec<u64> { g.node(id).ty.shape.iter().map(|&n| n as u64).collect() };
    let (sa, sb) = (shape(a), shape(b));
    let (r, k) = match (sa.as_slice(), ta) {
        ([m, k], false) => (*m, *k),
        ([k, m], true) => (*m, *k),
        ([k], _) => (1, *k),
        _ => (1, 1),
    };
    let c = match (sb.as_slice(), tb) {
        ([_, n], false) => *n,
        ([n, _], true) => *n,
        _ => 1,
    };
    (r, k, c)
}

/// Multiplications in one node's computation, per sample.
pub fn multiplications(g: &Graph, id: NodeId) -> u64 {
    let n = g.node(id);
    match n.op {
        Op::MatMul { ta, tb } => {
            let (r, k, c) = product_dims(g, n.args[0], n.args[1], ta, tb);
            r * k * c
        }
        Op::Outer | Op::BatchOuter => {
            dims(g, n.args[0]).iter().product::<u64>() * dims(g, n.args[1]).iter().product::<u64>()
        }
        Op::BatchMatMul { ta, tb } => {
            let (r, k, c) = sample_product_dims(g, n.args[0], n.args[1], ta, tb);
            r * k * c
        }
        Op::MeanAxis(_) => elements(g, id),
        // One multiply-add per output element and kernel tap:
        // k·oh·ow · c·r·s, whichever of the three products it is.
        Op::Conv2d(_) => elements(g, id) * taps(g, n.args[1]),
        Op::ConvInputGrad(_) => elements(g, n.args[0]) * taps(g, n.args[1]),
        Op::ConvKernelGrad(_) => {
            let delta = &g.node(n.args[1]).ty.shape;
            elements(g, id) * delta[1..].iter().product::<usize>() as u64
        }
        // The mean of a window: one scaling per output (or δ) element.
        Op::AvgPool(_) => elements(g, id),
        Op::AvgPoolGrad(_) => elements(g, n.args[0]),
        Op::Div if g.node(n.args[1]).op == Op::BatchSize => 0,
        Op::Mul | Op::Div => elements(g, id),
        Op::Deriv(f) => elements(g, id) * derivative_multiplications(f),
        _ => 0,
    }
}

/// The taps of one output element of a kernel `[k, c, r, s]`: c·r·s.
fn taps(g: &Graph, kernel: NodeId) -> u64 {
    g.node(kernel).ty.shape[1..].iter().product::<usize>() as u64
}

/// The windows of a pool or convolution that hold one input element:
/// ⌈size / stride⌉² (1 for windows that do not overlap).
fn overlap(side: usize, stride: usize) -> u64 {
    (side.div_ceil(stride) as u64).pow(2)
}

fn derivative_multiplications(f: Func) -> u64 {
    match f {
        Func::Sigmoid | Func::Tanh | Func::Log | Func::Sqrt | Func::Square | Func::Gelu => 1,
        Func::Relu | Func::LeakyRelu(_) | Func::Softplus | Func::Exp | Func::Abs | Func::Step => 0,
    }
}

/// Floating-point operations of one node per sample, roughly: two per
/// multiply-add of a product, one per element of anything elementwise.
pub fn flops(g: &Graph, id: NodeId) -> u64 {
    let n = g.node(id);
    match n.op {
        Op::Input(_)
        | Op::Target(_)
        | Op::Param(_)
        | Op::Statistic(_)
        | Op::Const(_)
        | Op::BatchSize => 0,
        Op::MatMul { .. } | Op::Outer | Op::BatchMatMul { .. } | Op::BatchOuter => {
            2 * multiplications(g, id)
        }
        Op::Deriv(f) => elements(g, id) * (1 + derivative_multiplications(f)),
        Op::Loss(_)
        | Op::SoftmaxCrossEntropy
        | Op::SigmoidBinaryCrossEntropy
        | Op::Softmax
        | Op::LogSoftmax => 3 * elements(g, n.args[0]),
        Op::Sum | Op::Mean | Op::Reduce | Op::BatchMean => {
            n.args.first().map_or(0, |a| elements(g, *a))
        }
        Op::Conv2d(_) | Op::ConvInputGrad(_) | Op::ConvKernelGrad(_) => 2 * multiplications(g, id),
        // A comparison or an addition per window element.
        Op::MaxPool(w) | Op::AvgPool(w) => elements(g, id) * (w.size * w.size) as u64,
        Op::MaxPoolGrad(w) => elements(g, n.args[1]) * (w.size * w.size) as u64,
        Op::AvgPoolGrad(w) => elements(g, n.args[0]) * (w.size * w.size) as u64,
        Op::Reshape => 0,
        _ => elements(g, id),
    }
}

/// The ledger of a derived graph.
pub fn ledger(g: &Graph) -> Ledger {
    let to_loss = g.live(&[g.loss]);
    let backward_live = g.live(&g.gradients);
    let mut forward = 0;
    let mut backward = 0;
    for id in g.ids() {
        let forward_node = matches!(g.node(id).role, Role::Forward { .. });
        if forward_node && to_loss[id.index()] {
            forward = multiplications(g, id).saturating_add(forward);
        } else if !forward_node && backward_live[id.index()] {
            backward = multiplications(g, id).saturating_add(backward);
        }
    }
    Ledger {
        forward,
        backward,
        naive: naive(g),
    }
}

/// The cost of computing every parameter element's derivative as its own
/// chain-rule product. For one element of a value v, the cost c(v) sums,
/// over the values u that use v and each element of u that the element of v
/// reaches, the cost c(u) of that element's derivative plus the
/// multiplications of the local factor ∂u/∂v.
fn naive(g: &Graph) -> u64 {
    let live = g.live(&[g.sample_loss]);
    let mut cost = vec![0u64; g.nodes.len()];
    // Whether a gradient flows from the loss to each node at all.
    let mut flows = vec![false; g.nodes.len()];
    flows[g.sample_loss.index()] = true;
    let mut total = 0;
    for id in g.ids().rev() {
        let n = g.node(id);
        if !live[id.index()] || !matches!(n.role, Role::Forward { .. }) || id == g.loss {
            continue;
        }
        for (k, &a) in n.args.iter().enumerate() {
            let (reach, local) = local_factor(g, id, k);
            if flows[id.index()] && reach > 0 {
                flows[a.index()] = true;
                // Deep networks go past u64 (each layer multiplies the
                // paths): the count stops at u64::MAX, see [`Ledger::naive`].
                let more = reach.saturating_mul(cost[id.index()].saturating_add(local));
                cost[a.index()] = cost[a.index()].saturating_add(more);
            }
        }
        if let Op::Param(_) = n.op {
            total = elements(g, id)
                .saturating_mul(cost[id.index()])
                .saturating_add(total);
        }
    }
    total
}

/// For argument k of node u: how many elements of u one element of the
/// argument reaches, and the multiplications in one local factor ∂u/∂v.
fn local_factor(g: &Graph, u: NodeId, k: usize) -> (u64, u64) {
    let n = g.node(u);
    match n.op {
        Op::Add | Op::Sub | Op::Neg | Op::Sum | Op::Broadcast => (1, 0),
        Op::Mul => (1, 1),
        Op::Div => (1, if k == 0 { 1 } else { 2 }),
        Op::Mean => (1, 1),
        // No gradient passes step: nothing to compute through it.
        Op::Map(f) if !f.has_gradient() => (0, 0),
        Op::Map(f) => (1, derivative_multiplications(f) + 1),
        Op::MatMul { ta, tb } => {
            let (r, _, c) = product_dims(g, n.args[0], n.args[1], ta, tb);
            (if k == 0 { c } else { r }, 1)
        }
        Op::BatchMatMul { ta, tb } => {
            let (r, _, c) = sample_product_dims(g, n.args[0], n.args[1], ta, tb);
            (if k == 0 { c } else { r }, 1)
        }
        // An element of a row reaches that row's entries.
        Op::Softmax | Op::LogSoftmax => (n.ty.shape.last().map_or(1, |&l| l as u64), 1),
        Op::MeanAxis(_) => (1, 1),
        Op::OneHot => (0, 0),
        Op::Loss(LossKind::Sse) | Op::SigmoidBinaryCrossEntropy => (1, 0),
        Op::Loss(LossKind::CrossEntropy | LossKind::Mse) | Op::SoftmaxCrossEntropy => (1, 1),
        Op::Loss(LossKind::BinaryCrossEntropy) => (1, 2),
        // An input element meets k·r·s/stride² kernel taps, a kernel
        // element one input element per output position.
        Op::Conv2d(w) if k == 0 => {
            let shape = &g.node(n.args[1]).ty.shape;
            let (kernels, r, s) = (shape[0], shape[2], shape[3]);
            let per_axis = |side: usize| side.div_ceil(w.stride) as u64;
            (kernels as u64 * per_axis(r) * per_axis(s), 1)
        }
        Op::Conv2d(_) => (n.ty.shape[1..].iter().product::<usize>() as u64, 1),
        Op::MaxPool(w) => (overlap(w.size, w.stride), 0),
        Op::AvgPool(w) => (overlap(w.size, w.stride), 1),
        _ => (1, 0),
    }
}
