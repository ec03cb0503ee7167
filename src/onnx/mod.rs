//! ONNX export: a network's forward pass (every `output`) as an ONNX model
//! that ONNX Runtime, PyTorch or a serving stack can run, with the trained
//! weights as initializers.
//!
//! The model uses the default operator set at version [`OPSET`] (IR version
//! [`IR_VERSION`]): inputs and outputs are named as in the `.nn` file, each
//! with a symbolic batch dimension `batch`; parameters are initializers under
//! their `.nn` names, in the layouts denpa keeps them (a kernel
//! `[k, c, r, s]` as ONNX's `Conv` reads it); the model's metadata holds the
//! `.nn` source (`denpa.source`), the network's name (`denpa.network`) and
//! denpa's version (`denpa.version`).
//!
//! Each IR op maps to standard operators (`graph.rs`): `@` to `MatMul` (with
//! `Transpose` for `ᵀ`), the elementwise ops to `Add`, `Sub`, `Mul`, `Div`,
//! `Neg`, with `Unsqueeze` where the language broadcasts differently from
//! numpy (a per-sample scalar, a per-channel vector), the functions to
//! `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu`, `Softplus`, `Exp`, `Log`,
//! `Sqrt`, `Abs` (`square` as `Mul`, `step` as `Greater` + `Cast`),
//! `softmax`/`log_softmax` to `Softmax`/`LogSoftmax` on the last axis,
//! `sum`/`mean` to `ReduceSum`/`ReduceMean`, `conv2d` to `Conv`, the pools
//! to `MaxPool`/`AveragePool`, `flatten` to `Flatten`. An output that needs
//! an op with no faithful form is an [`Error::Export`] naming the op, never
//! a different model.
//!
//! Only the forward pass is exported. ONNX's training artifacts (onnxruntime
//! training's `generate_artifacts`) rebuild the backward graph themselves
//! from a forward model, so exporting denpa's derived gradients would give
//! them nothing they could run: train with denpa, deploy the forward model.

mod graph;
/// ONNX's protobuf messages: prost-build's output for `onnx.proto` (ONNX
/// 1.23.2's own, Apache-2.0), committed so that building denpa needs no
/// protobuf compiler; `tests/onnx_proto.rs` checks it is exactly what
/// prost-build makes of it (`DENPA_REGENERATE=1` rewrites it).
#[rustfmt::skip]
#[allow(clippy::all, missing_docs, rustdoc::all)]
mod proto;

use num_traits::ToPrimitive;
use prost::Message;

use crate::check::Net;
use crate::error::Error;
use crate::ir;
use crate::lang::Dtype;
use crate::runtime::Network;
use proto::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, ModelProto, OperatorSetIdProto, StringStringEntryProto, TensorShapeProto,
    TypeProto, ValueInfoProto,
};

pub use graph::Unsupported;

/// The version of ONNX's default operator set the models use.
pub const OPSET: i64 = 21;
/// The ONNX IR version of the models (the one that goes with [`OPSET`]).
pub const IR_VERSION: i64 = 10;
/// The name of every input's and output's first, symbolic dimension.
pub const BATCH: &str = "batch";

/// One parameter's trained values, in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// Its `.nn` name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major (f32 values widen exactly).
    pub values: Vec<f64>,
}

/// The ONNX model of a generated network with its current parameters, in
/// the network's own element type.
pub fn to_bytes<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    to_bytes_as(net, None)
}

/// [`to_bytes`] in another element type: `Some(Dtype::F32)` exports an f64
/// network as a float model (its weights rounded to f32).
pub fn to_bytes_as<N: Network>(net: &N, dtype: Option<Dtype>) -> Result<Vec<u8>, Error> {
    // The parameters, then the running statistics (inference reads them).
    let weights: Vec<Weight> = net
        .parameters()
        .into_iter()
        .chain(net.statistics())
        .map(|(name, view)| Weight {
            name: name.into(),
            shape: view.shape().to_vec(),
            values: view
                .iter()
                .map(|v| v.to_f64().unwrap_or(f64::NAN))
                .collect(),
        })
        .collect();
    let unreadable = |d: crate::diagnostics::Diagnostics| {
        let first = d.iter().next().map_or(String::new(), |d| d.message.clone());
        problem(N::NAME, format!("its `SOURCE` does not compile: {first}"))
    };
    let file = crate::syntax::parse(N::SOURCE).map_err(unreadable)?;
    let (nets, _) = crate::check::check(&file).map_err(unreadable)?;
    let checked = nets
        .iter()
        .find(|n| n.name == N::NAME)
        .ok_or_else(|| problem(N::NAME, "its source has no network of that name"))?;
    model_bytes(checked, N::SOURCE, &weights, dtype)
}

/// Writes [`to_bytes`] to `path`, atomically (an old file stays whole if
/// the write fails).
pub fn save<N: Network>(net: &N, path: &std::path::Path) -> Result<(), Error> {
    let bytes = to_bytes(net)?;
    crate::runtime::weights::write_atomically(path, &bytes)
}

fn problem(network: &str, problem: impl Into<String>) -> Error {
    Error::Export {
        network: network.into(),
        problem: problem.into(),
    }
}

/// The ONNX model of a checked network with `weights` (every parameter,
/// checked against its declaration), in `dtype` (the network's own when
/// `None`); `source` goes into the metadata.
pub fn model_bytes(
    net: &Net,
    source: &str,
    weights: &[Weight],
    dtype: Option<Dtype>,
) -> Result<Vec<u8>, Error> {
    Ok(model(net, source, weights, dtype.unwrap_or(net.dtype))?.encode_to_vec())
}

fn model(net: &Net, source: &str, weights: &[Weight], dtype: Dtype) -> Result<ModelProto, Error> {
    // The model is the inference mode: dropout passes its value through.
    let g = ir::build(net, ir::Mode::Inference);
    let names = ir::names(net, &g);
    let roots: Vec<ir::NodeId> = g.outputs.iter().map(|o| o.1).collect();
    let live = g.live(&roots);
    let mut b = graph::Builder::new(&g, &names, dtype);
    let mut initializers = Vec::new();
    for id in g.ids().filter(|id| live[id.index()]) {
        let declared = match g.node(id).op {
            ir::Op::Param(p) => Some((&net.params[p].name, &net.params[p].shape)),
            ir::Op::Statistic(s) => Some((&net.statistics[s].name, &net.statistics[s].shape)),
            _ => None,
        };
        if let Some((name, shape)) = declared {
            let w = weights
                .iter()
                .find(|w| w.name == *name)
                .ok_or_else(|| problem(&net.name, format!("no weights for `{name}`")))?;
            if w.shape != *shape || w.values.len() != shape.iter().product::<usize>() {
                return Err(problem(
                    &net.name,
                    format!(
                        "the weights of `{name}` have shape {:?}, the network declares {:?}",
                        w.shape, shape
                    ),
                ));
            }
            initializers.push(graph::tensor(
                &names[id.index()],
                &w.shape,
                &w.values,
                dtype,
            ));
        }
        b.emit(id).map_err(|u| {
            problem(
                &net.name,
                format!("`{}` needs `{}`: {}", u.value, u.op, u.why),
            )
        })?;
    }
    // Outputs under their `.nn` names (an output that is another value, or
    // the same value twice, through Identity).
    let mut outputs = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for (name, id) in &g.outputs {
        let value = b.value(*id);
        let is_input = matches!(
            g.node(*id).op,
            ir::Op::Input(_) | ir::Op::Param(_) | ir::Op::Statistic(_)
        );
        if value != *name || is_input || !taken.insert(value.clone()) {
            b.node("Identity", vec![value], name.clone(), vec![]);
        }
        taken.insert(name.clone());
        outputs.push(value_info(name, &g.node(*id).ty, dtype));
    }
    let inputs = net
        .inputs
        .iter()
        .map(|d| value_info(&d.name, &d.ty(), dtype))
        .collect();
    initializers.extend(std::mem::take(&mut b.constants));
    let graph = proto::GraphProto {
        name: Some(net.name.clone()),
        node: std::mem::take(&mut b.nodes),
        initializer: initializers,
        input: inputs,
        output: outputs,
        doc_string: (!net.docs.is_empty()).then(|| net.docs.join("\n")),
        ..Default::default()
    };
    let entry = |key: &str, value: &str| StringStringEntryProto {
        key: Some(key.into()),
        value: Some(value.into()),
    };
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("denpa".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some(format!("The network `{}`, exported by denpa.", net.name)),
        graph: Some(graph),
        metadata_props: [
            entry("denpa.network", &net.name),
            entry("denpa.source", source),
            entry("denpa.version", env!("CARGO_PKG_VERSION")),
        ]
        .into_iter()
        // Each input of indices, int64 in the model, with its range.
        .chain(net.inputs.iter().filter_map(|d| {
            let range = d.range?;
            Some(entry(
                &format!("denpa.range.{}", d.name),
                &format!("0..{range}"),
            ))
        }))
        .collect(),
        ..Default::default()
    })
}

/// A tensor's name, element type and shape: `[batch, …]` when batched.
fn value_info(name: &str, ty: &crate::lang::Type, dtype: Dtype) -> ValueInfoProto {
    let mut dim: Vec<Dimension> = ty
        .shape
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    if ty.batched {
        dim.insert(
            0,
            Dimension {
                value: Some(dimension::Value::DimParam(BATCH.into())),
                ..Default::default()
            },
        );
    }
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(if ty.is_index() {
                    proto::tensor_proto::DataType::Int64 as i32
                } else {
                    graph::elem_type(dtype)
                }),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
