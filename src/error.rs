//! The errors that generated code returns at run time.

/// What went wrong when a generated network was called.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An argument's shape does not fit the network.
    #[error("{network}: the argument `{argument}` has shape {actual}, expected {expected}")]
    Shape {
        /// The network's name.
        network: &'static str,
        /// The argument's name in the `.nn` source.
        argument: &'static str,
        /// The shape the network needs, `[batch, 784]` or `[32, 784]`.
        expected: String,
        /// The shape it got.
        actual: String,
    },
    /// An argument of indices holds one outside its range: nothing was
    /// computed, nothing changed.
    #[error(
        "{network}: the argument `{argument}` holds the index {value} at sample {sample}{}, outside its range 0..{range}",
        position.map(|p| format!(", position {p}")).unwrap_or_default()
    )]
    Index {
        /// The network's name.
        network: &'static str,
        /// The argument's name in the `.nn` source.
        argument: &'static str,
        /// The sample (row of the batch).
        sample: usize,
        /// The position within the sample, for a sequence of indices.
        position: Option<usize>,
        /// The index found.
        value: usize,
        /// The end V of the range `0..V`.
        range: usize,
    },
    /// A dynamic call got an array of numbers where the network takes
    /// indices, or the other way round.
    #[error("{network}: the argument `{argument}` takes {expected}")]
    ArgumentKind {
        /// The network's name.
        network: &'static str,
        /// The argument's name in the `.nn` source.
        argument: &'static str,
        /// "indices in 0..27", "numbers".
        expected: String,
    },
    /// A dynamic call got too few arrays.
    #[error("{network}: expected at least {expected} arrays, got {actual}")]
    Arguments {
        /// The network's name.
        network: &'static str,
        /// How many it needs.
        expected: usize,
        /// How many it got.
        actual: usize,
    },
    /// A loss was asked of a batch with no samples.
    #[error("{network}: the batch is empty; a loss needs at least one sample")]
    EmptyBatch {
        /// The network's name.
        network: &'static str,
    },
    /// A training batch in which a batch normalization's statistic would
    /// average a single value (PyTorch refuses it too).
    #[error("{network}: `{layer}` normalizes each feature over {values} value{plural} of this batch; training needs at least 2 (a batch of at least {needed} samples)", plural = if *values == 1 { "" } else { "s" })]
    BatchTooSmall {
        /// The network's name.
        network: &'static str,
        /// The binding of the `batch_norm`.
        layer: &'static str,
        /// How many values each statistic would average.
        values: usize,
        /// The smallest batch that works.
        needed: usize,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// A weights file does not fit the network, or is not a weights file.
    #[error("{path}: {problem}")]
    Weights {
        /// The file.
        path: String,
        /// What does not fit.
        problem: String,
    },
    /// A network could not be exported to ONNX: an op with no faithful
    /// ONNX form, or weights that do not fit it.
    #[error("{network}: cannot export to ONNX: {problem}")]
    Export {
        /// The network's name.
        network: String,
        /// What stands in the way.
        problem: String,
    },
    /// Text that a vocabulary cannot encode, indices it cannot decode, or
    /// probabilities that are no distribution to sample from.
    #[error("{what}: {problem}")]
    Text {
        /// What was being read: `the text "josé"`, `the indices`.
        what: String,
        /// What is wrong with it, and where.
        problem: String,
    },
    /// Training met a loss or gradient that is NaN or infinite.
    #[error("{network}: {what} is not finite ({value}); the parameters were left unchanged")]
    NonFinite {
        /// The network's name.
        network: &'static str,
        /// What was not finite: "the loss", "the gradient of W1".
        what: String,
        /// The first offending value.
        value: f64,
    },
}
