//! The graph evaluated in f64, node by node: what the page's numeric
//! walk-through shows (each forward value, each δ, each gradient) and what
//! its finite differences perturb.
//!
//! It runs the derived graph itself, so the numbers are those of the chain
//! rule the compiler wrote down, not of a second derivation. Each op means
//! what the generated code computes (`ir::Op`'s docs): the same broadcasts
//! (`lang::aligned`), the same losses, the runtime's own kernels for
//! convolutions, pools, batch statistics and dropout masks (so a mask is the
//! one `gradients` draws at the same seed and step). Slow and simple — one
//! array per node — which a walk-through of one sample can afford.
//! `tests/walkthrough.rs` checks it against the generated `gradients`.

mod ops;

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use crate::ir::{Graph, NodeId, Op};
use crate::lang::{aligned, Type};

/// What a graph is evaluated on. Indices (`in 0..V`) are given as numbers.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// Each input's batch, `[B, …]`, in declaration order.
    pub inputs: Vec<ArrayD<f64>>,
    /// Each target's batch, `[B, …]`.
    pub targets: Vec<ArrayD<f64>>,
    /// Each parameter, in declaration order.
    pub params: Vec<ArrayD<f64>>,
    /// Each running statistic of a batch normalization.
    pub statistics: Vec<ArrayD<f64>>,
    /// The dropout seed.
    pub dropout_seed: u64,
    /// The step count: with the seed, what decides the dropout masks.
    pub step: u64,
    /// The row of the first sample in the batch it was taken from: each
    /// row's dropout mask depends on its place in the batch.
    pub first_row: usize,
}

impl Feed {
    /// The batch size: the first input's (or target's) leading axis.
    pub fn batch_size(&self) -> usize {
        self.inputs
            .iter()
            .chain(&self.targets)
            .find_map(|a| a.shape().first().copied())
            .unwrap_or(1)
    }
}

/// The value of every node the `roots` need (`None` for the others).
pub fn evaluate(
    g: &Graph,
    feed: &Feed,
    roots: &[NodeId],
) -> Result<Vec<Option<ArrayD<f64>>>, String> {
    let live = g.live(roots);
    let b = feed.batch_size();
    let mut values: Vec<Option<ArrayD<f64>>> = vec![None; g.nodes.len()];
    for id in g.ids() {
        if !live[id.index()] {
            continue;
        }
        let value = {
            let args: Vec<&ArrayD<f64>> = g
                .node(id)
                .args
                .iter()
                .map(|a| values[a.index()].as_ref().expect("arguments come first"))
                .collect();
            node(g, id, &args, feed, b)?
        };
        let expected = physical(&g.node(id).ty, b);
        if value.shape() != expected.as_slice() {
            return Err(format!(
                "{} ({}) came out {:?}, not {:?}",
                id,
                g.node(id).op.mnemonic(),
                value.shape(),
                expected
            ));
        }
        values[id.index()] = Some(value);
    }
    Ok(values)
}

/// The loss E alone (what a finite difference needs).
pub fn loss(g: &Graph, feed: &Feed) -> Result<f64, String> {
    let values = evaluate(g, feed, &[g.loss])?;
    Ok(values[g.loss.index()]
        .as_ref()
        .and_then(|v| v.iter().next().copied())
        .unwrap_or(f64::NAN))
}

/// The physical shape of a value of type `ty`: the batch axis first where
/// it is batched.
pub fn physical(ty: &Type, b: usize) -> Vec<usize> {
    let mut shape = Vec::with_capacity(ty.shape.len() + 1);
    if ty.batched {
        shape.push(b);
    }
    shape.extend_from_slice(&ty.shape);
    shape
}

/// One node's value from its arguments'.
fn node(
    g: &Graph,
    id: NodeId,
    args: &[&ArrayD<f64>],
    feed: &Feed,
    b: usize,
) -> Result<ArrayD<f64>, String> {
    let n = g.node(id);
    let out = physical(&n.ty, b);
    let ty = |k: usize| &g.node(n.args[k]).ty;
    let leaf = |list: &[ArrayD<f64>], i: usize, what: &str| {
        list.get(i)
            .cloned()
            .ok_or_else(|| format!("no value for {what} {i}"))
    };
    Ok(match n.op {
        Op::Input(i) => leaf(&feed.inputs, i, "input")?,
        Op::Target(i) => leaf(&feed.targets, i, "target")?,
        Op::Param(i) => leaf(&feed.params, i, "parameter")?,
        Op::Statistic(i) => leaf(&feed.statistics, i, "statistic")?,
        Op::Const(c) => ArrayD::from_elem(IxDyn(&out), c),
        Op::BatchSize => ArrayD::from_elem(IxDyn(&[]), b as f64),
        Op::BatchStat { .. } => {
            let mut v = ArrayD::zeros(IxDyn(&out));
            let image = ty(0).shape.len() == 3;
            crate::runtime::feature_mean_into(args[0].view(), image, v.view_mut());
            v
        }
        Op::DropoutMask { site, p } => {
            // The masks of rows 0 … first_row + B − 1, of which the last B.
            let skip = if n.ty.batched { feed.first_row } else { 0 };
            let mut rows = out.clone();
            if let Some(b) = rows.first_mut().filter(|_| n.ty.batched) {
                *b += skip;
            }
            let mut v = ArrayD::zeros(IxDyn(&rows));
            crate::runtime::dropout_mask_into(
                feed.dropout_seed,
                feed.step,
                site,
                p,
                n.ty.batched,
                v.view_mut(),
            );
            if skip > 0 {
                v = v
                    .slice_axis(Axis(0), ndarray::Slice::from(skip..))
                    .to_owned();
            }
            v
        }
        Op::Add => zip(args, |a, b| a + b, g, id, b),
        Op::Sub => zip(args, |a, b| a - b, g, id, b),
        Op::Mul => zip(args, |a, b| a * b, g, id, b),
        Op::Div => zip(args, |a, b| a / b, g, id, b),
        Op::Neg => args[0].mapv(|a| -a),
        Op::Map(f) => args[0].mapv(|x| f.eval(x)),
        Op::Deriv(f) => zip(args, |x, y| f.eval_derivative(x, y), g, id, b),
        Op::Broadcast => spread(args[0], ty(0), &n.ty, b),
        Op::Reduce => reduce(args[0], ty(0), &n.ty, b),
        Op::Sum | Op::Mean => {
            let per_sample = ty(0).shape.iter().product::<usize>().max(1);
            let scale = if n.op == Op::Mean {
                1.0 / per_sample as f64
            } else {
                1.0
            };
            let rows = args[0].len() / per_sample;
            let m = reshaped(args[0], &[rows, per_sample]);
            m.sum_axis(Axis(1))
                .mapv(|v| v * scale)
                .into_shape_with_order(IxDyn(&out))
                .map_err(|e| e.to_string())?
        }
        Op::BatchMean => {
            let mean = args[0].mean().unwrap_or(f64::NAN);
            ArrayD::from_elem(IxDyn(&[]), mean)
        }
        Op::Softmax => ops::rows(args[0], |row| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect()
        }),
        Op::LogSoftmax => ops::rows(args[0], |row| {
            let lse = log_sum_exp(row);
            row.iter().map(|v| v - lse).collect()
        }),
        Op::Loss(_) | Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy => {
            ops::loss(n.op, args, ty(0), ty(1), b)
        }
        _ => ops::structured(g, id, args, &out, b)?,
    })
}

/// ln Σ eᶻ, by subtracting the maximum.
pub(crate) fn log_sum_exp(row: &[f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// An array read in another shape with the same elements, in order.
pub(crate) fn reshaped(a: &ArrayD<f64>, shape: &[usize]) -> ArrayD<f64> {
    a.as_standard_layout()
        .to_owned()
        .into_shape_with_order(IxDyn(shape))
        .expect("the same number of elements")
}

/// A value of type `from` as the physical array of type `to` (aligned as
/// `lang::aligned` aligns per-sample shapes, a missing batch axis of
/// length 1), before broadcasting.
fn aligned_to(a: &ArrayD<f64>, from: &Type, to: &Type) -> ArrayD<f64> {
    let rank = to.shape.len().max(from.shape.len());
    let mut shape = Vec::with_capacity(rank + 1);
    if to.batched {
        shape.push(if from.batched { a.shape()[0] } else { 1 });
    }
    shape.extend(aligned(&from.shape, rank));
    reshaped(a, &shape)
}

/// The elementwise combination of two arguments, broadcast to the node's
/// type.
fn zip(
    args: &[&ArrayD<f64>],
    f: impl Fn(f64, f64) -> f64,
    g: &Graph,
    id: NodeId,
    b: usize,
) -> ArrayD<f64> {
    let n = g.node(id);
    let out = physical(&n.ty, b);
    let x = aligned_to(args[0], &g.node(n.args[0]).ty, &n.ty);
    let y = aligned_to(args[1], &g.node(n.args[1]).ty, &n.ty);
    let (x, y) = (
        x.broadcast(IxDyn(&out)).expect("shapes combine"),
        y.broadcast(IxDyn(&out)).expect("shapes combine"),
    );
    let mut v = ArrayD::zeros(IxDyn(&out));
    Zip::from(&mut v)
        .and(&x)
        .and(&y)
        .for_each(|o, &a, &c| *o = f(a, c));
    v
}

/// g broadcast up to type `to`.
fn spread(a: &ArrayD<f64>, from: &Type, to: &Type, b: usize) -> ArrayD<f64> {
    let x = aligned_to(a, from, to);
    x.broadcast(IxDyn(&physical(to, b)))
        .expect("a broadcast widens")
        .to_owned()
}

/// g summed down to type `to`: over the batch where `to` has none, along
/// the per-sample axes `to` lacks or has as 1.
fn reduce(a: &ArrayD<f64>, from: &Type, to: &Type, b: usize) -> ArrayD<f64> {
    let mut v = a.clone();
    if from.batched && !to.batched {
        v = v.sum_axis(Axis(0));
    }
    let offset = usize::from(from.batched && to.batched);
    let target = aligned(&to.shape, from.shape.len());
    for (axis, (&t, &f)) in target.iter().zip(&from.shape).enumerate() {
        if t == 1 && f > 1 {
            v = v
                .sum_axis(Axis(axis + offset))
                .insert_axis(Axis(axis + offset));
        }
    }
    reshaped(&v, &physical(to, b))
}
