//! Parameters as safetensors files: one tensor per parameter under its `.nn`
//! name, readable by PyTorch, numpy and the `safetensors` crate.
//!
//! Saving is atomic: the file is written beside its destination under a
//! temporary name, flushed, and renamed over it, so a crash mid-save leaves
//! the old file intact. Loading checks every name, shape and dtype against
//! the network and says exactly what does not match.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::NdFloat;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::{Error, Network};

/// An element type that weights files can hold.
pub trait Element: NdFloat {
    /// Its safetensors dtype.
    const DTYPE: Dtype;
    /// Appends its little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads it from little-endian bytes of the right length.
    fn read_le(bytes: &[u8]) -> Self;
}

impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }
}

impl Element for f64 {
    const DTYPE: Dtype = Dtype::F64;
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        f64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Serializes the network's parameters to safetensors bytes.
pub fn to_bytes<N: Network>(net: &N) -> Result<Vec<u8>, Error>
where
    N::Scalar: Element,
{
    let params = net.parameters();
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .iter()
        .map(|(name, view)| {
            let mut bytes = Vec::with_capacity(view.len() * std::mem::size_of::<N::Scalar>());
            for v in view.iter() {
                v.write_le(&mut bytes);
            }
            (name.to_string(), view.shape().to_vec(), bytes)
        })
        .collect();
    let views = buffers.iter().map(|(name, shape, bytes)| {
        let view =
            TensorView::new(N::Scalar::DTYPE, shape.clone(), bytes).expect("shape and bytes agree");
        (name.clone(), view)
    });
    let metadata = HashMap::from([
        ("format".to_string(), "denpa".to_string()),
        ("network".to_string(), N::NAME.to_string()),
    ]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::Weights {
        path: String::new(),
        problem: e.to_string(),
    })
}

/// Saves the parameters to `path`, atomically.
pub fn save<N: Network>(net: &N, path: &Path) -> Result<(), Error>
where
    N::Scalar: Element,
{
    let bytes = to_bytes(net)?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let temporary = temporary_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(io_error(path, e));
    }
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Loads parameters from `path` into `net`, refusing any missing, extra,
/// misshapen or mistyped tensor. On error `net` is unchanged.
pub fn load_into<N: Network>(net: &mut N, path: &Path) -> Result<(), Error>
where
    N::Scalar: Element,
{
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    from_bytes(net, &bytes).map_err(|e| match e {
        Error::Weights { problem, .. } => Error::Weights {
            path: path.display().to_string(),
            problem,
        },
        other => other,
    })
}

/// Loads parameters from safetensors bytes into `net`; on error `net` is
/// unchanged.
pub fn from_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), Error>
where
    N::Scalar: Element,
{
    let problem = |problem: String| Error::Weights {
        path: String::new(),
        problem,
    };
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| problem(format!("not a safetensors file: {e}")))?;
    let mut expected: Vec<(&str, Vec<usize>)> = net
        .parameters()
        .iter()
        .map(|(n, v)| (*n, v.shape().to_vec()))
        .collect();
    let mut names: Vec<String> = file.names().into_iter().map(String::from).collect();
    names.sort();
    let extra: Vec<&String> = names
        .iter()
        .filter(|n| !expected.iter().any(|(e, _)| e == n))
        .collect();
    if !extra.is_empty() {
        let list: Vec<String> = extra.iter().map(|n| format!("`{n}`")).collect();
        return Err(problem(format!(
            "the file has tensors that `{}` does not: {}",
            N::NAME,
            list.join(", ")
        )));
    }
    let mut values: Vec<Vec<N::Scalar>> = Vec::new();
    for (name, shape) in expected.drain(..) {
        let tensor = file
            .tensor(name)
            .map_err(|_| problem(format!("the parameter `{name}` is missing from the file")))?;
        if tensor.dtype() != N::Scalar::DTYPE {
            return Err(problem(format!(
                "the parameter `{name}` has dtype {:?} in the file, the network uses {:?}",
                tensor.dtype(),
                N::Scalar::DTYPE
            )));
        }
        if tensor.shape() != shape.as_slice() {
            return Err(problem(format!(
                "the parameter `{name}` has shape {:?} in the file, the network needs {:?}",
                tensor.shape(),
                shape
            )));
        }
        let size = std::mem::size_of::<N::Scalar>();
        values.push(
            tensor
                .data()
                .chunks_exact(size)
                .map(N::Scalar::read_le)
                .collect(),
        );
    }
    for ((_, mut view), data) in net.parameters_mut().into_iter().zip(values) {
        for (slot, value) in view.iter_mut().zip(data) {
            *slot = value;
        }
    }
    Ok(())
}
