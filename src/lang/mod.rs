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
    /// For a value of indices (`ctx: [8] in 0..27`): V, the end of their
    /// range `0..V`. `None` for numbers.
    pub range: Option<usize>,
}

impl Type {
    /// A constant scalar.
    pub fn scalar() -> Type {
        Type::new(Vec::new(), false)
    }

    /// A value of numbers of this per-sample shape.
    pub fn new(shape: Vec<usize>, batched: bool) -> Type {
        Type {
            shape,
            batched,
            range: None,
        }
    }

    /// Whether the value holds indices rather than numbers.
    pub fn is_index(&self) -> bool {
        self.range.is_some()
    }

    /// How many values of each feature one sample of this type gives a
    /// batch normalization's statistics: 1 for `[n]`, T for `[T, d]`, h·w
    /// for `[c, h, w]` (over a batch of B, B times that).
    pub fn values_per_feature(&self) -> usize {
        match self.shape.as_slice() {
            [_, h, w] => h * w,
            [t, _] => *t,
            _ => 1,
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

    /// The type as declared: `[2, 3]`, or for indices `[8] in 0..27`.
    pub fn text(&self) -> String {
        match self.range {
            Some(v) => format!("{} in 0..{v}", self.shape_text()),
            None => self.shape_text(),
        }
    }
}

/// A per-sample shape as it stands against a result of rank `rank` in an
/// elementwise operation: NumPy's alignment (missing axes in front, of
/// length 1), except version 2's rule that a vector beside an image applies
/// per channel (`[c]` against `[c, h, w]` stands as `[c, 1, 1]`).
pub fn aligned(shape: &[usize], rank: usize) -> Vec<usize> {
    if shape.len() == 1 && rank == 3 {
        return vec![shape[0], 1, 1];
    }
    let mut out = vec![1; rank.saturating_sub(shape.len())];
    out.extend_from_slice(shape);
    out
}

/// The per-sample shape of an elementwise combination of `a` and `b`, or
/// `None` where they do not combine: a scalar with anything; otherwise the
/// two shapes [`aligned`] to the larger rank, each pair of dimensions equal
/// or one of them 1 — and only one side stretched, so the result is one of
/// the two shapes (`[T, 1] + [T]` would be `[T, T]`, larger than both).
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    if a == b || b.is_empty() {
        return Some(a.to_vec());
    }
    if a.is_empty() {
        return Some(b.to_vec());
    }
    let rank = a.len().max(b.len());
    let (x, y) = (aligned(a, rank), aligned(b, rank));
    let mut out = Vec::with_capacity(rank);
    for (&p, &q) in x.iter().zip(&y) {
        out.push(match (p, q) {
            _ if p == q => p,
            (1, _) => q,
            (_, 1) => p,
            _ => return None,
        });
    }
    (out == a || out == b).then_some(out)
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
    /// − Σ t · lp: the negative log-likelihood of log-probabilities
    Nll,
}

impl LossKind {
    /// The name in the language.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Sse => "sse",
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::Mse => "mse",
            LossKind::BinaryCrossEntropy => "binary_cross_entropy",
            LossKind::Nll => "nll",
        }
    }

    /// Whether the loss takes an index as its target (`cross_entropy`,
    /// `nll`), meaning its one-hot vector.
    pub fn takes_indices(self) -> bool {
        matches!(self, LossKind::CrossEntropy | LossKind::Nll)
    }
}
