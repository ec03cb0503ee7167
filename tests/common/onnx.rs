//! ONNX cases for `tests/onnx/check.py`: a network's exported model beside a
//! batch and the outputs denpa's own `forward` computed for it, and the run
//! of the checker over a list of them in ONNX Runtime.

#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;

use denpa::lang::Dtype;
use denpa::ndarray::{ArrayD, IxDyn};
use denpa::runtime::weights::Element;
use denpa::{Arg, Network};

/// One exported model and its data, as the checker's manifest lists it.
pub struct Case {
    /// Unique in the manifest.
    pub name: String,
    /// The network's name.
    pub network: String,
    /// The model file.
    pub model: PathBuf,
    /// The safetensors file of `input.NAME` and `output.NAME` tensors.
    pub data: PathBuf,
    /// Largest error allowed, relative (absolute below 1).
    pub tolerance: f64,
    /// The float export of the same network, for a double model ONNX
    /// Runtime has no kernel for.
    pub float_twin: Option<String>,
    /// For a classifier: the output whose largest element is the class, and
    /// how many of the data file's `labels` denpa's forward pass got right
    /// (ONNX Runtime must get the same count).
    pub accuracy: Option<(String, usize)>,
}

/// The repository's root: where `tests/onnx/` is, from any of its crates.
fn root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("tests/onnx/check.py").exists() {
        assert!(dir.pop(), "tests/onnx/check.py is in an ancestor directory");
    }
    dir
}

/// Deterministic values in [0.1, 1.0) (the fixtures' batches, and the ONNX
/// cases').
pub fn data<T: Element>(shape: &[usize], salt: usize) -> ArrayD<T> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (salt as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        T::from(0.1 + 0.9 * ((state >> 11) as f64 / (1u64 << 53) as f64)).expect("a float")
    })
}

/// Deterministic indices in `0..range`, with repeats (a row read twice).
pub fn indices(shape: &[usize], range: usize, salt: usize) -> ArrayD<usize> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ (salt as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % range as u64) as usize
    })
}

/// A batch for one argument: numbers, or indices.
#[derive(Debug, Clone)]
pub enum Data<T> {
    /// Numbers in [0.1, 1.0).
    Numbers(ArrayD<T>),
    /// Indices in their range.
    Indices(ArrayD<usize>),
}

impl<T: Element> Data<T> {
    /// The argument of a dynamic call.
    pub fn arg(&self) -> Arg<'_, T> {
        match self {
            Data::Numbers(a) => Arg::Numbers(a.view()),
            Data::Indices(a) => Arg::Indices(a.view()),
        }
    }

    /// The shape of the batch.
    pub fn shape(&self) -> &[usize] {
        match self {
            Data::Numbers(a) => a.shape(),
            Data::Indices(a) => a.shape(),
        }
    }
}

/// A batch of `batch` samples for each argument of `slots` (indices where
/// `ranges` has a range), from `salt`.
pub fn batch_of<T: Element>(
    slots: &[(&str, &[usize])],
    ranges: &[Option<usize>],
    batch: usize,
    salt: usize,
) -> Vec<Data<T>> {
    slots
        .iter()
        .zip(ranges)
        .enumerate()
        .map(|(i, ((_, per_sample), range))| {
            let mut shape = vec![batch];
            shape.extend_from_slice(per_sample);
            match range {
                Some(r) => Data::Indices(indices(&shape, *r, salt + i)),
                None => Data::Numbers(data(&shape, salt + i)),
            }
        })
        .collect()
}

/// A batch of `batch` samples for each of the network's inputs.
pub fn inputs<N: Network>(batch: usize) -> Vec<Data<N::Scalar>> {
    batch_of(N::INPUTS, N::INPUT_RANGES, batch, 40)
}

/// The arguments of a dynamic call, one per batch.
pub fn args<T: Element>(batches: &[Data<T>]) -> Vec<Arg<'_, T>> {
    batches.iter().map(Data::arg).collect()
}

/// Exports `net` (as `dtype`, or its own) into `dir` with `inputs` and the
/// outputs of its own forward pass on them: the case `name`.
pub fn case<N: Network>(
    dir: &Path,
    name: &str,
    net: &N,
    dtype: Option<Dtype>,
    inputs: &[Data<N::Scalar>],
    tolerance: f64,
) -> Case {
    let model = dir.join(format!("{name}.onnx"));
    let bytes = denpa::onnx::to_bytes_as(net, dtype).unwrap_or_else(|e| panic!("{name}: {e}"));
    std::fs::write(&model, bytes).expect("the model is written");
    let outputs = net
        .forward_dyn(&args(inputs))
        .expect("denpa's forward pass");
    let single = dtype == Some(Dtype::F32) || std::mem::size_of::<N::Scalar>() == 4;
    // Inputs in the model's element type; denpa's outputs as they are.
    let mut tensors: Vec<(String, Vec<usize>, safetensors::Dtype, Vec<u8>)> = Vec::new();
    for ((input, _), batch) in N::INPUTS.iter().zip(inputs) {
        let (dtype, bytes) = match batch {
            Data::Numbers(array) => le_bytes(array, single),
            Data::Indices(array) => (
                safetensors::Dtype::I64,
                array
                    .iter()
                    .flat_map(|&i| (i as i64).to_le_bytes())
                    .collect(),
            ),
        };
        tensors.push((
            format!("input.{input}"),
            batch.shape().to_vec(),
            dtype,
            bytes,
        ));
    }
    for (output, array) in &outputs {
        let (dtype, bytes) = le_bytes(array, std::mem::size_of::<N::Scalar>() == 4);
        tensors.push((
            format!("output.{output}"),
            array.shape().to_vec(),
            dtype,
            bytes,
        ));
    }
    let views = tensors.iter().map(|(name, shape, dtype, bytes)| {
        let view = safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes)
            .expect("shape and bytes agree");
        (name.clone(), view)
    });
    let data = dir.join(format!("{name}.safetensors"));
    std::fs::write(
        &data,
        safetensors::serialize(views, None).expect("serialized"),
    )
    .expect("the data is written");
    Case {
        name: name.into(),
        network: N::NAME.into(),
        model,
        data,
        tolerance,
        float_twin: None,
        accuracy: None,
    }
}

/// Adds `labels` (one class per sample) to a case's data file.
pub fn add_labels(case: &Case, labels: &[usize]) {
    let bytes = std::fs::read(&case.data).expect("the data file");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let mut tensors: Vec<(String, safetensors::tensor::TensorView<'_>)> = file.tensors();
    let values: Vec<u8> = labels
        .iter()
        .flat_map(|&l| (l as f64).to_le_bytes())
        .collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![labels.len()], &values)
            .expect("labels");
    tensors.push(("labels".into(), view));
    let out = safetensors::serialize(tensors, None).expect("serialized");
    std::fs::write(&case.data, out).expect("the data file is written");
}

fn le_bytes<T: Element>(array: &ArrayD<T>, single: bool) -> (safetensors::Dtype, Vec<u8>) {
    let mut bytes = Vec::new();
    for v in array.iter() {
        let v = v.to_f64().expect("a float");
        if single {
            bytes.extend_from_slice(&(v as f32).to_le_bytes());
        } else {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    let dtype = if single {
        safetensors::Dtype::F32
    } else {
        safetensors::Dtype::F64
    };
    (dtype, bytes)
}

/// The Python with onnx and onnxruntime: `DENPA_PYTHON`, or the environment
/// `tests/onnx/setup` makes (and makes now if it is missing).
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("DENPA_PYTHON") {
        return python.into();
    }
    let root = root();
    let setup = Command::new("bash")
        .arg(root.join("tests/onnx/setup"))
        .output()
        .expect("bash runs");
    assert!(
        setup.status.success(),
        "the ONNX tests need Python 3 with the packages of tests/onnx/requirements.txt \
         (numpy, onnx, onnxruntime); `bash tests/onnx/setup` installs them into \
         target/onnx-venv from PyPI, or set DENPA_PYTHON to a Python that has them.\n\
         The setup said:\n{}{}",
        String::from_utf8_lossy(&setup.stdout),
        String::from_utf8_lossy(&setup.stderr)
    );
    let printed = String::from_utf8_lossy(&setup.stdout);
    PathBuf::from(
        printed
            .lines()
            .last()
            .expect("the setup prints its python")
            .trim(),
    )
}

/// Runs `tests/onnx/check.py` over the cases; panics with its report unless
/// every case passes.
pub fn check(dir: &Path, cases: &[Case]) {
    let cases: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "network": c.network,
                "model": c.model,
                "data": c.data,
                "tolerance": c.tolerance,
                "float_twin": c.float_twin,
                "accuracy": c.accuracy.as_ref().map(|(output, correct)| {
                    serde_json::json!({ "output": output, "correct": correct })
                }),
            })
        })
        .collect();
    let manifest = dir.join("manifest.json");
    let text = serde_json::json!({ "cases": cases }).to_string();
    std::fs::write(&manifest, text).expect("the manifest is written");
    let script = root().join("tests/onnx/check.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&manifest)
        .output()
        .expect("python runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "ONNX check failed:\n{report}");
}
