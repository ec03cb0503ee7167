//! The forward graph as ONNX nodes: one IR node after another, each mapped
//! to the standard operators that compute it, with the axes that a batched
//! value's leading batch dimension needs.
//!
//! Every IR op either maps faithfully or is refused by name
//! ([`Unsupported`]); the backward ops never reach here (only the nodes the
//! outputs need are exported, and those are all forward nodes).

use std::collections::BTreeMap;

use super::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, NodeProto, TensorProto,
};
use crate::ir::{Graph, NodeId, Op, Window};
use crate::lang::{Dtype, Func, Type};

/// An IR op that has no faithful ONNX form here, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    /// The op, as `denpa` prints it (`batch_mean`, `mse`).
    pub op: String,
    /// The value it computes.
    pub value: String,
    /// Why it cannot be exported.
    pub why: &'static str,
}

/// The ONNX element type of a dtype.
pub(super) fn elem_type(dtype: Dtype) -> i32 {
    match dtype {
        Dtype::F32 => DataType::Float as i32,
        Dtype::F64 => DataType::Double as i32,
    }
}

/// A tensor of `dims` with `values` in the exported element type.
pub(super) fn tensor(name: &str, dims: &[usize], values: &[f64], dtype: Dtype) -> TensorProto {
    let mut raw = Vec::with_capacity(values.len() * 8);
    for &v in values {
        match dtype {
            Dtype::F32 => raw.extend_from_slice(&(v as f32).to_le_bytes()),
            Dtype::F64 => raw.extend_from_slice(&v.to_le_bytes()),
        }
    }
    TensorProto {
        name: Some(name.into()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(elem_type(dtype)),
        raw_data: Some(raw),
        ..Default::default()
    }
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.iter().map(|&v| v as i64).collect(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(value),
        ..Default::default()
    }
}

/// The ONNX nodes and constants of a graph's forward pass.
pub(super) struct Builder<'a> {
    g: &'a Graph,
    /// The value name of every node (`names`), or its input's or
    /// parameter's name.
    names: &'a [String],
    dtype: Dtype,
    /// The nodes, in order.
    pub nodes: Vec<NodeProto>,
    /// Constants the nodes need (scalars, axes, shapes).
    pub constants: Vec<TensorProto>,
    /// How many internal values each base name has had.
    fresh: BTreeMap<String, usize>,
}

impl<'a> Builder<'a> {
    /// A builder writing values in `dtype`.
    pub fn new(g: &'a Graph, names: &'a [String], dtype: Dtype) -> Self {
        Builder {
            g,
            names,
            dtype,
            nodes: Vec::new(),
            constants: Vec::new(),
            fresh: BTreeMap::new(),
        }
    }

    /// The value name of a node.
    pub fn value(&self, id: NodeId) -> String {
        self.names[id.index()].clone()
    }

    /// A new internal value name, `base/k`: the slash keeps it apart from
    /// every name of the `.nn` language.
    fn fresh(&mut self, base: &str) -> String {
        let k = self.fresh.entry(base.into()).or_default();
        *k += 1;
        format!("{base}/{k}")
    }

    /// Appends a node and returns its output.
    pub fn node(
        &mut self,
        op: &str,
        inputs: Vec<String>,
        output: String,
        attribute: Vec<AttributeProto>,
    ) -> String {
        let name = self.fresh(&format!("{output}/{op}"));
        self.nodes.push(NodeProto {
            op_type: Some(op.into()),
            name: Some(name),
            input: inputs,
            output: vec![output.clone()],
            attribute,
            ..Default::default()
        });
        output
    }

    /// A scalar constant in the element type.
    fn scalar(&mut self, base: &str, value: f64) -> String {
        let name = self.fresh(base);
        self.constants
            .push(tensor(&name, &[], &[value], self.dtype));
        name
    }

    /// An int64 vector constant (axes, shapes).
    fn int64s(&mut self, base: &str, values: &[i64]) -> String {
        let name = self.fresh(base);
        self.constants.push(TensorProto {
            name: Some(name.clone()),
            dims: vec![values.len() as i64],
            data_type: Some(DataType::Int64 as i32),
            int64_data: values.to_vec(),
            ..Default::default()
        });
        name
    }

    /// `Unsqueeze(x, axes)`, a new internal value.
    fn unsqueeze(&mut self, x: String, axes: &[i64]) -> String {
        let axes = self.int64s(&format!("{x}/axes"), axes);
        let out = self.fresh(&format!("{x}/unsqueezed"));
        self.node("Unsqueeze", vec![x, axes], out, vec![])
    }

    /// An argument of an elementwise node, with axes added where ONNX's
    /// broadcasting (numpy's: trailing axes aligned) differs from the
    /// language's: a batched value with fewer per-sample axes gets them after
    /// its batch axis (a per-sample scalar against a vector, `[d]` against
    /// `[T, d]`), a per-channel vector `[c]` against images `[c, h, w]` gets
    /// the axes of the plane. A scalar and a value the same for every sample
    /// broadcast as they are (numpy aligns them at the last axis too).
    fn aligned(&mut self, arg: NodeId, to: &Type) -> Result<String, Unsupported> {
        let a = self.g.node(arg).ty.clone();
        let name = self.value(arg);
        let lead = usize::from(a.batched) as i64;
        if a.shape.len() == to.shape.len() || (a.shape.is_empty() && !a.batched) {
            return Ok(name);
        }
        if a.shape.len() == 1 && to.shape.len() == 3 {
            return Ok(self.unsqueeze(name, &[lead + 1, lead + 2]));
        }
        if a.batched {
            let missing = (to.shape.len() - a.shape.len()) as i64;
            let axes: Vec<i64> = (1..=missing).collect();
            return Ok(self.unsqueeze(name, &axes));
        }
        Ok(name)
    }

    /// `Transpose` of the last two axes of a value (of a sample's matrix,
    /// or of a matrix the same for every sample).
    fn transposed(&mut self, x: String, ty: &Type) -> String {
        let rank = ty.shape.len() + usize::from(ty.batched);
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.swap(rank - 2, rank - 1);
        let y = self.fresh(&format!("{x}/T"));
        self.node("Transpose", vec![x], y, vec![ints("perm", &perm)])
    }

    /// A value the same for every sample, `[…]`, repeated for each sample
    /// of the batch of `like`: `[batch, …]`.
    fn expanded(&mut self, x: String, ty: &Type, like: NodeId) -> String {
        let front = self.unsqueeze(x.clone(), &[0]);
        let other = self.value(like);
        let shape = self.fresh(&format!("{x}/batch_shape"));
        let shape = self.node("Shape", vec![other], shape, vec![int("end", 1)]);
        let dims: Vec<i64> = ty.shape.iter().map(|&d| d as i64).collect();
        let rest = self.int64s(&format!("{x}/dims"), &dims);
        let full = self.fresh(&format!("{x}/shape"));
        let full = self.node("Concat", vec![shape, rest], full, vec![int("axis", 0)]);
        let out = self.fresh(&format!("{x}/expanded"));
        self.node("Expand", vec![front, full], out, vec![])
    }

    /// The nodes computing `id` into its value name.
    pub fn emit(&mut self, id: NodeId) -> Result<(), Unsupported> {
        let n = self.g.node(id).clone();
        let out = self.value(id);
        let args: Vec<String> = n.args.iter().map(|a| self.value(*a)).collect();
        let arg = |k: usize| args[k].clone();
        let unsupported = |why| Unsupported {
            op: n.op.mnemonic(),
            value: out.clone(),
            why,
        };
        match n.op {
            // Graph inputs and initializers, named already.
            Op::Input(_) | Op::Param(_) | Op::Statistic(_) => {}
            Op::Const(c) => {
                self.constants.push(tensor(&out, &[], &[c], self.dtype));
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let a = self.aligned(n.args[0], &n.ty)?;
                let b = self.aligned(n.args[1], &n.ty)?;
                let op = match n.op {
                    Op::Add => "Add",
                    Op::Sub => "Sub",
                    Op::Mul => "Mul",
                    _ => "Div",
                };
                self.node(op, vec![a, b], out, vec![]);
            }
            Op::Neg => {
                self.node("Neg", vec![arg(0)], out, vec![]);
            }
            Op::Map(f) => self.map(f, arg(0), out),
            Op::MatMul { ta, tb } | Op::BatchMatMul { ta, tb } => {
                let mut operand = |k: usize, t: bool| {
                    let x = self.value(n.args[k]);
                    let ty = self.g.node(n.args[k]).ty.clone();
                    // A vector of each sample as a matrix of one row (on the
                    // left) or one column (on the right), so that MatMul
                    // multiplies per sample, not across the batch.
                    let vector = matches!(n.op, Op::BatchMatMul { .. })
                        && ty.batched
                        && ty.shape.len() == 1;
                    if vector {
                        let axis = if k == 0 { -2 } else { -1 };
                        return (self.unsqueeze(x, &[axis]), Some(axis));
                    }
                    let rank = ty.shape.len() + usize::from(ty.batched);
                    if t && rank >= 2 {
                        (self.transposed(x, &ty), None)
                    } else {
                        (x, None)
                    }
                };
                let (a, sa) = operand(0, ta);
                let (b, sb) = operand(1, tb);
                match sa.or(sb) {
                    Some(axis) => {
                        let product = self.fresh(&format!("{out}/product"));
                        let product = self.node("MatMul", vec![a, b], product, vec![]);
                        let axes = self.int64s(&format!("{out}/axes"), &[axis]);
                        self.node("Squeeze", vec![product, axes], out, vec![]);
                    }
                    None => {
                        self.node("MatMul", vec![a, b], out, vec![]);
                    }
                }
            }
            Op::Gather => {
                let table = self.g.node(n.args[0]).ty.clone();
                if table.batched {
                    // Each sample's own table: GatherND over the batch.
                    let index = self.unsqueeze(arg(1), &[-1]);
                    self.node("GatherND", vec![arg(0), index], out, vec![int("batch_dims", 1)]);
                } else {
                    self.node("Gather", vec![arg(0), arg(1)], out, vec![int("axis", 0)]);
                }
            }
            Op::Row(k) => {
                let x = self.g.node(n.args[0]).ty.clone();
                let row = self.fresh(&format!("{out}/row"));
                self.constants.push(TensorProto {
                    name: Some(row.clone()),
                    dims: vec![],
                    data_type: Some(DataType::Int64 as i32),
                    int64_data: vec![k as i64],
                    ..Default::default()
                });
                let axis = i64::from(x.batched);
                self.node("Gather", vec![arg(0), row], out, vec![int("axis", axis)]);
            }
            Op::Transpose => {
                let x = self.g.node(n.args[0]).ty.clone();
                let t = self.transposed(arg(0), &x);
                self.node("Identity", vec![t], out, vec![]);
            }
            Op::SumAxis(k) | Op::MeanAxis(k) => {
                let x = self.g.node(n.args[0]).ty.clone();
                let op = if matches!(n.op, Op::SumAxis(_)) {
                    "ReduceSum"
                } else {
                    "ReduceMean"
                };
                let axis = (k + usize::from(x.batched)) as i64;
                let axes = self.int64s(&format!("{out}/axes"), &[axis]);
                self.node(op, vec![arg(0), axes], out, vec![int("keepdims", 1)]);
            }
            Op::Causal => {
                // Where(mask, s, −∞), the mask a constant lower triangle.
                let t = n.ty.shape[0];
                let mask = self.fresh(&format!("{out}/lower_triangle"));
                self.constants.push(TensorProto {
                    name: Some(mask.clone()),
                    dims: vec![t as i64, t as i64],
                    data_type: Some(DataType::Bool as i32),
                    int32_data: (0..t * t).map(|e| i32::from(e % t <= e / t)).collect(),
                    ..Default::default()
                });
                let minus_infinity = self.scalar(&format!("{out}/minus_infinity"), f64::NEG_INFINITY);
                self.node("Where", vec![mask, arg(0), minus_infinity], out, vec![]);
            }
            Op::Concat => {
                let mut parts = Vec::new();
                let batched = n.args.iter().find(|a| self.g.node(**a).ty.batched).copied();
                for a in &n.args {
                    let ty = self.g.node(*a).ty.clone();
                    let x = self.value(*a);
                    parts.push(match batched {
                        // A value the same for every sample, repeated for
                        // each: Expand to the batch's leading dimension.
                        Some(other) if !ty.batched => self.expanded(x, &ty, other),
                        _ => x,
                    });
                }
                self.node("Concat", parts, out, vec![int("axis", -1)]);
            }
            Op::Softmax | Op::LogSoftmax => {
                let op = if n.op == Op::Softmax {
                    "Softmax"
                } else {
                    "LogSoftmax"
                };
                self.node(op, vec![arg(0)], out, vec![int("axis", -1)]);
            }
            Op::Sum | Op::Mean => {
                let x = self.g.node(n.args[0]).ty.clone();
                let op = if n.op == Op::Sum {
                    "ReduceSum"
                } else {
                    "ReduceMean"
                };
                if x.batched && x.shape.is_empty() {
                    self.node("Identity", vec![arg(0)], out, vec![]);
                } else {
                    // Over each sample's elements: every axis after the batch's.
                    let lead = usize::from(x.batched);
                    let axes: Vec<i64> = (lead..lead + x.shape.len()).map(|a| a as i64).collect();
                    let axes = self.int64s(&format!("{out}/axes"), &axes);
                    self.node(op, vec![arg(0), axes], out, vec![int("keepdims", 0)]);
                }
            }
            Op::Conv2d(w) => {
                let kernel = &self.g.node(n.args[1]).ty.shape;
                let (r, s) = (kernel[2], kernel[3]);
                let p = w.padding;
                let attrs = vec![
                    ints("kernel_shape", &[r, s]),
                    ints("strides", &[w.stride, w.stride]),
                    ints("pads", &[p, p, p, p]),
                ];
                self.node("Conv", vec![arg(0), arg(1)], out, attrs);
            }
            Op::MaxPool(w) | Op::AvgPool(w) => {
                let op = if matches!(n.op, Op::MaxPool(_)) {
                    "MaxPool"
                } else {
                    "AveragePool"
                };
                self.node(op, vec![arg(0)], out, pool_attributes(w));
            }
            Op::Reshape => {
                if n.ty.batched && n.ty.shape.len() == 1 {
                    self.node("Flatten", vec![arg(0)], out, vec![int("axis", 1)]);
                } else {
                    // 0 keeps the batch dimension as it is.
                    let mut shape: Vec<i64> = n.ty.shape.iter().map(|&d| d as i64).collect();
                    if n.ty.batched {
                        shape.insert(0, 0);
                    }
                    let shape = self.int64s(&format!("{out}/shape"), &shape);
                    self.node("Reshape", vec![arg(0), shape], out, vec![]);
                }
            }
            Op::Target(_)
            | Op::Loss(_)
            | Op::SoftmaxCrossEntropy
            | Op::SigmoidBinaryCrossEntropy
            | Op::BatchMean
            | Op::BatchSize => {
                return Err(unsupported(
                    "an output computed from targets, losses or the batch size is not part of inference",
                ))
            }
            Op::BatchStat { .. } => {
                return Err(unsupported(
                    "the batch's statistics are part of training, not of the inference model",
                ))
            }
            Op::DropoutMask { .. } => {
                return Err(unsupported(
                    "a dropout mask is part of training, not of the inference model",
                ))
            }
            Op::OneHot => {
                return Err(unsupported(
                    "an output computed from targets, losses or the batch size is not part of inference",
                ))
            }
            Op::Deriv(_)
            | Op::Outer
            | Op::Reduce
            | Op::Broadcast
            | Op::ConvInputGrad(_)
            | Op::ConvKernelGrad(_)
            | Op::MaxPoolGrad(_)
            | Op::AvgPoolGrad(_)
            | Op::ScatterAdd
            | Op::PlaceRow(_)
            | Op::BatchOuter
            | Op::CausalMask
            | Op::Slice { .. } => {
                return Err(unsupported("a step of the backward pass, not of the forward"))
            }
        }
        Ok(())
    }

    /// f(x) elementwise. In f64, ONNX Runtime has no Softplus or LeakyRelu
    /// kernel, so these are written as the same function of ops it has:
    /// softplus(x) = max(x, 0) + ln(1 + e^(−|x|)) (the stable form denpa
    /// computes), leaky_relu(x) = x where x > 0, else slope·x.
    fn map(&mut self, f: Func, x: String, out: String) {
        let op = match f {
            Func::Sigmoid => "Sigmoid",
            Func::Tanh => "Tanh",
            Func::Relu => "Relu",
            Func::Exp => "Exp",
            Func::Log => "Log",
            Func::Sqrt => "Sqrt",
            Func::Abs => "Abs",
            // Opset 20's exact GELU (approximate = "none").
            Func::Gelu => "Gelu",
            Func::Square => {
                self.node("Mul", vec![x.clone(), x], out, vec![]);
                return;
            }
            Func::Step => {
                // 1 for x > 0, else 0: a comparison cast to the element type.
                let zero = self.scalar(&format!("{out}/zero"), 0.0);
                let above = self.fresh(&format!("{out}/above"));
                let above = self.node("Greater", vec![x, zero], above, vec![]);
                let to = int("to", i64::from(elem_type(self.dtype)));
                self.node("Cast", vec![above], out, vec![to]);
                return;
            }
            Func::LeakyRelu(bits) => {
                let slope = f64::from_bits(bits);
                if self.dtype == Dtype::F32 {
                    self.node(
                        "LeakyRelu",
                        vec![x],
                        out,
                        vec![float("alpha", slope as f32)],
                    );
                } else {
                    let zero = self.scalar(&format!("{out}/zero"), 0.0);
                    let slope = self.scalar(&format!("{out}/slope"), slope);
                    let above = self.fresh(&format!("{out}/above"));
                    let above = self.node("Greater", vec![x.clone(), zero], above, vec![]);
                    let scaled = self.fresh(&format!("{out}/scaled"));
                    let scaled = self.node("Mul", vec![x.clone(), slope], scaled, vec![]);
                    self.node("Where", vec![above, x, scaled], out, vec![]);
                }
                return;
            }
            Func::Softplus => {
                if self.dtype == Dtype::F32 {
                    self.node("Softplus", vec![x], out, vec![]);
                } else {
                    let zero = self.scalar(&format!("{out}/zero"), 0.0);
                    let one = self.scalar(&format!("{out}/one"), 1.0);
                    let mut step = |op: &str, inputs: Vec<String>, base: &str| {
                        let name = self.fresh(&format!("{out}/{base}"));
                        self.node(op, inputs, name, vec![])
                    };
                    let positive = step("Max", vec![x.clone(), zero], "positive");
                    let abs = step("Abs", vec![x], "abs");
                    let minus = step("Neg", vec![abs], "minus_abs");
                    let exp = step("Exp", vec![minus], "exp");
                    let sum = step("Add", vec![one, exp], "one_plus");
                    let log = step("Log", vec![sum], "log");
                    self.node("Add", vec![positive, log], out, vec![]);
                }
                return;
            }
        };
        self.node(op, vec![x], out, vec![]);
    }
}

/// A pool's window: its side and stride, no padding.
fn pool_attributes(w: Window) -> Vec<AttributeProto> {
    vec![
        ints("kernel_shape", &[w.size, w.size]),
        ints("strides", &[w.stride, w.stride]),
    ]
}
