//! Numbers known at compile time: constant expressions, and the calls that
//! take only numbers, the initializers of parameters and the optimizer of
//! `train`.

use crate::diagnostics::{Diagnostic, Span};
use crate::lang::shape_text;
use crate::syntax::ast::{self, ExprId, ExprKind};

use super::{Checker, Init, Optimizer};

/// A function of numbers (an initializer, an optimizer): its name and its
/// parameters with their defaults (`None`: required).
pub type NumberSignature = (&'static str, &'static [(&'static str, Option<f64>)]);

/// The optimizers: their names and numbers.
pub const OPTIMIZERS: &[NumberSignature] = &[
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

/// The initializers: their names and numbers.
pub const INITS: &[NumberSignature] = &[
    ("zeros", &[]),
    ("ones", &[]),
    ("constant", &[("c", None)]),
    ("normal", &[("mean", Some(0.0)), ("std", Some(1.0))]),
    ("uniform", &[("lo", Some(0.0)), ("hi", Some(1.0))]),
    ("glorot", &[]),
    ("he", &[]),
];

impl Checker<'_> {
    /// A number written as a constant (`0.5`, `-0.7`, `(1e-3)`).
    pub(super) fn constant(&self, id: ExprId) -> Option<f64> {
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

    pub(super) fn expect_constant(&mut self, id: ExprId, what: &str) -> Option<f64> {
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
    pub(super) fn number_call(
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

    pub(super) fn init(&mut self, id: ExprId, shape: &[usize]) -> Option<Init> {
        if let ExprKind::Array(_) = self.network.exprs.get(id).kind {
            return self.literal_init(id, shape).map(Init::Literal);
        }
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
            "glorot" | "he" if shape.len() != 2 && shape.len() != 4 => {
                self.error(
                    Diagnostic::error(
                        span,
                        format!(
                            "`{name}` initializes matrices and kernels, and this parameter has shape {}",
                            shape_text(shape)
                        ),
                    )
                    .help(if shape.len() == 1 {
                        "use `zeros` or `normal(mean, std)` for a vector"
                    } else {
                        "use `zeros` or `normal(mean, std)`"
                    }),
                );
                return None;
            }
            "glorot" => Init::Glorot,
            _ => Init::He,
        };
        Some(init)
    }

    /// A literal array initializer, checked against the shape, row-major.
    pub(super) fn literal_init(&mut self, id: ExprId, shape: &[usize]) -> Option<Vec<f64>> {
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
            // Innermost axis first: up to four numbers, then up to three of
            // each enclosing level.
            let mut example = "0.0".to_string();
            for (axis, n) in shape.iter().enumerate().rev() {
                let most = if axis + 1 == shape.len() { 4 } else { 3 };
                example = format!("[{}]", vec![example; (*n).min(most)].join(", "));
            }
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

    pub(super) fn optimizer(&mut self, id: ExprId) -> Option<Optimizer> {
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
}
