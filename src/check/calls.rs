//! Calls of built-in functions: arguments matched to parameters by position
//! or keyword, each function's shape rule, and `dense`, which declares its
//! layer's parameters.

use crate::diagnostics::{Diagnostic, Span};
use crate::lang::Type;
use crate::syntax::ast::{self, ExprId};

use super::{builtins, Builtin, Checker, Init, Meaning, Param, Symbol, MAX_ELEMENTS};

impl Checker<'_> {
    /// Matches positional and keyword arguments to parameter slots.
    pub(super) fn match_args(
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
                            let d = match crate::diagnostics::closest_of(
                                &key.name,
                                params.iter().copied(),
                            ) {
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

    /// `h = dense(x, m)` declares `h_w: [n, m]` (glorot) and `h_b: [m]`
    /// (zeros) and means `x @ h_w + h_b`.
    pub(super) fn dense(
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
        let (xt, target) = self.ty(x)?;
        self.numbers(&[x], "`dense`")?;
        let (rows, n) = match xt.shape[..] {
            [n] => (None, n),
            [t, n] => (Some(t), n),
            _ => {
                self.error(
                    Diagnostic::error(
                        self.network.exprs.get(x).span,
                        "`dense` takes a vector, or a matrix of rows",
                    )
                    .label(format!("this has shape {}", xt.shape_text()))
                    .help("`flatten(x)` makes an image a vector"),
                );
                return None;
            }
        };
        let [w, b] = self.layer(
            span,
            func,
            [
                (vec![n, width], Init::Glorot, "weights"),
                (vec![width], Init::Zeros, "biases"),
            ],
        )?;
        let shape = match rows {
            Some(t) => vec![t, width],
            None => vec![width],
        };
        Some((
            Meaning::Dense(x, w, b),
            Some(Type::new(shape, xt.batched)),
            target,
        ))
    }

    /// The parameters `h_w` and `h_b` that a layer (`dense`, `conv`) in the
    /// binding `h` declares, once per binding.
    fn layer(
        &mut self,
        span: Span,
        func: &ast::Ident,
        params: [(Vec<usize>, Init, &str); 2],
    ) -> Option<[usize; 2]> {
        let layer = func.name.as_str();
        let Some((binding, first)) = self.binding.clone() else {
            self.error(
                Diagnostic::error(span, format!("`{layer}` can only be used in a binding (`h = ...` or `output h = ...`)"))
                    .label("not in a binding")
                    .help(format!("the binding names its parameters (`h_w`, `h_b`): write `h = {layer}({})` and use `h`", if layer == "conv" { "x, k, size" } else { "x, m" })),
            );
            return None;
        };
        if let Some(first) = first {
            self.error(
                Diagnostic::error(func.span, format!("a second `{layer}` in the binding `{binding}`"))
                    .label(format!("second `{layer}`"))
                    .also(first, "the first one")
                    .help("give each layer its own binding: `h1 = dense(x, 50)`, then `h2 = dense(h1, 10)`"),
            );
            return None;
        }
        self.binding = Some((binding.clone(), Some(span)));
        if let Some((name, first)) = self.taken(&binding, &["w", "b"]) {
            self.error(
                Diagnostic::error(
                    func.span,
                    format!("`{layer}` in `{binding}` declares `{name}`, which is already defined"),
                )
                .label(format!("declares `{binding}_w` and `{binding}_b`"))
                .also(first, format!("`{name}` is defined here"))
                .help("rename the parameter or the binding"),
            );
            return None;
        }
        let kind = if layer == "conv" {
            "convolution"
        } else {
            "dense layer"
        };
        Some(params.map(|(shape, init, what)| {
            let suffix = if what == "biases" { "b" } else { "w" };
            let doc = format!("The {what} of the {kind} `{binding}`.");
            self.layer_param(format!("{binding}_{suffix}"), shape, init, doc, span)
        }))
    }

    /// The first of the names `{binding}_{suffix}` a layer would declare
    /// that is already defined, with where.
    pub(super) fn taken(&self, binding: &str, suffixes: &[&str]) -> Option<(String, Span)> {
        suffixes.iter().find_map(|suffix| {
            let name = format!("{binding}_{suffix}");
            self.names.get(&name).map(|(_, first)| (name, *first))
        })
    }

    /// Declares a parameter of a layer (`h_w`, `h_gain`), at its call.
    pub(super) fn layer_param(
        &mut self,
        name: String,
        shape: Vec<usize>,
        init: Init,
        doc: String,
        span: Span,
    ) -> usize {
        self.params.push(Param {
            name: name.clone(),
            shape,
            init,
            docs: vec![doc],
            span,
            name_span: span,
        });
        let index = self.params.len() - 1;
        self.declare(&ast::Ident { name, span }, Symbol::Param(index));
        index
    }

    /// `h = conv(x, k, size, stride, padding)` declares `h_w: [k, c, size,
    /// size]` (he) and `h_b: [k]` (zeros) and means
    /// `conv2d(x, h_w, stride, padding) + h_b`.
    pub(super) fn conv(
        &mut self,
        span: Span,
        func: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<(Meaning, Option<Type>, bool)> {
        let (
            Builtin::Conv {
                channels: k,
                size,
                stride,
                padding,
            },
            values,
            _,
        ) = self.call(span, func, args)?
        else {
            unreachable!("`conv` resolves to Builtin::Conv")
        };
        let x = values[0];
        let (xt, target) = self.ty(x)?;
        let x_span = self.network.exprs.get(x).span;
        let [c, h, w] = self.report(|d| builtins::image(&xt, "conv", x_span, d))?;
        let (oh, ow) = self.report(|d| {
            let oh = builtins::window_count(h, size, stride, padding, "height", span, d);
            let ow = builtins::window_count(w, size, stride, padding, "width", span, d);
            oh.zip(ow)
        })?;
        let [w, b] = self.layer(
            span,
            func,
            [
                (vec![k, c, size, size], Init::He, "kernel"),
                (vec![k], Init::Zeros, "biases"),
            ],
        )?;
        let ty = Type::new(vec![k, oh, ow], true);
        Some((Meaning::Conv(x, w, b, stride, padding), Some(ty), target))
    }

    /// A whole number argument known at compile time, at least `min`: a
    /// window's size, a stride, a padding, a number of channels.
    pub(super) fn count(
        &mut self,
        func: &ast::Ident,
        what: &str,
        id: ExprId,
        min: usize,
    ) -> Option<usize> {
        let span = self.network.exprs.get(id).span;
        let value = self.expect_constant(id, &format!("`{what}`"))?;
        if value.fract() != 0.0 || value < min as f64 || value > MAX_ELEMENTS as f64 {
            self.error(
                Diagnostic::error(
                    span,
                    format!(
                        "the `{what}` of `{}` must be a whole number of at least {min}",
                        func.name
                    ),
                )
                .label(format!("`{what}` = {value}")),
            );
            return None;
        }
        Some(value as usize)
    }

    pub(super) fn call(
        &mut self,
        span: Span,
        func: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<(Builtin, Vec<ExprId>, Vec<Span>)> {
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
        if sig.params.is_empty() {
            // `concat(a, b, ...)`: any number of values, by position.
            if let Some(key) = args.iter().find_map(|a| a.name.as_ref()) {
                self.error(
                    Diagnostic::error(
                        key.span,
                        format!("`{}` takes no keyword arguments", func.name),
                    )
                    .help(format!("`{}(a, b, ...)`", func.name)),
                );
                return None;
            }
            return Some((
                (sig.make)(&[]),
                args.iter().map(|a| a.value).collect(),
                Vec::new(),
            ));
        }
        let names: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
        let slots = self.match_args(func, args, &names)?;
        let mut values = Vec::new();
        let mut numbers = Vec::new();
        let mut spans = Vec::new();
        for (slot, p) in slots.iter().zip(sig.params.iter()) {
            if !matches!(p.default, builtins::Default::Tensor) {
                spans.push(slot.map_or(span, |a| self.network.exprs.get(a).span));
            }
            match (slot, p.default) {
                (Some(a), builtins::Default::Tensor) => values.push(*a),
                (Some(a), builtins::Default::Number(_)) => {
                    numbers.push(self.expect_constant(*a, &format!("`{}`", p.name))?)
                }
                (None, builtins::Default::Number(d)) => numbers.push(d),
                (Some(a), builtins::Default::Count { min, .. }) => {
                    numbers.push(self.count(func, p.name, *a, min)? as f64)
                }
                (
                    None,
                    builtins::Default::Count {
                        default: Some(d), ..
                    },
                ) if d != usize::MAX => numbers.push(d as f64),
                // The previous parameter's value (a pool's stride is its size).
                (None, builtins::Default::Count { default: None, .. }) => {
                    numbers.push(numbers.last().copied().unwrap_or(1.0))
                }
                // A required count, or a value.
                (None, builtins::Default::Count { .. } | builtins::Default::Tensor) => {
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
        Some(((sig.make)(&numbers), values, spans))
    }
}
