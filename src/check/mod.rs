//! Name resolution and shape inference: AST → [`Net`].
//!
//! After this pass every name is resolved to a declaration, every expression
//! has a per-sample shape and knows whether it varies per sample (it depends
//! on an input or a target), calls are matched to built-in functions with
//! their arguments in declaration order, and initializers and the optimizer
//! are known. All errors of a network are reported together.

mod builtins;

use std::collections::BTreeMap;

pub use builtins::Builtin;

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::lang::{shape_text, Dtype, Type};
use crate::syntax::ast::{self, BinOp, ExprId, ExprKind, ItemKind};

/// An input or target declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    /// Its name.
    pub name: String,
    /// Its per-sample shape.
    pub shape: Vec<usize>,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The declaration.
    pub span: Span,
    /// The name in the declaration.
    pub name_span: Span,
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

/// A function of numbers (an initializer, an optimizer): its name and its
/// parameters with their defaults (`None`: required).
type NumberSignature = (&'static str, &'static [(&'static str, Option<f64>)]);

/// The largest number of elements a parameter or value may have.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Names that cannot name a value: the language's keywords and Rust's.
const RESERVED: &[&str] = &[
    "network", "input", "target", "param", "output", "loss", "train", "dtype", "as", "break",
    "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl",
    "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "batch",
];

/// Checks every network of a file. Warnings come back with the networks.
pub fn check(file: &ast::File) -> Result<(Vec<Net>, Diagnostics), Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let mut nets = Vec::new();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for network in &file.networks {
        if let Some(first) = seen.insert(&network.name.name, network.name.span) {
            diagnostics.push(
                Diagnostic::error(
                    network.name.span,
                    format!("the network `{}` is defined twice", network.name.name),
                )
                .label("second definition")
                .also(first, "first defined here"),
            );
        }
        let mut checker = Checker::new(network, &mut diagnostics);
        if let Some(net) = checker.run() {
            nets.push(net);
        }
    }
    if file.networks.is_empty() {
        diagnostics.push(
            Diagnostic::error(Span::new(0, 0), "no network in this file")
                .help("a file holds one or more `network Name { ... }`"),
        );
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok((nets, diagnostics))
    }
}

struct Checker<'a> {
    network: &'a ast::Network,
    diagnostics: &'a mut Diagnostics,
    errors_before: usize,
    names: BTreeMap<String, (Symbol, Span)>,
    inputs: Vec<Decl>,
    targets: Vec<Decl>,
    params: Vec<Param>,
    bindings: Vec<Binding>,
    meanings: Vec<Meaning>,
    types: Vec<Option<Type>>,
    /// Whether each expression depends on a target.
    uses_target: Vec<bool>,
    /// The binding being checked (where `dense` declares its parameters),
    /// and the first `dense` in it.
    binding: Option<(String, Option<Span>)>,
    /// Names whose declaration was wrong (a bad shape, a second
    /// definition): uses of them report nothing more.
    poisoned: std::collections::BTreeSet<String>,
    /// Where each binding name is first bound, for "used before it is
    /// defined": made at the first unknown name.
    binding_spans: Option<BTreeMap<&'a str, Span>>,
}

impl<'a> Checker<'a> {
    fn new(network: &'a ast::Network, diagnostics: &'a mut Diagnostics) -> Self {
        let n = network.exprs.len();
        let errors_before = diagnostics.iter().filter(|d| d.is_error()).count();
        Checker {
            network,
            diagnostics,
            errors_before,
            names: BTreeMap::new(),
            inputs: Vec::new(),
            targets: Vec::new(),
            params: Vec::new(),
            bindings: Vec::new(),
            meanings: vec![Meaning::None; n],
            types: vec![None; n],
            uses_target: vec![false; n],
            binding: None,
            poisoned: Default::default(),
            binding_spans: None,
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn failed(&self) -> bool {
        self.diagnostics.iter().filter(|d| d.is_error()).count() > self.errors_before
    }

    fn run(&mut self) -> Option<Net> {
        let network = self.network;
        if RESERVED.contains(&network.name.name.as_str()) {
            self.error(Diagnostic::error(
                network.name.span,
                format!(
                    "`{}` is a keyword and cannot name a network",
                    network.name.name
                ),
            ));
        }
        // Declarations are visible in the whole network: collect them first.
        for item in &network.items {
            match &item.kind {
                ItemKind::Input { name, shape } | ItemKind::Target { name, shape } => {
                    let is_input = matches!(item.kind, ItemKind::Input { .. });
                    let shape =
                        self.shape(shape, 1, if is_input { "an input" } else { "a target" });
                    if shape.is_none() {
                        self.poisoned.insert(name.name.clone());
                    }
                    let decl = Decl {
                        name: name.name.clone(),
                        shape: shape.unwrap_or_default(),
                        docs: item.docs.clone(),
                        span: item.span,
                        name_span: name.span,
                    };
                    let symbol = if is_input {
                        self.inputs.push(decl);
                        Symbol::Input(self.inputs.len() - 1)
                    } else {
                        self.targets.push(decl);
                        Symbol::Target(self.targets.len() - 1)
                    };
                    self.declare(name, symbol);
                }
                ItemKind::Param { name, shape, init } => {
                    let shape = self.shape(shape, 2, "a parameter");
                    let shape = match shape {
                        Some(s) if s.is_empty() => {
                            let ItemKind::Param { shape: written, .. } = &item.kind else {
                                unreachable!()
                            };
                            self.error(
                                Diagnostic::error(written.span, format!("the parameter `{}` is a scalar", name.name))
                                    .label("`[]` is one number per sample, not a parameter")
                                    .help("a parameter is a vector `[n]` or a matrix `[n, m]`; write `[1]` for one number"),
                            );
                            None
                        }
                        other => other,
                    };
                    if shape.is_none() {
                        self.poisoned.insert(name.name.clone());
                    }
                    let init = match (&shape, init) {
                        (Some(shape), Some(init)) => self.init(*init, shape),
                        (Some(shape), None) if shape.len() == 2 => Some(Init::Glorot),
                        _ => Some(Init::Zeros),
                    };
                    self.params.push(Param {
                        name: name.name.clone(),
                        shape: shape.unwrap_or_default(),
                        init: init.unwrap_or(Init::Zeros),
                        docs: item.docs.clone(),
                        span: item.span,
                        name_span: name.span,
                    });
                    self.declare(name, Symbol::Param(self.params.len() - 1));
                }
                _ => {}
            }
        }
        // Bindings, the loss, the optimizer and the dtype, in order.
        let mut loss: Option<(ExprId, Span)> = None;
        let mut optimizer: Option<(Optimizer, Span)> = None;
        let mut dtype: Option<(Dtype, Span)> = None;
        for item in &network.items {
            match &item.kind {
                ItemKind::Binding {
                    name,
                    value,
                    output,
                } => {
                    self.binding = Some((name.name.clone(), None));
                    self.value(*value);
                    self.binding = None;
                    self.bindings.push(Binding {
                        name: name.name.clone(),
                        value: *value,
                        output: *output,
                        docs: item.docs.clone(),
                        span: item.span,
                    });
                    self.declare(name, Symbol::Binding(self.bindings.len() - 1));
                }
                ItemKind::Loss { value } => {
                    self.value(*value);
                    if let Some((_, first)) = loss {
                        self.error(
                            Diagnostic::error(item.span, "a network has exactly one loss")
                                .label("second loss")
                                .also(first, "first loss here")
                                .help("add the terms into one expression: `loss = a + b`"),
                        );
                    } else {
                        loss = Some((*value, item.span));
                    }
                }
                ItemKind::Train { optimizer: expr } => {
                    let opt = self.optimizer(*expr);
                    if let Some((_, first)) = optimizer {
                        self.error(
                            Diagnostic::error(
                                item.span,
                                "a network has at most one `train` statement",
                            )
                            .also(first, "first one here"),
                        );
                    } else if let Some(opt) = opt {
                        optimizer = Some((opt, item.span));
                    }
                }
                ItemKind::Dtype { ty } => {
                    let d = match ty.name.as_str() {
                        "f32" => Some(Dtype::F32),
                        "f64" => Some(Dtype::F64),
                        other => {
                            self.error(
                                Diagnostic::error(ty.span, format!("unknown dtype `{other}`"))
                                    .label("expected `f32` or `f64`"),
                            );
                            None
                        }
                    };
                    if let Some((_, first)) = dtype {
                        self.error(
                            Diagnostic::error(item.span, "the dtype is given twice")
                                .also(first, "first given here"),
                        );
                    } else if let Some(d) = d {
                        dtype = Some((d, item.span));
                    }
                }
                _ => {}
            }
        }
        let body_end = Span::new(network.span.end.saturating_sub(1), network.span.end);
        let loss = match loss {
            Some(l) => Some(l),
            None => {
                self.error(
                    Diagnostic::error(
                        network.name.span,
                        format!("the network `{}` has no loss", network.name.name),
                    )
                    .also(body_end, "add `loss = ...` before this brace")
                    .help("for example `loss = cross_entropy(y, t)` or `loss = sse(y, t)`"),
                );
                None
            }
        };
        if self.inputs.is_empty() {
            self.error(
                Diagnostic::error(
                    network.name.span,
                    format!("the network `{}` has no input", network.name.name),
                )
                .also(body_end, "add `input x: [n]` to the body")
                .help("`forward` computes the outputs from the inputs, one row per sample"),
            );
        }
        if !self.bindings.iter().any(|b| b.output) {
            self.error(
                Diagnostic::error(
                    network.name.span,
                    format!("the network `{}` has no output", network.name.name),
                )
                .also(body_end, "add `output name = ...` before this brace")
                .help("mark the binding that `forward` returns with `output`"),
            );
        }
        if let Some((value, span)) = loss {
            if let Some(ty) = self.types[value.0 as usize].clone() {
                if !ty.is_scalar() {
                    self.error(
                        Diagnostic::error(
                            self.network.exprs.get(value).span,
                            "the loss must be a scalar",
                        )
                        .label(format!("this has shape {}", ty.shape_text()))
                        .also(span, "")
                        .help("reduce it with a loss function or `sum(...)`"),
                    );
                }
            }
        }
        for i in 0..self.bindings.len() {
            let b = &self.bindings[i];
            if b.output && self.uses_target[b.value.0 as usize] {
                let d = self.target_use(b.value, &b.name.clone());
                self.error(d);
            }
        }
        // A literal must fit the element type: rustc refuses an `f32` literal
        // beyond f32::MAX.
        if dtype.is_none_or(|d| d.0 == Dtype::F32) {
            for (_, expr) in network.exprs.iter() {
                if let ExprKind::Number(n) = &expr.kind {
                    if n.value.is_finite() && n.value > f64::from(f32::MAX) {
                        self.error(
                            Diagnostic::error(
                                expr.span,
                                format!("the number `{}` is too large for `f32`", n.text),
                            )
                            .label(format!("the largest f32 is about {:e}", f32::MAX))
                            .help("write `dtype f64` in the network, or use a smaller number"),
                        );
                    }
                }
            }
        }
        if self.failed() {
            return None;
        }
        let (loss, loss_span) = loss?;
        Some(Net {
            name: network.name.name.clone(),
            docs: network.docs.clone(),
            span: network.span,
            dtype: dtype.map(|d| d.0).unwrap_or_default(),
            inputs: std::mem::take(&mut self.inputs),
            targets: std::mem::take(&mut self.targets),
            params: std::mem::take(&mut self.params),
            bindings: std::mem::take(&mut self.bindings),
            loss,
            loss_span,
            optimizer: optimizer
                .map(|o| o.0)
                .unwrap_or(Optimizer::Sgd { lr: 0.01 }),
            exprs: network.exprs.clone(),
            meanings: std::mem::take(&mut self.meanings),
            types: self
                .types
                .iter()
                .map(|t| t.clone().unwrap_or_else(Type::scalar))
                .collect(),
        })
    }

    fn declare(&mut self, name: &ast::Ident, symbol: Symbol) {
        if RESERVED.contains(&name.name.as_str()) || builtins::is_builtin_name(&name.name) {
            let what = if RESERVED.contains(&name.name.as_str()) {
                "a keyword"
            } else {
                "a built-in function"
            };
            self.error(
                Diagnostic::error(
                    name.span,
                    format!("`{}` is {what} and cannot name a value", name.name),
                )
                .label("choose another name")
                .help(format!("for example `{}_`", name.name)),
            );
            // Declared all the same, so that its uses report nothing more.
            self.poisoned.insert(name.name.clone());
        }
        if let Some((_, first)) = self.names.get(&name.name) {
            let first = *first;
            let (label, note) = if first == name.span {
                (
                    "declared again here".to_string(),
                    "first declared here".to_string(),
                )
            } else {
                (
                    "second definition".to_string(),
                    "first defined here".to_string(),
                )
            };
            self.error(
                Diagnostic::error(
                    name.span,
                    format!("the name `{}` is defined twice", name.name),
                )
                .label(label)
                .also(first, note),
            );
            self.poisoned.insert(name.name.clone());
            return;
        }
        self.names.insert(name.name.clone(), (symbol, name.span));
    }

    /// The error for an output that depends on a target: the caret on the
    /// name that brings the target in, and where that comes from.
    fn target_use(&self, root: ExprId, output: &str) -> Diagnostic {
        let mut stack = vec![root];
        let mut found: Option<(ExprId, Symbol)> = None;
        while let Some(id) = stack.pop() {
            match &self.network.exprs.get(id).kind {
                ExprKind::Name(n) => {
                    if let Some((symbol, _)) = self.names.get(&n.name) {
                        let direct = matches!(symbol, Symbol::Target(_));
                        if self.uses_target[id.0 as usize] && (found.is_none() || direct) {
                            found = Some((id, *symbol));
                        }
                    }
                }
                ExprKind::Neg(a) => stack.push(*a),
                ExprKind::Binary { lhs, rhs, .. } => stack.extend([*lhs, *rhs]),
                ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| a.value)),
                ExprKind::Array(items) => stack.extend(items.iter().copied()),
                ExprKind::Number(_) => {}
            }
        }
        let help = "`forward` computes outputs without targets: use targets only in the loss, and in bindings that only the loss uses";
        let Some((id, symbol)) = found else {
            let span = self.network.exprs.get(root).span;
            return Diagnostic::error(span, format!("the output `{output}` depends on a target"))
                .help(help);
        };
        let span = self.network.exprs.get(id).span;
        let d = Diagnostic::error(span, format!("the output `{output}` depends on a target"))
            .help(help);
        match symbol {
            Symbol::Target(t) => d
                .label(format!("`{}` is a target", self.targets[t].name))
                .also(self.targets[t].span, "declared as a target here"),
            Symbol::Binding(b) => d
                .label(format!("`{}` depends on a target", self.bindings[b].name))
                .also(self.bindings[b].span, "which uses a target here"),
            _ => d,
        }
    }

    /// Converts a written shape; `max_rank` bounds its rank.
    fn shape(&mut self, shape: &ast::Shape, max_rank: usize, what: &str) -> Option<Vec<usize>> {
        if shape.dims.len() > max_rank {
            self.error(
                Diagnostic::error(shape.span, format!("{what} has rank at most {max_rank}"))
                    .label(format!("this shape has rank {}", shape.dims.len())),
            );
            return None;
        }
        let mut dims = Vec::new();
        let mut total: usize = 1;
        for d in &shape.dims {
            let ok = d.value.fract() == 0.0 && !d.text.contains(['.', 'e', 'E']);
            let value = if ok && d.value >= 1.0 && d.value <= MAX_ELEMENTS as f64 {
                Some(d.value as usize)
            } else {
                None
            };
            match value {
                Some(v) => {
                    total = total.saturating_mul(v);
                    dims.push(v);
                }
                None => {
                    let why = if !ok {
                        "a dimension is a whole number"
                    } else if d.value < 1.0 {
                        "a dimension is at least 1"
                    } else {
                        "the largest dimension is 268435456 (2^28)"
                    };
                    self.error(
                        Diagnostic::error(d.span, format!("invalid dimension `{}`", d.text))
                            .label(why),
                    );
                    return None;
                }
            }
        }
        if total > MAX_ELEMENTS {
            self.error(Diagnostic::error(
                shape.span,
                format!("this shape has {total} elements, more than the limit of {MAX_ELEMENTS}"),
            ));
            return None;
        }
        Some(dims)
    }

    /// A number written as a constant (`0.5`, `-0.7`, `(1e-3)`).
    fn constant(&self, id: ExprId) -> Option<f64> {
        let mut sign = 1.0;
        let mut id = id;
        loop {
            match &self.network.exprs.get(id).kind {
                ExprKind::Neg(inner) => {
                    sign = -sign;
                    id = *inner;
                }
                ExprKind::Number(n) => return Some(sign * n.value),
                _ => return None,
            }
        }
    }

    fn expect_constant(&mut self, id: ExprId, what: &str) -> Option<f64> {
        match self.constant(id) {
            Some(v) if v.is_finite() => Some(v),
            Some(_) => {
                self.error(Diagnostic::error(
                    self.network.exprs.get(id).span,
                    format!("{what} is too large"),
                ));
                None
            }
            None => {
                self.error(
                    Diagnostic::error(
                        self.network.exprs.get(id).span,
                        format!("{what} must be a number"),
                    )
                    .label("expected a number like `0.5` or `-1e-3`"),
                );
                None
            }
        }
    }

    /// A call or bare name of a function with number arguments (initializers,
    /// optimizers): its name, and its arguments by declaration order.
    fn number_call(
        &mut self,
        id: ExprId,
        signatures: &[NumberSignature],
        what: &str,
    ) -> Option<(String, Vec<f64>, Vec<Span>)> {
        let expr = self.network.exprs.get(id);
        let (func, args): (&ast::Ident, &[ast::Arg]) = match &expr.kind {
            ExprKind::Name(name) => (name, &[]),
            ExprKind::Call { func, args } => (func, args.as_slice()),
            _ => {
                let names: Vec<String> = signatures.iter().map(|s| format!("`{}`", s.0)).collect();
                self.error(
                    Diagnostic::error(expr.span, format!("expected {what}"))
                        .label(format!("one of {}", names.join(", "))),
                );
                return None;
            }
        };
        let Some((_, params)) = signatures.iter().find(|s| s.0 == func.name) else {
            let names: Vec<String> = signatures.iter().map(|s| format!("`{}`", s.0)).collect();
            self.error(
                Diagnostic::error(func.span, format!("unknown {what} `{}`", func.name))
                    .label(format!("expected one of {}", names.join(", "))),
            );
            return None;
        };
        let slots = self.match_args(
            func,
            args,
            params.iter().map(|p| p.0).collect::<Vec<_>>().as_slice(),
        )?;
        let mut values = Vec::new();
        let mut spans = Vec::new();
        for (slot, (pname, default)) in slots.iter().zip(params.iter()) {
            spans.push(slot.map_or(expr.span, |a| self.network.exprs.get(a).span));
            match (slot, default) {
                (Some(arg), _) => values.push(self.expect_constant(*arg, &format!("`{pname}`"))?),
                (None, Some(d)) => values.push(*d),
                (None, None) => {
                    self.error(
                        Diagnostic::error(
                            expr.span,
                            format!("`{}` needs the argument `{pname}`", func.name),
                        )
                        .help(format!("write `{}({pname} = ...)`", func.name)),
                    );
                    return None;
                }
            }
        }
        Some((func.name.clone(), values, spans))
    }

    /// Matches positional and keyword arguments to parameter slots.
    fn match_args(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Arg],
        params: &[&str],
    ) -> Option<Vec<Option<ExprId>>> {
        let mut slots: Vec<Option<ExprId>> = vec![None; params.len()];
        // Where each slot was filled, for "first given here".
        let mut given: Vec<Option<Span>> = vec![None; params.len()];
        let mut ok = true;
        let mut first_keyword: Option<Span> = None;
        let signature = format!("`{}({})`", func.name, params.join(", "));
        for (i, arg) in args.iter().enumerate() {
            let span = self.network.exprs.get(arg.value).span;
            match &arg.name {
                None if first_keyword.is_some() => {
                    let keyword = first_keyword.unwrap_or(span);
                    self.error(
                        Diagnostic::error(span, "a positional argument after a keyword argument")
                            .label("positional")
                            .also(keyword, "keyword argument here")
                            .help(format!("put positional arguments first: {signature}")),
                    );
                    ok = false;
                }
                None if i >= params.len() => {
                    let s = if params.len() == 1 { "" } else { "s" };
                    self.error(
                        Diagnostic::error(
                            span,
                            format!("`{}` takes at most {} argument{s}", func.name, params.len()),
                        )
                        .label("extra argument")
                        .help(signature.clone()),
                    );
                    ok = false;
                }
                None => {
                    slots[i] = Some(arg.value);
                    given[i] = Some(span);
                }
                Some(key) => {
                    first_keyword.get_or_insert(key.span.to(span));
                    match params.iter().position(|p| *p == key.name) {
                        Some(j) if slots[j].is_some() => {
                            let mut d = Diagnostic::error(
                                key.span,
                                format!("the argument `{}` is given twice", key.name),
                            )
                            .label("second time");
                            if let Some(first) = given[j] {
                                d = d.also(first, "first given here");
                            }
                            self.error(d);
                            ok = false;
                        }
                        Some(j) => {
                            slots[j] = Some(arg.value);
                            given[j] = Some(key.span.to(span));
                        }
                        None => {
                            let d = Diagnostic::error(
                                key.span,
                                format!("`{}` has no argument `{}`", func.name, key.name),
                            )
                            .label("unknown argument");
                            let d = match builtins::closest_of(&key.name, params.iter().copied()) {
                                Some(c) => d.help(format!("did you mean `{c}`? {signature}")),
                                None => d.help(signature.clone()),
                            };
                            self.error(d);
                            ok = false;
                        }
                    }
                }
            }
        }
        ok.then_some(slots)
    }

    fn init(&mut self, id: ExprId, shape: &[usize]) -> Option<Init> {
        if let ExprKind::Array(_) = self.network.exprs.get(id).kind {
            return self.literal_init(id, shape).map(Init::Literal);
        }
        const INITS: &[NumberSignature] = &[
            ("zeros", &[]),
            ("ones", &[]),
            ("constant", &[("c", None)]),
            ("normal", &[("mean", Some(0.0)), ("std", Some(1.0))]),
            ("uniform", &[("lo", Some(0.0)), ("hi", Some(1.0))]),
            ("glorot", &[]),
            ("he", &[]),
        ];
        let (name, v, at) = self.number_call(id, INITS, "initializer")?;
        let span = self.network.exprs.get(id).span;
        let init = match name.as_str() {
            "zeros" => Init::Zeros,
            "ones" => Init::Ones,
            "constant" => Init::Constant(v[0]),
            "normal" if v[1] < 0.0 => {
                self.error(
                    Diagnostic::error(at[1], "`normal` needs a standard deviation of at least 0")
                        .label(format!("std = {}", v[1])),
                );
                return None;
            }
            "normal" => Init::Normal {
                mean: v[0],
                std: v[1],
            },
            "uniform" if v[0] > v[1] => {
                self.error(
                    Diagnostic::error(at[0].to(at[1]), "`uniform(lo, hi)` needs lo ≤ hi")
                        .label(format!("lo = {}, hi = {}", v[0], v[1])),
                );
                return None;
            }
            "uniform" => Init::Uniform { lo: v[0], hi: v[1] },
            "glorot" | "he" if shape.len() != 2 => {
                self.error(
                    Diagnostic::error(
                        span,
                        format!(
                            "`{name}` initializes matrices, and this parameter has shape {}",
                            shape_text(shape)
                        ),
                    )
                    .help("use `zeros` or `normal(mean, std)` for a vector"),
                );
                return None;
            }
            "glorot" => Init::Glorot,
            _ => Init::He,
        };
        Some(init)
    }

    /// A literal array initializer, checked against the shape, row-major.
    fn literal_init(&mut self, id: ExprId, shape: &[usize]) -> Option<Vec<f64>> {
        // The shape as written, along the first element of each level: when
        // it differs from the parameter's, say so for the whole array.
        let mut written = Vec::new();
        let mut e = id;
        while let ExprKind::Array(items) = &self.network.exprs.get(e).kind {
            written.push(items.len());
            match items.first() {
                Some(first) => e = *first,
                None => break,
            }
        }
        if written.len() != shape.len() {
            let span = self.network.exprs.get(id).span;
            let example = match shape {
                [n] => format!("[{}]", vec!["0.0"; (*n).min(4)].join(", ")),
                [n, m] => {
                    let row = format!("[{}]", vec!["0.0"; (*m).min(4)].join(", "));
                    format!("[{}]", vec![row; (*n).min(3)].join(", "))
                }
                _ => String::new(),
            };
            self.error(
                Diagnostic::error(
                    span,
                    format!(
                        "this initializer has shape {}, the parameter has shape {}",
                        shape_text(&written),
                        shape_text(shape)
                    ),
                )
                .label(format!("nested {} deep", written.len()))
                .help(format!(
                    "write one number per element, nested like the shape, e.g. `{example}`"
                )),
            );
            return None;
        }
        // Walk the nesting level by level (no recursion): each level is a list
        // of expressions that must all be arrays of the next dimension.
        let mut level = vec![id];
        for (depth, &dim) in shape.iter().enumerate() {
            let mut next = Vec::new();
            for &e in &level {
                let expr = self.network.exprs.get(e);
                let ExprKind::Array(items) = &expr.kind else {
                    self.error(
                        Diagnostic::error(
                            expr.span,
                            format!(
                                "expected an array of {dim} element{}",
                                if dim == 1 { "" } else { "s" }
                            ),
                        )
                        .label(format!("the parameter has shape {}", shape_text(shape))),
                    );
                    return None;
                };
                if items.len() != dim {
                    self.error(
                        Diagnostic::error(expr.span, format!("this array has {} elements, the parameter's axis {depth} has {dim}", items.len()))
                            .label(format!("the parameter has shape {}", shape_text(shape))),
                    );
                    return None;
                }
                next.extend(items.iter().copied());
            }
            level = next;
        }
        let mut values = Vec::with_capacity(level.len());
        for e in level {
            values.push(self.expect_constant(e, "an array element")?);
        }
        Some(values)
    }

    fn optimizer(&mut self, id: ExprId) -> Option<Optimizer> {
        const OPTIMIZERS: &[NumberSignature] = &[
            ("sgd", &[("lr", None)]),
            ("momentum", &[("lr", None), ("beta", Some(0.9))]),
            (
                "adam",
                &[
                    ("lr", Some(0.001)),
                    ("beta1", Some(0.9)),
                    ("beta2", Some(0.999)),
                    ("eps", Some(1e-8)),
                ],
            ),
        ];
        let (name, v, at) = self.number_call(id, OPTIMIZERS, "optimizer")?;
        let mut bad = |what: &str, ok: bool, k: usize, help: &str| {
            if !ok {
                self.error(
                    Diagnostic::error(at[k], format!("`{name}`: {what}"))
                        .label(format!("this is {}", v[k]))
                        .help(help.to_string()),
                );
            }
            ok
        };
        let mut ok = bad(
            "the learning rate `lr` must be positive",
            v[0] > 0.0,
            0,
            "typical values are 0.001 to 0.5",
        );
        for (i, beta) in v
            .iter()
            .enumerate()
            .skip(1)
            .take(if name == "adam" { 2 } else { 1 })
        {
            let key = match (name.as_str(), i) {
                ("adam", 1) => "beta1",
                ("adam", _) => "beta2",
                _ => "beta",
            };
            ok &= bad(
                &format!("`{key}` must be at least 0 and below 1"),
                (0.0..1.0).contains(beta),
                i,
                if key == "beta2" {
                    "typically 0.999"
                } else {
                    "typically 0.9"
                },
            );
        }
        if name == "adam" {
            ok &= bad("`eps` must be positive", v[3] > 0.0, 3, "typically 1e-8");
        }
        if !ok {
            return None;
        }
        Some(match name.as_str() {
            "sgd" => Optimizer::Sgd { lr: v[0] },
            "momentum" => Optimizer::Momentum {
                lr: v[0],
                beta: v[1],
            },
            _ => Optimizer::Adam {
                lr: v[0],
                beta1: v[1],
                beta2: v[2],
                eps: v[3],
            },
        })
    }

    /// Types the expression `root` and everything below it. Operands have
    /// smaller ids, so one loop over the id range suffices.
    fn value(&mut self, root: ExprId) {
        let first = self.first_id(root);
        for i in first.0..=root.0 {
            let id = ExprId(i);
            if self.types[i as usize].is_some() {
                continue;
            }
            let (meaning, ty, target) = match self.type_of(id) {
                Some(t) => t,
                None => (Meaning::None, None, false),
            };
            self.meanings[i as usize] = meaning;
            self.types[i as usize] = ty;
            self.uses_target[i as usize] = target;
        }
    }

    /// The smallest id among the expression's operands, found with a stack.
    fn first_id(&self, root: ExprId) -> ExprId {
        let mut min = root;
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            min = min.min(id);
            match &self.network.exprs.get(id).kind {
                ExprKind::Neg(a) => stack.push(*a),
                ExprKind::Binary { lhs, rhs, .. } => stack.extend([*lhs, *rhs]),
                ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| a.value)),
                ExprKind::Array(items) => stack.extend(items.iter().copied()),
                ExprKind::Number(_) | ExprKind::Name(_) => {}
            }
        }
        min
    }

    fn ty(&self, id: ExprId) -> Option<(Type, bool)> {
        self.types[id.0 as usize]
            .clone()
            .map(|t| (t, self.uses_target[id.0 as usize]))
    }

    fn type_of(&mut self, id: ExprId) -> Option<(Meaning, Option<Type>, bool)> {
        let expr = self.network.exprs.get(id);
        let span = expr.span;
        match &expr.kind {
            ExprKind::Number(n) => {
                if !n.value.is_finite() {
                    self.error(
                        Diagnostic::error(span, format!("the number `{}` is too large", n.text))
                            .label("beyond the largest f64, about 1.8e308"),
                    );
                    return None;
                }
                Some((Meaning::Number(n.value), Some(Type::scalar()), false))
            }
            ExprKind::Name(name) => {
                if self.poisoned.contains(&name.name) {
                    // Its declaration is wrong and already reported.
                    return None;
                }
                let Some((symbol, _)) = self.names.get(&name.name).copied() else {
                    let network = self.network;
                    let later = self
                        .binding_spans
                        .get_or_insert_with(|| {
                            let mut first = BTreeMap::new();
                            for item in &network.items {
                                if let ItemKind::Binding { name: n, .. } = &item.kind {
                                    first.entry(n.name.as_str()).or_insert(n.span);
                                }
                            }
                            first
                        })
                        .get(name.name.as_str())
                        .copied();
                    let d = match later {
                        Some(def) => Diagnostic::error(span, format!("`{}` is used before it is defined", name.name))
                            .label("used here")
                            .also(def, "defined here")
                            .help("move the binding above its first use"),
                        None if builtins::is_builtin_name(&name.name) => {
                            Diagnostic::error(span, format!("`{}` is a function and needs an argument", name.name))
                                .help(format!("write `{}(x)`", name.name))
                        }
                        None => Diagnostic::error(span, format!("unknown name `{}`", name.name))
                            .label("not declared in this network")
                            .help("declare it with `input`, `target`, `param`, or a binding `name = ...`"),
                    };
                    self.error(d);
                    return None;
                };
                let (shape, batched, target) = match symbol {
                    Symbol::Input(i) => (self.inputs[i].shape.clone(), true, false),
                    Symbol::Target(i) => (self.targets[i].shape.clone(), true, true),
                    Symbol::Param(i) => (self.params[i].shape.clone(), false, false),
                    Symbol::Binding(i) => {
                        let (t, target) = self.ty(self.bindings[i].value)?;
                        (t.shape, t.batched, target)
                    }
                };
                Some((
                    Meaning::Symbol(symbol),
                    Some(Type { shape, batched }),
                    target,
                ))
            }
            ExprKind::Neg(a) => {
                let (t, target) = self.ty(*a)?;
                Some((Meaning::Neg(*a), Some(t), target))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, lt) = self.ty(*lhs)?;
                let (r, rt) = self.ty(*rhs)?;
                let shape = self.binary_shape(*op, *lhs, &l, *rhs, &r)?;
                let batched = l.batched || r.batched;
                if batched && shape.len() == 2 {
                    self.error(
                        Diagnostic::error(
                            span,
                            "this would be a different matrix for every sample",
                        )
                        .label(format!("shape {} per sample", shape_text(&shape)))
                        .help("per-sample values are scalars or vectors; matrices are parameters"),
                    );
                    return None;
                }
                Some((
                    Meaning::Binary(*op, *lhs, *rhs),
                    Some(Type { shape, batched }),
                    lt || rt,
                ))
            }
            ExprKind::Call { func, args } if func.name == "dense" => self.dense(span, func, args),
            ExprKind::Call { func, args } => {
                let (builtin, arg_ids) = self.call(span, func, args)?;
                let mut types = Vec::new();
                let mut target = false;
                for a in &arg_ids {
                    let (t, at) = self.ty(*a)?;
                    target |= at;
                    types.push(t);
                }
                let ty = builtins::result_type(
                    builtin,
                    &types,
                    &arg_ids,
                    span,
                    &self.network.exprs,
                    self.diagnostics,
                )?;
                Some((Meaning::Call(builtin, arg_ids), Some(ty), target))
            }
            ExprKind::Array(_) => {
                self.error(
                    Diagnostic::error(span, "an array literal can only initialize a parameter")
                        .help("write it after `param W: [...] =`"),
                );
                None
            }
        }
    }

    /// `h = dense(x, m)` declares `h_w: [n, m]` (glorot) and `h_b: [m]`
    /// (zeros) and means `x @ h_w + h_b`.
    fn dense(
        &mut self,
        span: Span,
        func: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<(Meaning, Option<Type>, bool)> {
        let slots = self.match_args(func, args, &["x", "m"])?;
        let (Some(x), Some(m)) = (slots[0], slots[1]) else {
            self.error(
                Diagnostic::error(span, "`dense` needs an input and a width")
                    .help("`h = dense(x, 10)`"),
            );
            return None;
        };
        let m_span = self.network.exprs.get(m).span;
        let width = self.expect_constant(m, "the width of `dense`")?;
        if width.fract() != 0.0 || width < 1.0 || width > MAX_ELEMENTS as f64 {
            self.error(Diagnostic::error(
                m_span,
                "the width of `dense` must be a whole number of at least 1",
            ));
            return None;
        }
        let width = width as usize;
        let Some((binding, first)) = self.binding.clone() else {
            self.error(
                Diagnostic::error(span, "`dense` can only be used in a binding (`h = ...` or `output h = ...`)")
                    .label("not in a binding")
                    .help("the binding names its parameters (`h_w`, `h_b`): write `h = dense(x, m)` and use `h`"),
            );
            return None;
        };
        if let Some(first) = first {
            self.error(
                Diagnostic::error(func.span, format!("a second `dense` in the binding `{binding}`"))
                    .label("second `dense`")
                    .also(first, "the first one")
                    .help("give each layer its own binding: `h1 = dense(x, 50)`, then `h2 = dense(h1, 10)`"),
            );
            return None;
        }
        self.binding = Some((binding.clone(), Some(span)));
        let (xt, target) = self.ty(x)?;
        let [n] = xt.shape[..] else {
            self.error(
                Diagnostic::error(self.network.exprs.get(x).span, "`dense` takes a vector")
                    .label(format!("this has shape {}", xt.shape_text())),
            );
            return None;
        };
        for suffix in ["w", "b"] {
            let name = format!("{binding}_{suffix}");
            if let Some((_, first)) = self.names.get(&name) {
                let first = *first;
                self.error(
                    Diagnostic::error(
                        func.span,
                        format!(
                            "`dense` in `{binding}` declares `{name}`, which is already defined"
                        ),
                    )
                    .label(format!("declares `{binding}_w` and `{binding}_b`"))
                    .also(first, format!("`{name}` is defined here"))
                    .help("rename the parameter or the binding"),
                );
                return None;
            }
        }
        let declare = |this: &mut Self, suffix: &str, shape: Vec<usize>, init: Init, what: &str| {
            let name = format!("{binding}_{suffix}");
            this.params.push(Param {
                name: name.clone(),
                shape,
                init,
                docs: vec![format!("The {what} of the dense layer `{binding}`.")],
                span,
                name_span: span,
            });
            let index = this.params.len() - 1;
            this.declare(&ast::Ident { name, span }, Symbol::Param(index));
            index
        };
        let w = declare(self, "w", vec![n, width], Init::Glorot, "weights");
        let b = declare(self, "b", vec![width], Init::Zeros, "biases");
        let ty = Type {
            shape: vec![width],
            batched: xt.batched,
        };
        Some((Meaning::Dense(x, w, b), Some(ty), target))
    }

    fn binary_shape(
        &mut self,
        op: BinOp,
        lhs: ExprId,
        l: &Type,
        rhs: ExprId,
        r: &Type,
    ) -> Option<Vec<usize>> {
        let ls = self.network.exprs.get(lhs).span;
        let rs = self.network.exprs.get(rhs).span;
        let sym = op.symbol();
        let (a, b) = (
            self.operand_name(lhs, "the left side"),
            self.operand_name(rhs, "the right side"),
        );
        let why = if op == BinOp::MatMul {
            let out = match (l.shape.as_slice(), r.shape.as_slice()) {
                ([n], [k, m]) if n == k => Some(vec![*m]),
                ([n, k], [m]) if k == m => Some(vec![*n]),
                ([n], [m]) if n == m => Some(vec![]),
                ([n, k], [k2, m]) if k == k2 => Some(vec![*n, *m]),
                _ => None,
            };
            if out.is_some() {
                return out;
            }
            match (l.shape.as_slice(), r.shape.as_slice()) {
                ([], _) | (_, []) => {
                    "`@` multiplies vectors and matrices; use `*` to scale by a scalar".to_string()
                }
                ([n], [k, _]) => format!("{a} has {n} elements, {b} has {k} rows"),
                ([_, k], [m]) => format!("{a} has {k} columns, {b} has {m} elements"),
                ([n], [m]) => {
                    format!("a dot product needs equal lengths: {a} has {n} elements, {b} has {m}")
                }
                ([_, k], [k2, _]) => format!("{a} has {k} columns, {b} has {k2} rows"),
                _ => "these shapes cannot be multiplied".to_string(),
            }
        } else if l.shape == r.shape || r.is_scalar() {
            return Some(l.shape.clone());
        } else if l.is_scalar() {
            return Some(r.shape.clone());
        } else {
            format!("{a} is {}, {b} is {}", l.shape_text(), r.shape_text())
        };
        let mut d = Diagnostic::error(
            ls.to(rs),
            format!(
                "shape mismatch in `{sym}`: {} {sym} {}",
                l.shape_text(),
                r.shape_text()
            ),
        )
        .label(why);
        for (e, t) in [(lhs, l), (rhs, r)] {
            if let Some((span, note)) = self.shape_origin(e, t) {
                d = d.also(span, note);
            }
        }
        if op != BinOp::MatMul {
            d = d.help("elementwise operations need equal shapes, or a scalar on one side");
        }
        self.error(d);
        None
    }

    /// How an operand is called in a message: its name, or a description.
    fn operand_name(&self, id: ExprId, otherwise: &str) -> String {
        match &self.network.exprs.get(id).kind {
            ExprKind::Name(n) => format!("`{}`", n.name),
            _ => otherwise.to_string(),
        }
    }

    /// Where an operand's shape comes from: the declaration of a name, or the
    /// binding that computed it. `None` for an operand written in place.
    fn shape_origin(&self, id: ExprId, ty: &Type) -> Option<(Span, String)> {
        let ExprKind::Name(name) = &self.network.exprs.get(id).kind else {
            return None;
        };
        let (symbol, _) = self.names.get(&name.name)?;
        let shape = ty.shape_text();
        let n = &name.name;
        Some(match *symbol {
            Symbol::Input(i) => (
                self.inputs[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Target(i) => (
                self.targets[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Param(i) => (
                self.params[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Binding(i) => (
                self.bindings[i].span,
                format!("`{n}` gets shape {shape} here"),
            ),
        })
    }

    fn call(
        &mut self,
        span: Span,
        func: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<(Builtin, Vec<ExprId>)> {
        let Some(sig) = builtins::signature(&func.name) else {
            let d = Diagnostic::error(func.span, format!("unknown function `{}`", func.name))
                .label("not a built-in function");
            let d = match builtins::closest(&func.name) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d,
            };
            self.error(d);
            return None;
        };
        let names: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
        let slots = self.match_args(func, args, &names)?;
        let mut values = Vec::new();
        let mut numbers = Vec::new();
        for (slot, p) in slots.iter().zip(sig.params.iter()) {
            match (slot, p.default) {
                (Some(a), builtins::Default::Tensor) => values.push(*a),
                (Some(a), builtins::Default::Number(_)) => {
                    numbers.push(self.expect_constant(*a, &format!("`{}`", p.name))?)
                }
                (None, builtins::Default::Number(d)) => numbers.push(d),
                (None, builtins::Default::Tensor) => {
                    self.error(
                        Diagnostic::error(
                            span,
                            format!("`{}` needs the argument `{}`", func.name, p.name),
                        )
                        .help(format!(
                            "`{}({})`",
                            func.name,
                            names.join(", ")
                        )),
                    );
                    return None;
                }
            }
        }
        Some(((sig.make)(&numbers), values))
    }
}

#[cfg(test)]
mod tests;
