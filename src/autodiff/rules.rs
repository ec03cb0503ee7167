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
        Op::Deriv(_) | Op::Outer | Op::Reduce | Op::Broadcast | Op::BatchMean => return None,
        Op::ConvInputGrad(_) | Op::ConvKernelGrad(_) | Op::MaxPoolGrad(_) | Op::AvgPoolGrad(_) => {
            return None
        }

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
        // y = softmax(z): ∂ℓ/∂z = y ⊙ (δ − Σ(δ ⊙ y)), reusing the forward y.
        Op::Softmax => {
            let dy = mul(g, delta, v);
            let per_sample = Type {
                shape: vec![],
                batched: node.ty.batched,
            };
            let s = push(g, Op::Sum, vec![dy], per_sample);
            let centered = sub(g, delta, s);
            mul(g, v, centered)
        }
        // y = log_softmax(z) = z − ln Σ eᶻ: ∂ℓ/∂z = δ − softmax(z)·Σδ, with
        // softmax(z) = e^y from the forward y.
        Op::LogSoftmax => {
            let per_sample = Type {
                shape: vec![],
                batched: node.ty.batched,
            };
            let s = push(g, Op::Sum, vec![delta], per_sample);
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
        // cross_entropy = −Σ t ln y: ∂/∂y = −t / y
        Op::Loss(LossKind::CrossEntropy) if k == 0 => {
            let q = div(g, arg(1), arg(0));
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
            let d = mul(g, delta, ln_y);
            neg(g, d)
        }
        // −Σ t ln softmax(z): ∂/∂z = softmax(z)·Σt − t (= softmax(z) − t for
        // one-hot targets). The stable form: no division by y.
        Op::SoftmaxCrossEntropy if k == 0 => {
            let (z, t) = (arg(0), arg(1));
            let y = push(g, Op::Softmax, vec![z], g.node(z).ty.clone());
            let per_sample = Type {
                shape: vec![],
                batched: g.node(t).ty.batched,
            };
            let sum_t = push(g, Op::Sum, vec![t], per_sample);
            let scaled = mul(g, y, sum_t);
            let d = sub(g, scaled, t);
            mul(g, delta, d)
        }
        // ∂/∂t = −ln softmax(z)
        Op::SoftmaxCrossEntropy => {
            let z = arg(0);
            let y = push(g, Op::Softmax, vec![z], g.node(z).ty.clone());
            let ln_y = push(g, Op::Map(Func::Log), vec![y], g.node(z).ty.clone());
            let d = mul(g, delta, ln_y);
            neg(g, d)
        }
    })
}

fn physical_rank(g: &Graph, id: NodeId) -> usize {
    let ty = &g.node(id).ty;
    ty.shape.len() + usize::from(ty.batched)
}

/// The type of an elementwise result: the larger shape, batched if either is.
fn joint(g: &Graph, a: NodeId, b: NodeId) -> Type {
    let (ta, tb) = (&g.node(a).ty, &g.node(b).ty);
    Type {
        shape: if ta.shape.len() >= tb.shape.len() {
            ta.shape.clone()
        } else {
            tb.shape.clone()
        },
        batched: ta.batched || tb.batched,
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
