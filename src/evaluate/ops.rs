//! The ops with a shape of their own: products, losses, windows, rows,
//! gathers and the other ops of sequences, each as `ir::Op` documents it.

use ndarray::{concatenate, Array2, ArrayD, Axis, Ix4, IxDyn, Slice};

use super::{aligned_to, log_sum_exp, physical, reshaped};
use crate::ir::{Graph, NodeId, Op};
use crate::lang::{LossKind, Type};

/// f applied to each row along the last axis.
pub(super) fn rows(a: &ArrayD<f64>, f: impl Fn(&[f64]) -> Vec<f64>) -> ArrayD<f64> {
    let mut v = a.as_standard_layout().to_owned();
    let last = a.ndim().saturating_sub(1);
    for mut row in v.lanes_mut(Axis(last)) {
        let values: Vec<f64> = row.iter().copied().collect();
        for (o, n) in row.iter_mut().zip(f(&values)) {
            *o = n;
        }
    }
    v
}

/// A per-sample loss of y (type `ty`) against t (type `tt`).
pub(super) fn loss(op: Op, args: &[&ArrayD<f64>], ty: &Type, tt: &Type, b: usize) -> ArrayD<f64> {
    let batched = ty.batched || tt.batched;
    let common = Type::new(ty.shape.clone(), batched);
    let shape = physical(&common, b);
    let y = aligned_to(args[0], ty, &common);
    let t = aligned_to(args[1], tt, &common);
    let y = y
        .broadcast(IxDyn(&shape))
        .expect("a loss's arguments combine");
    let t = t
        .broadcast(IxDyn(&shape))
        .expect("a loss's arguments combine");
    let samples = if batched { b } else { 1 };
    let per_sample = ty.shape.iter().product::<usize>().max(1);
    let row = ty.shape.last().copied().unwrap_or(1).max(1);
    // The losses of a sample's rows `[T, n]` that are averaged over T.
    let rows = if ty.batched && ty.shape.len() == 2 {
        ty.shape[0] as f64
    } else {
        1.0
    };
    let y: Vec<f64> = y.iter().copied().collect();
    let t: Vec<f64> = t.iter().copied().collect();
    let mut out = Vec::with_capacity(samples);
    for s in 0..samples {
        let ys = &y[s * per_sample..(s + 1) * per_sample];
        let ts = &t[s * per_sample..(s + 1) * per_sample];
        let pairs = || ys.iter().zip(ts);
        let value = match op {
            Op::Loss(LossKind::Sse) => 0.5 * pairs().map(|(y, t)| (y - t) * (y - t)).sum::<f64>(),
            Op::Loss(LossKind::Mse) => {
                pairs().map(|(y, t)| (y - t) * (y - t)).sum::<f64>() / per_sample as f64
            }
            Op::Loss(LossKind::BinaryCrossEntropy) => -pairs()
                .map(|(y, t)| t * y.ln() + (1.0 - t) * (1.0 - y).ln())
                .sum::<f64>(),
            Op::Loss(LossKind::CrossEntropy) => {
                -pairs().map(|(y, t)| t * y.ln()).sum::<f64>() / rows
            }
            Op::Loss(LossKind::Nll) => -pairs().map(|(l, t)| t * l).sum::<f64>() / rows,
            Op::SigmoidBinaryCrossEntropy => pairs()
                .map(|(z, t)| crate::lang::Func::Softplus.eval(*z) - t * z)
                .sum::<f64>(),
            // −Σ t (z − ln Σ eᶻ), row by row
            _ => {
                let mut total = 0.0;
                for (zr, tr) in ys.chunks(row).zip(ts.chunks(row)) {
                    let lse = log_sum_exp(zr);
                    total -= zr.iter().zip(tr).map(|(z, t)| t * (z - lse)).sum::<f64>();
                }
                total / rows
            }
        };
        out.push(value);
    }
    let shape = if batched { vec![b] } else { Vec::new() };
    ArrayD::from_shape_vec(IxDyn(&shape), out).expect("one loss per sample")
}

/// An array as a matrix of its rows (its last axis the columns).
fn matrix(a: &ArrayD<f64>) -> Array2<f64> {
    let cols = a.shape().last().copied().unwrap_or(1).max(1);
    reshaped(a, &[a.len() / cols, cols])
        .into_dimensionality()
        .expect("two axes")
}

/// The product of two matrices or vectors, a transposed where `ta`.
fn product(a: &ArrayD<f64>, ta: bool, b: &ArrayD<f64>, tb: bool) -> ArrayD<f64> {
    let m = |x: &ArrayD<f64>, t: bool| {
        let x = matrix(x);
        if t {
            x.reversed_axes()
        } else {
            x
        }
    };
    match (a.ndim().min(2), b.ndim().min(2)) {
        (2, 2) => m(a, ta).dot(&m(b, tb)).into_dyn(),
        (2, _) => m(a, ta).dot(&flat(b)).into_dyn(),
        (_, 2) => flat(a).dot(&m(b, tb)).into_dyn(),
        _ => ArrayD::from_elem(IxDyn(&[]), flat(a).dot(&flat(b))),
    }
}

fn flat(a: &ArrayD<f64>) -> ndarray::Array1<f64> {
    a.iter().copied().collect()
}

/// The outer product of two vectors.
fn outer(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    let (a, b) = (flat(a), flat(b));
    let (m, n) = (a.len(), b.len());
    let col = a.into_shape_with_order((m, 1)).expect("a column");
    let row = b.into_shape_with_order((1, n)).expect("a row");
    col.dot(&row).into_dyn()
}

/// A four-axis view of an image batch or kernel.
fn four(a: &ArrayD<f64>) -> ndarray::ArrayView4<'_, f64> {
    a.view().into_dimensionality::<Ix4>().expect("four axes")
}

/// Sample `s` of a value, or the value itself where it is the same for
/// every sample.
fn sample(a: &ArrayD<f64>, batched: bool, s: usize) -> ArrayD<f64> {
    if batched {
        a.index_axis(Axis(0), s).to_owned()
    } else {
        a.clone()
    }
}

/// A per-sample matrix operand of a product of each sample's matrices: a
/// vector is a row on the left, a column on the right.
fn operand(a: &ArrayD<f64>, left: bool, t: bool) -> Array2<f64> {
    let m: Array2<f64> = match a.ndim() {
        1 if left => reshaped(a, &[1, a.len()])
            .into_dimensionality()
            .expect("a row"),
        1 => reshaped(a, &[a.len(), 1])
            .into_dimensionality()
            .expect("a column"),
        _ => matrix(a),
    };
    if t {
        m.reversed_axes()
    } else {
        m
    }
}

/// Each sample's value from `each`, stacked, or summed over the batch for
/// a node the same for every sample.
fn per_sample(
    ty: &Type,
    out: &[usize],
    b: usize,
    each: impl Fn(usize) -> ArrayD<f64>,
) -> ArrayD<f64> {
    let one: Vec<usize> = ty.shape.clone();
    let mut v = ArrayD::zeros(IxDyn(out));
    for s in 0..b {
        let value = reshaped(&each(s), &one);
        if ty.batched {
            v.index_axis_mut(Axis(0), s).assign(&value);
        } else {
            v += &value;
        }
    }
    v
}

/// The index at an element of an index array, checked against the range.
fn index(value: f64, range: usize) -> Result<usize, String> {
    if value >= 0.0 && value.fract() == 0.0 && (value as usize) < range {
        Ok(value as usize)
    } else {
        Err(format!("the index {value} is not in 0..{range}"))
    }
}

/// The ops that are not elementwise, sums or losses.
pub(super) fn structured(
    g: &Graph,
    id: NodeId,
    args: &[&ArrayD<f64>],
    out: &[usize],
    b: usize,
) -> Result<ArrayD<f64>, String> {
    let n = g.node(id);
    let ty = |k: usize| &g.node(n.args[k]).ty;
    let last = out.len().saturating_sub(1);
    let into = |v: ArrayD<f64>| reshaped(&v, out);
    Ok(match n.op {
        Op::MatMul { ta, tb } => into(product(args[0], ta, args[1], tb)),
        Op::Outer => into(outer(args[0], args[1])),
        Op::Reshape => into(args[0].clone()),
        Op::Conv2d(w) => {
            crate::runtime::conv2d(four(args[0]), four(args[1]), w.stride, w.padding).into_dyn()
        }
        Op::ConvInputGrad(w) => crate::runtime::conv2d_input_grad(
            four(args[0]),
            four(args[1]),
            w.stride,
            w.padding,
            (out[2], out[3]),
        )
        .into_dyn(),
        Op::ConvKernelGrad(w) => crate::runtime::conv2d_kernel_grad(
            four(args[0]),
            four(args[1]),
            w.stride,
            w.padding,
            (out[2], out[3]),
        )
        .into_dyn(),
        Op::MaxPool(w) => crate::runtime::max_pool(four(args[0]), w.size, w.stride).into_dyn(),
        Op::MaxPoolGrad(w) => {
            crate::runtime::max_pool_grad(four(args[0]), four(args[1]), w.size, w.stride).into_dyn()
        }
        Op::AvgPool(w) => crate::runtime::avg_pool(four(args[0]), w.size, w.stride).into_dyn(),
        Op::AvgPoolGrad(w) => {
            crate::runtime::avg_pool_grad(four(args[0]), w.size, w.stride, (out[2], out[3]))
                .into_dyn()
        }
        Op::Gather => gather(args[0], ty(0), args[1], ty(1), out)?,
        Op::ScatterAdd => scatter(args[0], ty(0), args[1], ty(1), &n.ty, out)?,
        Op::OneHot => {
            let range = out[last];
            let mut v = ArrayD::zeros(IxDyn(out));
            let mut m = reshaped(&v, &[v.len() / range.max(1), range]);
            for (p, &i) in args[0].iter().enumerate() {
                m[[p, index(i, range)?]] = 1.0;
            }
            v.assign(&reshaped(&m, out));
            v
        }
        Op::Row(k) => args[0]
            .index_axis(Axis(usize::from(ty(0).batched)), k)
            .to_owned(),
        Op::PlaceRow(k) => {
            let mut v = ArrayD::zeros(IxDyn(out));
            v.index_axis_mut(Axis(usize::from(n.ty.batched)), k)
                .assign(args[0]);
            v
        }
        Op::Transpose => {
            let mut v = args[0].clone();
            let rank = v.ndim();
            v.swap_axes(rank - 2, rank - 1);
            v.as_standard_layout().to_owned()
        }
        Op::SumAxis(k) | Op::MeanAxis(k) => {
            let axis = Axis(k + usize::from(n.ty.batched));
            let scale = match n.op {
                Op::MeanAxis(_) => 1.0 / ty(0).shape[k] as f64,
                _ => 1.0,
            };
            (args[0].sum_axis(axis) * scale).insert_axis(axis)
        }
        Op::Causal | Op::CausalMask => {
            let above = if n.op == Op::Causal {
                f64::NEG_INFINITY
            } else {
                0.0
            };
            let cols = out[last];
            let rows = out[last - 1];
            let mut flat = reshaped(args[0], &[args[0].len() / (rows * cols), rows, cols]);
            for mut m in flat.outer_iter_mut() {
                for i in 0..rows {
                    for j in i + 1..cols {
                        m[[i, j]] = above;
                    }
                }
            }
            reshaped(&flat, out)
        }
        Op::Concat => {
            let parts: Vec<ArrayD<f64>> = args
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let mut shape = out.to_vec();
                    shape[last] = ty(k).shape.last().copied().unwrap_or(1);
                    let x = aligned_to(a, ty(k), &Type::new(ty(k).shape.clone(), n.ty.batched));
                    x.broadcast(IxDyn(&shape))
                        .expect("a part of the same rows")
                        .to_owned()
                })
                .collect();
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            concatenate(Axis(last), &views).map_err(|e| e.to_string())?
        }
        Op::Slice { start, len } => args[0]
            .slice_axis(Axis(last), Slice::from(start..start + len))
            .to_owned(),
        Op::BatchMatMul { ta, tb } => {
            let (ba, bb) = (ty(0).batched, ty(1).batched);
            per_sample(&n.ty, out, b, |s| {
                let a = operand(&sample(args[0], ba, s), true, ta);
                let c = operand(&sample(args[1], bb, s), false, tb);
                a.dot(&c).into_dyn()
            })
        }
        Op::BatchOuter => {
            let (ba, bb) = (ty(0).batched, ty(1).batched);
            per_sample(&n.ty, out, b, |s| {
                outer(&sample(args[0], ba, s), &sample(args[1], bb, s))
            })
        }
        // Evaluated by `super::node`; listed so that a new op is a compile
        // error until it has its arm in one of the two matches.
        Op::Input(_)
        | Op::Target(_)
        | Op::Param(_)
        | Op::Statistic(_)
        | Op::Const(_)
        | Op::BatchSize
        | Op::BatchStat { .. }
        | Op::DropoutMask { .. }
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Neg
        | Op::Map(_)
        | Op::Deriv(_)
        | Op::Broadcast
        | Op::Reduce
        | Op::Sum
        | Op::Mean
        | Op::BatchMean
        | Op::Softmax
        | Op::LogSoftmax
        | Op::Loss(_)
        | Op::SoftmaxCrossEntropy
        | Op::SigmoidBinaryCrossEntropy => unreachable!("evaluated by `node`"),
    })
}

/// The rows of a table chosen by indices: `E[i]`.
fn gather(
    table: &ArrayD<f64>,
    tt: &Type,
    indices: &ArrayD<f64>,
    ti: &Type,
    out: &[usize],
) -> Result<ArrayD<f64>, String> {
    let range = tt.shape.first().copied().unwrap_or(1);
    let width = tt.shape[1..].iter().product::<usize>().max(1);
    let per_sample = ti.shape.iter().product::<usize>().max(1);
    let tables = tables(table, range, width);
    let mut v = Array2::zeros((indices.len(), width));
    for (p, &i) in indices.iter().enumerate() {
        let t = if tt.batched { p / per_sample } else { 0 };
        v.row_mut(p)
            .assign(&tables.index_axis(Axis(0), t).row(index(i, range)?));
    }
    Ok(reshaped(&v.into_dyn(), out))
}

/// A table's rows, as `[tables, V, width]` (one table, or one per sample).
fn tables(table: &ArrayD<f64>, range: usize, width: usize) -> ndarray::Array3<f64> {
    let count = table.len() / (range * width).max(1);
    reshaped(table, &[count, range, width])
        .into_dimensionality()
        .expect("three axes")
}

/// Each row of δ added into the row of the table it was read from.
fn scatter(
    indices: &ArrayD<f64>,
    ti: &Type,
    delta: &ArrayD<f64>,
    _td: &Type,
    tt: &Type,
    out: &[usize],
) -> Result<ArrayD<f64>, String> {
    let range = tt.shape.first().copied().unwrap_or(1);
    let width = tt.shape[1..].iter().product::<usize>().max(1);
    let per_sample = ti.shape.iter().product::<usize>().max(1);
    let delta: Array2<f64> = reshaped(delta, &[indices.len(), width])
        .into_dimensionality()
        .expect("two axes");
    let mut v = tables(&ArrayD::zeros(IxDyn(out)), range, width);
    for (p, &i) in indices.iter().enumerate() {
        let t = if tt.batched { p / per_sample } else { 0 };
        let r = index(i, range)?;
        let mut row = v.index_axis_mut(Axis(0), t);
        let mut row = row.row_mut(r);
        row += &delta.row(p);
    }
    Ok(reshaped(&v.into_dyn(), out))
}
