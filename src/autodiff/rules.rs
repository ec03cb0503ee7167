//! The local derivative of every op: ONE exhaustive match.
//!
//! `adjoint(g, v, k, δ)` returns the contribution of the node v = op(a₀, a₁, …)
//! to the adjoint of its k-th argument: δ · ∂v/∂aₖ, where δ = ∂ℓ/∂v. Adding an
//! op means adding its arm here; the compiler names every place that must
//! know about it. Rules reuse forward values wherever the math allows
//! (σ′ = y(1 − y) reads the forward y), and return `None` where no gradient
//! flows (step, targets' own leaves, backward-only ops).

use super::{constant, push};
use crate::ir::{Graph, NodeId, Op};
use crate::lang::{Func, LossKind, Type};

/// δ · ∂v/∂(argument k), or `None` where no gradient flows.
pub fn adjoint(g: &mut Graph, v: NodeId, k: usize, delta: NodeId) -> Option<NodeId> {
    let node = g.node(v).clone();
    let arg = |i: usize| node.args[i];
    Some(match node.op {
        // Leaves have no arguments; backward-only ops are never differentiated.
        Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::Const(_) | Op::BatchSize => return None,
        // A dropout mask is drawn, not computed: x ⊙ mask passes δ through
        // the same mask by the product's rule.
        Op::DropoutMask { .. } => return None,
        // A running statistic is no parameter: it has no gradient.
        Op::Statistic(_) => return None,
        // μ = (1/n) Σ x over the batch and the rows or pixels, n = B·(T or
        // h·w) known at run time: ∂μ/∂x = 1/n, δ broadcast back to every
        // sample by fit. This is where the samples of a batch meet.
        Op::BatchStat { .. } => {
            let x = &g.node(arg(0)).ty;
            let per_sample = x.values_per_feature();
            let b = push(g, Op::BatchSize, vec![], Type::scalar());
            let count = if per_sample == 1 {
                b
            } else {
                let k = constant(g, per_sample as f64, Type::scalar());
                mul(g, b, k)
            };
            div(g, delta, count)
        }
        Op::Deriv(_) | Op::Outer | Op::Reduce | Op::Broadcast | Op::BatchMean => return None,
        Op::ConvInputGrad(_) | Op::ConvKernelGrad(_) | Op::MaxPoolGrad(_) | Op::AvgPoolGrad(_) => {
            return None
        }
        Op::ScatterAdd | Op::PlaceRow(_) | Op::BatchOuter | Op::CausalMask | Op::Slice { .. } => {
            return None
        }
        // Indices carry no gradient: neither the index of a gather nor a
        // one-hot target.
        Op::OneHot => return None,
        Op::Gather if k == 1 => return None,

        // ∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1
        Op::Add => delta,
        // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
        Op::Sub if k == 0 => delta,
        Op::Sub => neg(g, delta),
        // ∂(a ⊙ b)/∂a = b, ∂(a ⊙ b)/∂b = a
        Op::Mul => mul(g, delta, arg(1 - k)),
        // ∂(a / b)/∂a = 1/b
        Op::Div if k == 0 => div(g, delta, arg(1)),
        // ∂(a / b)/∂b = −a/b² = −v/b: reuses the forward quotient v
        Op::Div => {
            let dv = mul(g, delta, v);
            let q = div(g, dv, arg(1));
            neg(g, q)
        }
        // ∂(−a)/∂a = −1
        Op::Neg => neg(g, delta),
        // ∂f(x)/∂x = f′(x), written with the forward value y = f(x) where
        // that is cheaper (σ′ = y(1 − y), tanh′ = 1 − y², exp′ = y).
        Op::Map(f) if !f.has_gradient() => return None,
        Op::Map(f) => {
            let local = push(g, Op::Deriv(f), vec![arg(0), v], node.ty.clone());
            mul(g, delta, local)
        }
        // C = op(A)·op(B): ∂/∂A is δ·op(B)ᵀ, ∂/∂B is op(A)ᵀ·δ, arranged for
        // the transposes and for vectors (where the product is an outer one).
        // For a batched A, op(A)ᵀ·δ also sums over the batch.
        Op::MatMul { ta, tb } => {
            let (a, b) = (arg(0), arg(1));
            let ty = g.node(arg(k)).ty.clone();
            let ranks = (physical_rank(g, a), physical_rank(g, b));
            match (ranks, k) {
                ((2, 2), 0) if !ta => {
                    push(g, Op::MatMul { ta: false, tb: !tb }, vec![delta, b], ty)
                }
                ((2, 2), 0) => push(g, Op::MatMul { ta: tb, tb: true }, vec![b, delta], ty),
                ((2, 2), _) if !tb => {
                    push(g, Op::MatMul { ta: !ta, tb: false }, vec![a, delta], ty)
                }
                ((2, 2), _) => push(g, Op::MatMul { ta: true, tb: ta }, vec![delta, a], ty),
                ((2, 1), 0) if !ta => push(g, Op::Outer, vec![delta, b], ty),
                ((2, 1), 0) => push(g, Op::Outer, vec![b, delta], ty),
                ((2, 1), _) => push(g, Op::MatMul { ta: !ta, tb: false }, vec![a, delta], ty),
                ((1, 2), 0) => push(g, Op::MatMul { ta: tb, tb: false }, vec![b, delta], ty),
                ((1, 2), _) if !tb => push(g, Op::Outer, vec![a, delta], ty),
                ((1, 2), _) => push(g, Op::Outer, vec![delta, a], ty),
                // A dot product of two vectors: ∂(a·b)/∂a = b.
                _ => mul(g, delta, arg(1 - k)),
            }
        }
        // y[k, i, j] = Σ_c Σ_r Σ_s W[k, c, r, s] · x[c, i·σ + r − p, j·σ + s − p]
        // ∂ℓ/∂x[c, u, v] = Σ_k Σ_r Σ_s W[k, c, r, s] · δ[k, i, j] over the
        // (i, j) with i·σ + r − p = u, j·σ + s − p = v: the transposed
        // convolution of δ with the same kernel.
        Op::Conv2d(window) if k == 0 => {
            let ty = g.node(arg(0)).ty.clone();
            push(g, Op::ConvInputGrad(window), vec![delta, arg(1)], ty)
        }
        // ∂ℓ/∂W[k, c, r, s] = Σ_i Σ_j δ[k, i, j] · x[c, i·σ + r − p, j·σ + s − p]:
        // the correlation of the input with δ (summed over the batch, as
        // every parameter's adjoint is).
        Op::Conv2d(window) => {
            let ty = g.node(arg(1)).ty.clone();
            push(g, Op::ConvKernelGrad(window), vec![arg(0), delta], ty)
        }
        // y[c, i, j] = max over the window of x: ∂y/∂x is 1 at the window's
        // first maximum, 0 elsewhere; δ goes back there (overlapping
        // windows add up).
        Op::MaxPool(window) => {
            let ty = g.node(arg(0)).ty.clone();
            push(g, Op::MaxPoolGrad(window), vec![arg(0), delta], ty)
        }
        // y[c, i, j] = (1/size²) Σ over the window of x: each element of the
        // window gets δ / size².
        Op::AvgPool(window) => {
            let ty = g.node(arg(0)).ty.clone();
            push(g, Op::AvgPoolGrad(window), vec![delta], ty)
        }
        // The same elements in another shape: δ in the shape of x.
        Op::Reshape => {
            let ty = g.node(arg(0)).ty.clone();
            push(g, Op::Reshape, vec![delta], ty)
        }
        // y = softmax(z): ∂ℓ/∂z = y ⊙ (δ − Σ(δ ⊙ y)), reusing the forward y;
        // of each row of a matrix, with Σ along the row.
        Op::Softmax => {
            let dy = mul(g, delta, v);
            let s = row_sum(g, dy);
            let centered = sub(g, delta, s);
            mul(g, v, centered)
        }
        // y = log_softmax(z) = z − ln Σ eᶻ: ∂ℓ/∂z = δ − softmax(z)·Σδ, with
        // softmax(z) = e^y from the forward y.
        Op::LogSoftmax => {
            let s = row_sum(g, delta);
            let e = push(g, Op::Map(Func::Exp), vec![v], node.ty.clone());
            let es = mul(g, e, s);
            sub(g, delta, es)
        }
        // ∂Σx/∂x = 1 for every element: δ broadcast (by `fit`).
        Op::Sum => delta,
        // ∂mean(x)/∂x = 1/n
        Op::Mean => {
            let n = g.node(arg(0)).ty.shape.iter().product::<usize>() as f64;
            let n = constant(g, n, Type::scalar());
            div(g, delta, n)
        }
        // y[…, 0, …] = Σ_j x[…, j, …] along axis a: ∂y/∂x = 1, δ broadcast
        // back along the axis (by `fit`).
        Op::SumAxis(_) => delta,
        // the mean along axis a: ∂y/∂x = 1/n, n the axis's length
        Op::MeanAxis(a) => {
            let n = g.node(arg(0)).ty.shape[a] as f64;
            let n = constant(g, n, Type::scalar());
            div(g, delta, n)
        }
        // y = E[i]: ∂ℓ/∂E[r] = Σ of δ[p] over the positions p with i[p] = r,
        // a scatter-add (a row read twice gets both δ's; over the batch too,
        // for a table the same for every sample).
        Op::Gather => {
            let ty = g.node(arg(0)).ty.clone();
            push(g, Op::ScatterAdd, vec![arg(1), delta], ty)
        }
        // y = x[r]: ∂ℓ/∂x is δ in row r, 0 in every other row. (Of each
        // sample, where δ is; `fit` sums over the batch for a parameter.)
        Op::Row(r) => {
            let ty = shaped_as(g, arg(0), delta);
            push(g, Op::PlaceRow(r), vec![delta], ty)
        }
        // y = xᵀ: ∂ℓ/∂x = δᵀ
        Op::Transpose => {
            let ty = shaped_as(g, arg(0), delta);
            push(g, Op::Transpose, vec![delta], ty)
        }
        // y = causal(s) = s, with −∞ above the diagonal: ∂y/∂s is 1 on and
        // below the diagonal, 0 above it — δ passes where column ≤ row.
        Op::Causal => {
            let ty = shaped_as(g, arg(0), delta);
            push(g, Op::CausalMask, vec![delta], ty)
        }
        // y = concat(a₀, a₁, …): ∂ℓ/∂aₖ is aₖ's columns of δ.
        Op::Concat => {
            let start = node.args[..k]
                .iter()
                .map(|a| last_dim(g, *a))
                .sum::<usize>();
            let len = last_dim(g, arg(k));
            let ty = shaped_as(g, arg(k), delta);
            push(g, Op::Slice { start, len }, vec![delta], ty)
        }
        // C = op(A)·op(B) for each sample: ∂/∂A is δ·op(B)ᵀ, ∂/∂B is op(A)ᵀ·δ
        // (outer products for vectors); an operand the same for every
        // sample gets them summed over the batch.
        Op::BatchMatMul { ta, tb } => batch_product(g, &node, k, delta, ta, tb),
        // sse = ½ Σ (y − t)²: ∂/∂y = y − t, ∂/∂t = t − y
        Op::Loss(LossKind::Sse) => {
            let (y, t) = if k == 0 {
                (arg(0), arg(1))
            } else {
                (arg(1), arg(0))
            };
            let diff = sub(g, y, t);
            mul(g, delta, diff)
        }
        // mse = (1/n) Σ (y − t)²: ∂/∂y = (2/n)(y − t), ∂/∂t = (2/n)(t − y)
        Op::Loss(LossKind::Mse) => {
            let (y, t) = if k == 0 {
                (arg(0), arg(1))
            } else {
                (arg(1), arg(0))
            };
            let n = g.node(arg(0)).ty.shape.iter().product::<usize>() as f64;
            let two_over_n = constant(g, 2.0 / n, Type::scalar());
            let diff = sub(g, y, t);
            let scaled = mul(g, two_over_n, diff);
            mul(g, delta, scaled)
        }
        // bce = −Σ [t ln y + (1 − t) ln(1 − y)]: ∂/∂y = (y − t) / (y(1 − y))
        Op::Loss(LossKind::BinaryCrossEntropy) if k == 0 => {
            let (y, t) = (arg(0), arg(1));
            let diff = sub(g, y, t);
            let one = constant(g, 1.0, Type::scalar());
            let one_minus_y = sub(g, one, y);
            let denominator = mul(g, y, one_minus_y);
            let q = div(g, diff, denominator);
            mul(g, delta, q)
        }
        // ∂/∂t = ln(1 − y) − ln y
        Op::Loss(LossKind::BinaryCrossEntropy) => {
            let y = arg(0);
            let one = constant(g, 1.0, Type::scalar());
            let one_minus_y = sub(g, one, y);
            let ty = g.node(y).ty.clone();
            let a = push(g, Op::Map(Func::Log), vec![one_minus_y], ty.clone());
            let b = push(g, Op::Map(Func::Log), vec![y], ty);
            let d = sub(g, a, b);
            mul(g, delta, d)
        }
        // Σ softplus(z) − t·z: ∂/∂z = σ(z) − t (no division by y(1 − y))
        Op::SigmoidBinaryCrossEntropy if k == 0 => {
            let (z, t) = (arg(0), arg(1));
            let y = push(g, Op::Map(Func::Sigmoid), vec![z], g.node(z).ty.clone());
            let d = sub(g, y, t);
            mul(g, delta, d)
        }
        // ∂/∂t = −z
        Op::SigmoidBinaryCrossEntropy => {
            let d = mul(g, delta, arg(0));
            neg(g, d)
        }
        // cross_entropy = −Σ t ln y: ∂/∂y = −t / y (on rows, the mean over
        // the T rows: each row's term divided by T)
        Op::Loss(LossKind::CrossEntropy) if k == 0 => {
            let q = div(g, arg(1), arg(0));
            let q = per_row(g, arg(0), q);
            let dq = mul(g, delta, q);
            neg(g, dq)
        }
        // ∂/∂t = −ln y
        Op::Loss(LossKind::CrossEntropy) => {
            let ln_y = push(
                g,
                Op::Map(Func::Log),
                vec![arg(0)],
                g.node(arg(0)).ty.clone(),
            );
            let ln_y = per_row(g, arg(0), ln_y);
            let d = mul(g, delta, ln_y);
            neg(g, d)
        }
        // nll = −Σ t · lp: ∂/∂lp = −t, ∂/∂t = −lp (on rows, divided by T)
        Op::Loss(LossKind::Nll) => {
            let other = per_row(g, arg(0), arg(1 - k));
            let d = mul(g, delta, other);
            neg(g, d)
        }
        // −Σ t ln softmax(z): ∂/∂z = softmax(z)·Σt − t (= softmax(z) − t for
        // one-hot targets). The stable form: no division by y.
        // On rows, the mean over the T rows: each row's term divided by T.
        Op::SoftmaxCrossEntropy if k == 0 => {
            let (z, t) = (arg(0), arg(1));
            let y = push(g, Op::Softmax, vec![z], g.node(z).ty.clone());
            // An index target's one-hot row sums to 1: softmax(z) − t.
            let scaled = if g.node(t).op == Op::OneHot {
                y
            } else {
                let sum_t = row_sum(g, t);
                mul(g, y, sum_t)
            };
            let d = sub(g, scaled, t);
            let d = per_row(g, z, d);
            mul(g, delta, d)
        }
        // ∂/∂t = −ln softmax(z)
        Op::SoftmaxCrossEntropy => {
            let z = arg(0);
            let y = push(g, Op::Softmax, vec![z], g.node(z).ty.clone());
            let ln_y = push(g, Op::Map(Func::Log), vec![y], g.node(z).ty.clone());
            let ln_y = per_row(g, z, ln_y);
            let d = mul(g, delta, ln_y);
            neg(g, d)
        }
    })
}

/// The rank of a node's array as a `MatMul` operand: a batched matrix of
/// each sample `[B, T, d]` is one matrix of all the samples' rows, `[B·T, d]`.
fn physical_rank(g: &Graph, id: NodeId) -> usize {
    let ty = &g.node(id).ty;
    (ty.shape.len() + usize::from(ty.batched)).min(2)
}

/// The type of an elementwise result: the shapes broadcast, batched if either is.
fn joint(g: &Graph, a: NodeId, b: NodeId) -> Type {
    let (ta, tb) = (&g.node(a).ty, &g.node(b).ty);
    let shape = crate::lang::broadcast(&ta.shape, &tb.shape).unwrap_or_else(|| {
        if ta.shape.len() >= tb.shape.len() {
            ta.shape.clone()
        } else {
            tb.shape.clone()
        }
    });
    Type::new(shape, ta.batched || tb.batched)
}

/// The type of a contribution to x's adjoint computed from δ alone: x's
/// shape, batched where δ is (`fit` then sums it over the batch for a value
/// the same for every sample).
fn shaped_as(g: &Graph, x: NodeId, delta: NodeId) -> Type {
    Type::new(g.node(x).ty.shape.clone(), g.node(delta).ty.batched)
}

/// The last dimension of a node's per-sample shape.
fn last_dim(g: &Graph, id: NodeId) -> usize {
    g.node(id).ty.shape.last().copied().unwrap_or(1)
}

/// Σ along each row of x: of a vector, its sum (a scalar per sample); of a
/// matrix of rows `[T, n]`, each row's sum `[T, 1]`.
fn row_sum(g: &mut Graph, x: NodeId) -> NodeId {
    let ty = g.node(x).ty.clone();
    if ty.shape.len() >= 2 {
        let mut shape = ty.shape.clone();
        let last = shape.len() - 1;
        shape[last] = 1;
        push(g, Op::SumAxis(last), vec![x], Type::new(shape, ty.batched))
    } else {
        push(g, Op::Sum, vec![x], Type::new(Vec::new(), ty.batched))
    }
}

/// A loss's local derivative `d` on a prediction `y` of each sample's rows
/// `[T, n]`, whose loss is the mean over its rows: d / T. Unchanged for a
/// vector, or a matrix the same for every sample (a sum over all elements).
fn per_row(g: &mut Graph, y: NodeId, d: NodeId) -> NodeId {
    let ty = &g.node(y).ty;
    if ty.batched && ty.shape.len() == 2 && ty.shape[0] > 1 {
        let rows = ty.shape[0] as f64;
        let rows = constant(g, rows, Type::scalar());
        div(g, d, rows)
    } else {
        d
    }
}

/// The adjoint of argument k of C = op(A)·op(B), a product of each sample's
/// matrices (or a matrix and a vector).
fn batch_product(
    g: &mut Graph,
    node: &crate::ir::Node,
    k: usize,
    delta: NodeId,
    ta: bool,
    tb: bool,
) -> NodeId {
    let (a, b) = (node.args[0], node.args[1]);
    let ty = g.node(node.args[k]).ty.clone();
    let ranks = (g.node(a).ty.shape.len(), g.node(b).ty.shape.len());
    let product =
        |g: &mut Graph, ta, tb, x, y| push(g, Op::BatchMatMul { ta, tb }, vec![x, y], ty.clone());
    let outer = |g: &mut Graph, x, y| push(g, Op::BatchOuter, vec![x, y], ty.clone());
    match (ranks, k) {
        // ∂/∂A = δ·op(B)ᵀ, written for A as stored
        ((2, 2), 0) if !ta => product(g, false, !tb, delta, b),
        ((2, 2), 0) => product(g, tb, true, b, delta),
        // ∂/∂B = op(A)ᵀ·δ, written for B as stored
        ((2, 2), _) if !tb => product(g, !ta, false, a, delta),
        ((2, 2), _) => product(g, true, ta, delta, a),
        // c = op(A)·b: ∂/∂A = δ ⊗ b (as stored), ∂/∂b = op(A)ᵀ·δ
        ((2, 1), 0) if !ta => outer(g, delta, b),
        ((2, 1), 0) => outer(g, b, delta),
        ((2, 1), _) => product(g, !ta, false, a, delta),
        // c = a·op(B): ∂/∂a = op(B)·δ, ∂/∂B = a ⊗ δ (as stored)
        ((1, 2), 0) => product(g, tb, false, b, delta),
        ((1, 2), _) if !tb => outer(g, a, delta),
        ((1, 2), _) => outer(g, delta, a),
        _ => unreachable!("a product per sample has a matrix on one side"),
    }
}

fn is_one(g: &Graph, id: NodeId) -> bool {
    g.node(id).op == Op::Const(1.0)
}

/// a ⊙ b, with 1 ⊙ b = b.
fn mul(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let ty = joint(g, a, b);
    let (one, other) = if is_one(g, a) {
        (true, b)
    } else if is_one(g, b) {
        (true, a)
    } else {
        (false, a)
    };
    if one {
        if g.node(other).ty == ty {
            return other;
        }
        return push(g, Op::Broadcast, vec![other], ty);
    }
    push(g, Op::Mul, vec![a, b], ty)
}

fn div(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let ty = joint(g, a, b);
    push(g, Op::Div, vec![a, b], ty)
}

fn sub(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let ty = joint(g, a, b);
    push(g, Op::Sub, vec![a, b], ty)
}

fn neg(g: &mut Graph, a: NodeId) -> NodeId {
    let ty = g.node(a).ty.clone();
    push(g, Op::Neg, vec![a], ty)
}
