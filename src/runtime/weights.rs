//! Parameters and checkpoints as safetensors files, readable by PyTorch,
//! numpy and the `safetensors` crate.
//!
//! A weights file holds one tensor per parameter under its `.nn` name. A
//! checkpoint holds those and the optimizer's state: each moment under
//! `optimizer.<field>` (`optimizer.m_W1`) and the step count in the
//! metadata, so that training resumed from it continues bit for bit.
//!
//! Saving is atomic: the file is written beside its destination under a
//! temporary name, flushed, and renamed over it, so a crash mid-save leaves
//! the old file intact. Loading checks every name, shape and dtype against
//! the network and says exactly what does not match; on any error the
//! network is unchanged.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::NdFloat;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use super::Network;
use crate::error::Error;

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

fn problem(problem: String) -> Error {
    Error::Weights {
        path: String::new(),
        problem,
    }
}

/// The tensors of a file: the parameters and the running statistics of
/// batch normalizations, and for a checkpoint the optimizer's state under
/// `optimizer.<field>`.
fn tensors<N: Network>(
    net: &N,
    checkpoint: bool,
) -> Vec<(String, ndarray::ArrayViewD<'_, N::Scalar>)> {
    let mut all: Vec<(String, ndarray::ArrayViewD<'_, N::Scalar>)> = net
        .parameters()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
    all.extend(
        net.statistics()
            .into_iter()
            .map(|(n, v)| (n.to_string(), v)),
    );
    if checkpoint {
        all.extend(
            net.optimizer_state()
                .1
                .into_iter()
                .map(|(n, v)| (format!("optimizer.{n}"), v)),
        );
    }
    all
}

fn serialize<T: Element>(
    tensors: &[(String, ndarray::ArrayViewD<'_, T>)],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, Error> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, view)| {
            let mut bytes = Vec::with_capacity(view.len() * std::mem::size_of::<T>());
            for v in view.iter() {
                v.write_le(&mut bytes);
            }
            (name.clone(), view.shape().to_vec(), bytes)
        })
        .collect();
    let views = buffers.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(T::DTYPE, shape.clone(), bytes).expect("shape and bytes agree");
        (name.clone(), view)
    });
    safetensors::serialize(views, Some(metadata)).map_err(|e| problem(e.to_string()))
}

/// Serializes the network's parameters to safetensors bytes.
pub fn to_bytes<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    serialize(&tensors(net, false), metadata(net, false))
}

/// Serializes parameters and optimizer state: a checkpoint.
pub fn checkpoint_bytes<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    serialize(&tensors(net, true), metadata(net, true))
}

/// A file's metadata: its format and network; for a checkpoint the step
/// count; and the dropout seed of a network with dropout — part of its
/// value (a loaded network equals the saved one), and with the step what
/// decides the masks (a resumed run draws those of one that never stopped).
fn metadata<N: Network>(net: &N, checkpoint: bool) -> HashMap<String, String> {
    let format = if checkpoint {
        "denpa checkpoint"
    } else {
        "denpa"
    };
    let mut metadata = HashMap::from([
        ("format".to_string(), format.to_string()),
        ("network".to_string(), N::NAME.to_string()),
    ]);
    if checkpoint {
        metadata.insert("step".to_string(), net.optimizer_state().0.to_string());
    }
    if let Some(seed) = net.dropout_seed() {
        metadata.insert(DROPOUT_SEED.to_string(), seed.to_string());
    }
    metadata
}

/// The metadata key of the dropout seed.
const DROPOUT_SEED: &str = "dropout_seed";

/// Saves the parameters to `path`, atomically.
pub fn save<N: Network>(net: &N, path: &Path) -> Result<(), Error> {
    write_atomically(path, &to_bytes(net)?)
}

/// Saves parameters and optimizer state to `path`, atomically.
pub fn save_checkpoint<N: Network>(net: &N, path: &Path) -> Result<(), Error> {
    write_atomically(path, &checkpoint_bytes(net)?)
}

/// The steps of an atomic save, for injecting failures in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStage {
    /// Creating the temporary file.
    Create,
    /// Writing the bytes to it.
    Write,
    /// Flushing it to disk.
    Sync,
    /// Renaming it over the destination.
    Rename,
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_with(path, bytes, &mut |_| Ok(()))
}

/// [`write_atomically`], calling `before` ahead of each stage; an error it
/// returns fails the save there, as a crash or a full disk would. The
/// temporary file is removed and `path` is left as it was.
pub fn write_atomically_with(
    path: &Path,
    bytes: &[u8],
    before: &mut dyn FnMut(SaveStage) -> std::io::Result<()>,
) -> Result<(), Error> {
    let temporary = temporary_path(path);
    let result = (|| {
        before(SaveStage::Create)?;
        let mut file = std::fs::File::create(&temporary)?;
        before(SaveStage::Write)?;
        file.write_all(bytes)?;
        before(SaveStage::Sync)?;
        file.sync_all()?;
        before(SaveStage::Rename)?;
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

/// A weights error of bytes read from `path`, with the path in it (other
/// errors as they are).
pub fn with_path(path: &Path, e: Error) -> Error {
    match e {
        Error::Weights { problem, .. } => Error::Weights {
            path: path.display().to_string(),
            problem,
        },
        other => other,
    }
}

/// Loads parameters from `path` into `net`, refusing any missing, extra,
/// misshapen or mistyped tensor. On error `net` is unchanged.
pub fn load_into<N: Network>(net: &mut N, path: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    from_bytes(net, &bytes).map_err(|e| with_path(path, e))
}

/// Loads a checkpoint (parameters and optimizer state) from `path` into
/// `net`. On error `net` is unchanged.
pub fn load_checkpoint_into<N: Network>(net: &mut N, path: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    checkpoint_from_bytes(net, &bytes).map_err(|e| with_path(path, e))
}

/// Loads parameters from safetensors bytes into `net`; on error `net` is
/// unchanged.
pub fn from_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    let file = deserialize(bytes)?;
    let values = read_tensors(net, &file, false)?;
    // A file without the seed (or of a network without dropout) keeps the
    // network's own.
    let seed = info(bytes)?
        .get(DROPOUT_SEED)
        .and_then(|s| s.parse::<u64>().ok());
    store(net, values, None);
    if let (Some(seed), Some(_)) = (seed, net.dropout_seed()) {
        net.set_dropout_seed(seed);
    }
    Ok(())
}

/// The metadata of a safetensors file.
fn info(bytes: &[u8]) -> Result<HashMap<String, String>, Error> {
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| problem(format!("not a safetensors file: {e}")))?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

/// Loads a checkpoint from safetensors bytes into `net`; on error `net` is
/// unchanged.
pub fn checkpoint_from_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    let info = info(bytes)?;
    let file = deserialize(bytes)?;
    if info.get("format").map(String::as_str) != Some("denpa checkpoint") {
        return Err(problem(
            "this is not a checkpoint (it has no optimizer state); load it with `load`".into(),
        ));
    }
    let step = info
        .get("step")
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| problem("the checkpoint's step count is missing or not a number".into()))?;
    let dropout_seed = match net.dropout_seed() {
        None => None,
        Some(_) => Some(
            info.get(DROPOUT_SEED)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    problem(format!(
                        "{} has dropout, and the checkpoint's dropout seed is missing or not a number",
                        N::NAME
                    ))
                })?,
        ),
    };
    let values = read_tensors(net, &file, true)?;
    store(net, values, Some(step));
    if let Some(seed) = dropout_seed {
        net.set_dropout_seed(seed);
    }
    Ok(())
}

/// Every expected tensor's values, checked against the network first.
fn read_tensors<N: Network>(
    net: &N,
    file: &SafeTensors<'_>,
    checkpoint: bool,
) -> Result<Vec<Vec<N::Scalar>>, Error> {
    let expected: Vec<(String, Vec<usize>)> = tensors(net, checkpoint)
        .iter()
        .map(|(n, v)| (n.clone(), v.shape().to_vec()))
        .collect();
    read_checked(N::NAME, file, &expected, false)
}

/// The parameters of a weights file for a network that is not compiled in
/// (`denpa export`): every one of `expected` (name, shape), in that order,
/// as f64 (f32 values widen exactly), checked as [`load_into`] checks them
/// against a network of the dtype `f64` says.
pub fn read_parameters(
    network: &str,
    bytes: &[u8],
    expected: &[(String, Vec<usize>)],
    f64: bool,
) -> Result<Vec<Vec<f64>>, Error> {
    widened(network, &deserialize(bytes)?, expected, f64, false)
}

/// Every expected tensor's values as f64 (f32 values widen exactly),
/// checked as [`read_checked`] checks them; with `optimizer`, a
/// checkpoint's optimizer state is passed over unread.
fn widened(
    network: &str,
    file: &SafeTensors<'_>,
    expected: &[(String, Vec<usize>)],
    f64: bool,
    optimizer: bool,
) -> Result<Vec<Vec<f64>>, Error> {
    if f64 {
        read_checked::<f64>(network, file, expected, optimizer)
    } else {
        let values = read_checked::<f32>(network, file, expected, optimizer)?;
        Ok(values
            .into_iter()
            .map(|v| v.into_iter().map(f64::from).collect())
            .collect())
    }
}

/// What a weights file or a checkpoint holds of a network that is not
/// compiled in (the page's walk-through): its parameters (as
/// [`read_parameters`] reads them), the dropout seed and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Every expected tensor's values, in order, as f64.
    pub values: Vec<Vec<f64>>,
    /// The dropout seed of the metadata, if the file has one.
    pub dropout_seed: Option<u64>,
    /// The checkpoint's step count; 0 for a weights file.
    pub step: u64,
}

/// [`read_parameters`] of a weights file or a checkpoint (whose optimizer
/// state is read past), with the dropout seed and step count of its
/// metadata.
pub fn read_state(
    network: &str,
    bytes: &[u8],
    expected: &[(String, Vec<usize>)],
    f64: bool,
) -> Result<State, Error> {
    let info = info(bytes)?;
    let checkpoint = info.get("format").map(String::as_str) == Some("denpa checkpoint");
    let values = widened(network, &deserialize(bytes)?, expected, f64, checkpoint)?;
    let number = |key: &str| info.get(key).and_then(|s| s.parse::<u64>().ok());
    Ok(State {
        values,
        dropout_seed: number(DROPOUT_SEED),
        step: match checkpoint {
            true => number("step").ok_or_else(|| {
                problem("the checkpoint's step count is missing or not a number".into())
            })?,
            false => 0,
        },
    })
}

/// The tensors of safetensors bytes, or the error that they are none.
fn deserialize(bytes: &[u8]) -> Result<SafeTensors<'_>, Error> {
    SafeTensors::deserialize(bytes).map_err(|e| problem(format!("not a safetensors file: {e}")))
}

/// Every expected tensor's values, checked by name, dtype and shape (and
/// no tensor the network does not have; with `optimizer`, a checkpoint's
/// `optimizer.…` tensors are allowed and not read).
fn read_checked<T: Element>(
    network: &str,
    file: &SafeTensors<'_>,
    expected: &[(String, Vec<usize>)],
    optimizer: bool,
) -> Result<Vec<Vec<T>>, Error> {
    let mut names: Vec<String> = file.names().into_iter().map(String::from).collect();
    names.sort();
    let extra: Vec<String> = names
        .iter()
        .filter(|n| !expected.iter().any(|(e, _)| e == *n))
        .filter(|n| !(optimizer && n.starts_with("optimizer.")))
        .map(|n| format!("`{n}`"))
        .collect();
    if !extra.is_empty() {
        return Err(problem(format!(
            "the file has tensors that `{}` does not: {}",
            network,
            extra.join(", ")
        )));
    }
    let mut values = Vec::new();
    for (name, shape) in expected {
        let tensor = file
            .tensor(name)
            .map_err(|_| problem(format!("the parameter `{name}` is missing from the file")))?;
        if tensor.dtype() != T::DTYPE {
            return Err(problem(format!(
                "the parameter `{name}` has dtype {:?} in the file, the network uses {:?}",
                tensor.dtype(),
                T::DTYPE
            )));
        }
        if tensor.shape() != shape.as_slice() {
            return Err(problem(format!(
                "the parameter `{name}` has shape {:?} in the file, the network needs {:?}",
                tensor.shape(),
                shape
            )));
        }
        let size = std::mem::size_of::<T>();
        values.push(tensor.data().chunks_exact(size).map(T::read_le).collect());
    }
    Ok(values)
}

/// Writes checked values into the network (and the step, for a checkpoint).
fn store<N: Network>(net: &mut N, values: Vec<Vec<N::Scalar>>, step: Option<u64>) {
    let mut values = values.into_iter();
    fill(net.parameters_mut(), &mut values);
    fill(net.statistics_mut(), &mut values);
    if let Some(step) = step {
        let (count, state) = net.optimizer_state_mut();
        *count = step;
        fill(state, &mut values);
    }
}

/// Writes the next values into each view, in order.
fn fill<T>(
    views: Vec<(&str, ndarray::ArrayViewMutD<'_, T>)>,
    values: &mut impl Iterator<Item = Vec<T>>,
) {
    for (_, mut view) in views {
        if let Some(data) = values.next() {
            for (slot, value) in view.iter_mut().zip(data) {
                *slot = value;
            }
        }
    }
}
