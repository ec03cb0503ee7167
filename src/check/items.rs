//! A network's items in order: declarations first (they are visible in the
//! whole network), then bindings, the loss, `train` and `dtype`; the rules
//! about the network as a whole (one loss, an input, an output, no target in
//! an output); names declared once and never a keyword.

use crate::diagnostics::{Diagnostic, Span};
use crate::lang::{Dtype, Type};
use crate::syntax::ast::{self, ExprId, ExprKind, ItemKind};

use super::{builtins, Binding, Checker, Decl, Init, Net, Optimizer, Param, Symbol};
use super::{MAX_ELEMENTS, RESERVED};

impl Checker<'_> {
    pub(super) fn run(&mut self) -> Option<Net> {
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
            self.calls = &item.calls;
            match &item.kind {
                ItemKind::Input { name, shape, range }
                | ItemKind::Target { name, shape, range } => {
                    let is_input = matches!(item.kind, ItemKind::Input { .. });
                    let what = if is_input { "an input" } else { "a target" };
                    let written = shape;
                    let shape = self.shape(shape, 3, what);
                    let range = match (range, &shape) {
                        (Some(r), Some(s)) => self.range(r, written, s, what),
                        _ => Some(None),
                    };
                    let (shape, range) = match (shape, range) {
                        (Some(s), Some(r)) => (Some(s), r),
                        _ => (None, None),
                    };
                    if shape.is_none() {
                        self.poisoned.insert(name.name.clone());
                    }
                    let decl = Decl {
                        name: name.name.clone(),
                        shape: shape.unwrap_or_default(),
                        range,
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
                    let shape = self.shape(shape, 4, "a parameter");
                    let shape = match shape {
                        Some(s) if s.is_empty() => {
                            let ItemKind::Param { shape: written, .. } = &item.kind else {
                                unreachable!()
                            };
                            self.error(
                                Diagnostic::error(written.span, format!("the parameter `{}` is a scalar", name.name))
                                    .label("`[]` is one number per sample, not a parameter")
                                    .help("a parameter is a vector `[n]`, a matrix `[n, m]` or a kernel `[k, c, r, s]`; write `[1]` for one number"),
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
            self.calls = &item.calls;
            match &item.kind {
                ItemKind::Binding {
                    name,
                    value,
                    output,
                } => {
                    self.binding = Some((name.name.clone(), None));
                    self.batch_norm = None;
                    self.value(*value);
                    self.binding = None;
                    self.bindings.push(Binding {
                        name: name.name.clone(),
                        value: *value,
                        output: *output,
                        docs: item.docs.clone(),
                        span: item.span,
                        calls: item.calls.clone(),
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
        self.calls = &[];
        let body_end = Span::new(network.span.end.saturating_sub(1), network.span.end);
        let loss = match loss {
            Some(l) => Some(l),
            None => {
                let d = Diagnostic::error(
                    network.name.span,
                    format!("the network `{}` has no loss", network.name.name),
                );
                // `los = sse(y, t)` parses, as a binding named `los`.
                let misspelt = network.items.iter().find_map(|item| match &item.kind {
                    ItemKind::Binding {
                        name,
                        output: false,
                        ..
                    } => crate::diagnostics::closest_of(&name.name, ["loss"].into_iter())
                        .map(|_| name),
                    _ => None,
                });
                self.error(match misspelt {
                    Some(name) => d
                        .also(
                            name.span,
                            format!("this binds a value named `{}`", name.name),
                        )
                        .help(format!(
                            "did you mean `loss`? write `loss = ...`, not `{} = ...`",
                            name.name
                        )),
                    None => d
                        .also(body_end, "add `loss = ...` before this brace")
                        .help("for example `loss = cross_entropy(y, t)` or `loss = sse(y, t)`"),
                });
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
        self.causal_only_in_softmax();
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
            statistics: std::mem::take(&mut self.statistics),
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

    pub(super) fn declare(&mut self, name: &ast::Ident, symbol: Symbol) {
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

    /// `causal(s)` is only the argument of `softmax` or `log_softmax`:
    /// directly, or through a binding used only there. (Its −∞ entries are
    /// meant to become exact zeros; anywhere else they would spread.)
    fn causal_only_in_softmax(&mut self) {
        let exprs = &self.network.exprs;
        let mut parent: Vec<Option<ExprId>> = vec![None; exprs.len()];
        for (id, e) in exprs.iter() {
            let children: Vec<ExprId> = match &e.kind {
                ExprKind::Neg(a) => vec![*a],
                ExprKind::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
                ExprKind::Call { args, .. } => args.iter().map(|a| a.value).collect(),
                ExprKind::Array(items) => items.clone(),
                ExprKind::Index { value, index } => {
                    let mut all = vec![*value];
                    all.extend(index.iter().copied());
                    all
                }
                ExprKind::Number(_) | ExprKind::Name(_) => vec![],
            };
            for c in children {
                parent[c.0 as usize] = Some(id);
            }
        }
        let in_softmax = |c: ExprId| {
            parent[c.0 as usize].is_some_and(|p| {
                matches!(
                    &self.meanings[p.0 as usize],
                    super::Meaning::Call(super::Builtin::Softmax | super::Builtin::LogSoftmax, args)
                        if args.first() == Some(&c)
                )
            })
        };
        let mut wrong = Vec::new();
        for (id, _) in exprs.iter() {
            if !matches!(
                self.meanings[id.0 as usize],
                super::Meaning::Call(super::Builtin::Causal, _)
            ) || in_softmax(id)
            {
                continue;
            }
            // Bound by name: every use of the name must be a softmax's argument.
            let binding = self
                .bindings
                .iter()
                .position(|b| b.value == id && !b.output);
            let uses: Vec<ExprId> = match binding {
                Some(b) => exprs
                    .iter()
                    .filter(|(u, _)| {
                        self.meanings[u.0 as usize] == super::Meaning::Symbol(Symbol::Binding(b))
                    })
                    .map(|(u, _)| u)
                    .collect(),
                None => Vec::new(),
            };
            let misuse = uses.iter().find(|u| !in_softmax(**u)).copied();
            if binding.is_none() || uses.is_empty() || misuse.is_some() {
                wrong.push((id, misuse.or(parent[id.0 as usize])));
            }
        }
        for (id, user) in wrong {
            let mut d = Diagnostic::error(
                exprs.get(id).span,
                "`causal` can only be the argument of `softmax` or `log_softmax`",
            )
            .help("write `softmax(causal(s))`: its −∞ entries become exact zeros there, and would spread anywhere else");
            if let Some(user) = user {
                d = d.also(exprs.get(user).span, "used here");
            }
            self.error(d);
        }
    }

    /// The error for an output that depends on a target: the caret on the
    /// name that brings the target in, and where that comes from.
    pub(super) fn target_use(&self, root: ExprId, output: &str) -> Diagnostic {
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
                ExprKind::Index { value, index } => {
                    stack.push(*value);
                    stack.extend(index.iter().copied());
                }
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

    /// The V of `in 0..V` after an input's or target's shape: a whole number
    /// of at least 1, from 0, on a shape of rank 0 or 1. `Some(None)`
    /// without a range; `None` after an error.
    fn range(
        &mut self,
        range: &ast::Range,
        written: &ast::Shape,
        shape: &[usize],
        what: &str,
    ) -> Option<Option<usize>> {
        let whole = |n: &ast::Number| n.value.fract() == 0.0 && !n.text.contains(['.', 'e', 'E']);
        if !whole(&range.start) || range.start.value != 0.0 {
            self.error(
                Diagnostic::error(
                    range.start.span,
                    format!(
                        "a range of indices starts at 0, not at `{}`",
                        range.start.text
                    ),
                )
                .label("indices count from 0, as embeddings do in PyTorch and Keras")
                .help(format!("write `in 0..{}`", range.end.text)),
            );
            return None;
        }
        if !whole(&range.end) || range.end.value < 1.0 || range.end.value > MAX_ELEMENTS as f64 {
            let why = if !whole(&range.end) {
                "the end of a range is a whole number".to_string()
            } else if range.end.value < 1.0 {
                "`0..0` holds no index: the end is at least 1".to_string()
            } else {
                format!("the largest end is {MAX_ELEMENTS} (2^28)")
            };
            self.error(
                Diagnostic::error(
                    range.end.span,
                    format!("invalid range `{}..{}`", range.start.text, range.end.text),
                )
                .label(why)
                .help("`in 0..V` holds the indices 0 to V − 1, e.g. `in 0..27` for 27 characters"),
            );
            return None;
        }
        if shape.len() > 1 {
            self.error(
                Diagnostic::error(written.span, format!("{what} of indices has rank 0 or 1"))
                    .label(format!("this shape has rank {}", shape.len()))
                    .also(range.span, "indices because of this range")
                    .help("one index per sample is `[]`, a sequence of them `[T]`"),
            );
            return None;
        }
        Some(Some(range.end.value as usize))
    }

    /// Converts a written shape; `max_rank` bounds its rank.
    pub(super) fn shape(
        &mut self,
        shape: &ast::Shape,
        max_rank: usize,
        what: &str,
    ) -> Option<Vec<usize>> {
        if let Some((_, name)) = shape.names.first() {
            self.error(
                Diagnostic::error(
                    name.span,
                    format!("the dimension `{}` is not a number", name.name),
                )
                .label("a shape is made of whole numbers")
                .help("a name in a shape is an argument of a block, given a number by each call"),
            );
            return None;
        }
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
}
