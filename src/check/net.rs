//! What checking gives: a network whose names are resolved and whose shapes
//! are known, with its declarations, bindings, initializers and optimizer.

use crate::diagnostics::Span;
use crate::lang::{Dtype, Type};
use crate::syntax::ast::{self, BinOp, ExprId};

use super::Builtin;

/// An input or target declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    /// Its name.
    pub name: String,
    /// Its per-sample shape.
    pub shape: Vec<usize>,
    /// For indices (`in 0..V`): V.
    pub range: Option<usize>,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The declaration.
    pub span: Span,
    /// The name in the declaration.
    pub name_span: Span,
}

impl Decl {
    /// Its per-sample type (batched: it comes with every sample).
    pub fn ty(&self) -> Type {
        Type {
            shape: self.shape.clone(),
            batched: true,
            range: self.range,
        }
    }
}

/// How a parameter starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element `c`.
    Constant(f64),
    /// Normal with this mean and standard deviation.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// Uniform on `[lo, hi)`.
    Uniform {
        /// The lower bound.
        lo: f64,
        /// The upper bound (excluded).
        hi: f64,
    },
    /// Glorot (Xavier) uniform: ±√(6 / (fan_in + fan_out)).
    Glorot,
    /// He (Kaiming) normal: std √(2 / fan_in).
    He,
    /// The values written out, row-major.
    Literal(Vec<f64>),
}

/// A parameter declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its shape (rank 1 or 2).
    pub shape: Vec<usize>,
    /// How it starts.
    pub init: Init,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The declaration.
    pub span: Span,
    /// The name in the declaration (for `dense`, the call).
    pub name_span: Span,
}

/// A running statistic that `batch_norm` declares (`h_mean`, `h_var`): not
/// a parameter — no gradient, no optimizer state — but part of the
/// network's value, updated by a successful `train_step` and read in
/// inference (LANGUAGE.md §13).
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic {
    /// Its name: the layer's, then `_mean` or `_var`.
    pub name: String,
    /// The binding of the `batch_norm` that declares it (`h` of `h_mean`).
    pub layer: String,
    /// Its shape: one number per feature.
    pub shape: Vec<usize>,
    /// How it starts: zeros for a mean, ones for a variance.
    pub init: Init,
    /// Whether it is a variance (updated with the batch's variance times
    /// n/(n − 1)) or a mean.
    pub variance: bool,
    /// m in `running ← (1 − m) running + m batch` (PyTorch's convention).
    pub momentum: f64,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The `batch_norm` call that declares it.
    pub span: Span,
}

/// A binding `name = EXPR` or `output name = EXPR`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: ExprId,
    /// Whether `forward` returns it.
    pub output: bool,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The statement.
    pub span: Span,
    /// The block calls it was written out from, outermost first (none for
    /// a statement of the network itself).
    pub calls: Vec<ast::BlockCall>,
}

/// The optimizer of `train_step`.
#[derive(Debug, Clone, PartialEq)]
pub enum Optimizer {
    /// W ← W − η g
    Sgd {
        /// The learning rate η.
        lr: f64,
    },
    /// v ← β v + g; W ← W − η v (PyTorch's convention; v starts at 0).
    Momentum {
        /// The learning rate η.
        lr: f64,
        /// The momentum β.
        beta: f64,
    },
    /// Adam with bias correction, as in PyTorch.
    Adam {
        /// The learning rate η.
        lr: f64,
        /// The decay of the first moment.
        beta1: f64,
        /// The decay of the second moment.
        beta2: f64,
        /// Added to the denominator.
        eps: f64,
    },
}

impl Optimizer {
    /// The optimizer as written in `.nn`, with every argument.
    pub fn text(&self) -> String {
        match self {
            Optimizer::Sgd { lr } => format!("sgd(lr = {lr})"),
            Optimizer::Momentum { lr, beta } => format!("momentum(lr = {lr}, beta = {beta})"),
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                format!("adam(lr = {lr}, beta1 = {beta1}, beta2 = {beta2}, eps = {eps})")
            }
        }
    }
}

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// The i-th input.
    Input(usize),
    /// The i-th target.
    Target(usize),
    /// The i-th parameter.
    Param(usize),
    /// The i-th binding.
    Binding(usize),
    /// The i-th running statistic.
    Statistic(usize),
}

/// What an expression means, once names and calls are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    /// A number.
    Number(f64),
    /// A declared value.
    Symbol(Symbol),
    /// `-x`
    Neg(ExprId),
    /// `a op b`
    Binary(BinOp, ExprId, ExprId),
    /// A built-in call with its value arguments in declaration order.
    Call(Builtin, Vec<ExprId>),
    /// `dense(x, m)`: x @ W + b, with the indices of the parameters W and b
    /// that the binding declared.
    Dense(ExprId, usize, usize),
    /// `conv(x, k, size, stride, padding)`: conv2d(x, W, stride, padding) + b,
    /// with the indices of the parameters W and b that the binding declared,
    /// then the stride and the padding.
    Conv(ExprId, usize, usize, usize, usize),
    /// `batch_norm(x, momentum, eps)`: x normalized per feature, with the
    /// batch's statistics in training and the running ones in inference,
    /// times a gain plus a bias.
    BatchNorm {
        /// The value normalized.
        x: ExprId,
        /// The parameters `h_gain` and `h_bias`.
        gain: usize,
        /// See `gain`.
        bias: usize,
        /// The running statistics `h_mean` and `h_var`.
        mean: usize,
        /// See `mean`.
        var: usize,
        /// ε, added to the variance.
        eps: f64,
    },
    /// `E[i]`: the rows of the table E chosen by the index value i.
    Gather(ExprId, ExprId),
    /// `x[k]`: row k of x (counted from the front), known at compile time.
    Row(ExprId, usize),
    /// Not a value (an initializer or optimizer expression, or an error).
    None,
}

/// A network whose names and shapes are known.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// The network's name.
    pub name: String,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// `network Name { ... }` in the source.
    pub span: Span,
    /// The element type.
    pub dtype: Dtype,
    /// Inputs, in declaration order.
    pub inputs: Vec<Decl>,
    /// Targets, in declaration order.
    pub targets: Vec<Decl>,
    /// Parameters, in declaration order.
    pub params: Vec<Param>,
    /// The running statistics `batch_norm` declares, in order.
    pub statistics: Vec<Statistic>,
    /// Bindings, in order.
    pub bindings: Vec<Binding>,
    /// The per-sample loss.
    pub loss: ExprId,
    /// The `loss = ...` statement.
    pub loss_span: Span,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// The expressions, as parsed.
    pub exprs: ast::Exprs,
    /// What each expression means, by id.
    pub meanings: Vec<Meaning>,
    /// The type of each expression, by id.
    pub types: Vec<Type>,
}

impl Net {
    /// The tensors of its weights file, as `save` writes them: each
    /// parameter, then each running statistic, with its shape.
    pub fn stored_tensors(&self) -> Vec<(String, Vec<usize>)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.shape.clone()))
            .chain(
                self.statistics
                    .iter()
                    .map(|s| (s.name.clone(), s.shape.clone())),
            )
            .collect()
    }
}
