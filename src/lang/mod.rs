//! The language's vocabulary, shared by every stage: the element type, the
//! type of a value (its per-sample shape), the losses and the elementwise
//! functions. It imports nothing of the compiler, so the front end, the IR,
//! the code generator and `explain` all stand on it without leaning on each
//! other.

mod func;

pub use func::{literal, Func, Prec};

/// The element type of the generated code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    /// `f32`, the default.
    #[default]
    F32,
    /// `f64`, for gradient checks and precision.
    F64,
}

impl Dtype {
    /// The Rust type name.
    pub fn rust_name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// The type of a value: its per-sample shape and whether it varies per sample.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Type {
    /// Per-sample dimensions: `[]` scalar, `[n]` vector, `[n, m]` matrix.
    pub shape: Vec<usize>,
    /// Whether the value differs from sample to sample (it depends on an
    /// input or a target). Batched values get a leading batch axis in the
    /// generated code.
    pub batched: bool,
}

impl Type {
    /// A constant scalar.
    pub fn scalar() -> Type {
        Type {
            shape: Vec::new(),
            batched: false,
        }
    }

    /// Whether the per-sample value is a scalar.
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The shape as written in `.nn` notation: `[2, 3]`.
    pub fn shape_text(&self) -> String {
        shape_text(&self.shape)
    }
}

/// `[2, 3]`
pub fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// The loss functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LossKind {
    /// ½ Σ (y − t)²
    Sse,
    /// − Σ t · ln y
    CrossEntropy,
    /// mean((y − t)²)
    Mse,
    /// − Σ [t ln y + (1 − t) ln(1 − y)]
    BinaryCrossEntropy,
}

impl LossKind {
    /// The name in the language.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Sse => "sse",
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::Mse => "mse",
            LossKind::BinaryCrossEntropy => "binary_cross_entropy",
        }
    }
}
