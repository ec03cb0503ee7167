//! The shape rules of version 3's functions on sequences: softmax of each row,
//! sums and means along an axis, `transpose`, `causal`, `concat`, and the
//! losses on values of any rank, with index targets for `cross_entropy` and
//! `nll`. Each error is in the user's terms, at the argument it is about.

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::lang::{shape_text, Type};
use crate::syntax::ast::{ExprId, Exprs};

use super::Builtin;

/// A call being typed: its arguments' types and where everything is.
pub(super) struct Site<'a> {
    /// The value arguments' types.
    pub args: &'a [Type],
    /// The value arguments.
    pub ids: &'a [ExprId],
    /// Where each number argument is (the call, for a default).
    pub numbers: &'a [Span],
    /// The call.
    pub span: Span,
    /// The network's expressions.
    pub exprs: &'a Exprs,
}

impl Site<'_> {
    fn at(&self, i: usize) -> Span {
        self.exprs.get(self.ids[i]).span
    }

    fn batched(&self) -> bool {
        self.args.iter().any(|a| a.batched)
    }

    /// The type of a call of one of this file's functions (`name` as
    /// written), or the error.
    pub fn result(&self, builtin: Builtin, name: &str, d: &mut Diagnostics) -> Option<Type> {
        let x = self.args.first();
        match builtin {
            Builtin::Softmax | Builtin::LogSoftmax => {
                let x = x?;
                if x.shape.is_empty() || x.shape.len() > 2 {
                    let help = if x.shape.is_empty() {
                        "softmax normalizes a vector to probabilities; of one number it is always 1 (use `sigmoid` for one probability)"
                    } else {
                        "softmax normalizes a vector, or each row of a matrix; `flatten(x)` makes an image a vector"
                    };
                    d.push(
                        Diagnostic::error(
                            self.at(0),
                            format!("`{name}` takes a vector or a matrix of rows"),
                        )
                        .label(format!("this has shape {}", x.shape_text()))
                        .help(help),
                    );
                    return None;
                }
                Some(Type::new(x.shape.clone(), x.batched))
            }
            Builtin::SumAxis(axis) | Builtin::MeanAxis(axis) => {
                let x = x?;
                let k = self.axis(axis, x, name, d)?;
                let mut shape = x.shape.clone();
                shape[k] = 1;
                Some(Type::new(shape, x.batched))
            }
            Builtin::Transpose => {
                let x = x?;
                if x.shape.len() != 2 {
                    let help = match x.shape.len() {
                        0 | 1 => "a vector is neither a row nor a column here: `x @ W` and `W @ x` already take it either way",
                        _ => "`transpose` swaps the rows and columns of a matrix [m, n]",
                    };
                    d.push(
                        Diagnostic::error(self.at(0), "`transpose` takes a matrix")
                            .label(format!("this has shape {}", x.shape_text()))
                            .help(help),
                    );
                    return None;
                }
                Some(Type::new(vec![x.shape[1], x.shape[0]], x.batched))
            }
            Builtin::Causal => {
                let x = x?;
                match x.shape.as_slice() {
                    [m, n] if m == n => Some(Type::new(x.shape.clone(), x.batched)),
                    _ => {
                        d.push(
                            Diagnostic::error(self.at(0), "`causal` takes a square matrix [T, T]")
                                .label(format!("this has shape {}", x.shape_text()))
                                .help("`causal(q @ transpose(k))` masks the scores of T positions against the same T positions"),
                        );
                        None
                    }
                }
            }
            Builtin::Concat => self.concat(d),
            Builtin::Loss(kind) => {
                let (y, t) = (&self.args[0], &self.args[1]);
                if let Some(range) = t.range {
                    let last = y.shape.last().copied();
                    if y.shape.is_empty() || t.shape[..] != y.shape[..y.shape.len() - 1] {
                        let rows = &y.shape[..y.shape.len().saturating_sub(1)];
                        d.push(
                            Diagnostic::error(
                                self.span,
                                format!("`{name}` with indices as the target needs one index per row of the prediction"),
                            )
                            .also(self.at(0), format!("shape {}: {}", y.shape_text(), match y.shape.len() {
                                0 => "a scalar, with no probabilities to choose from".to_string(),
                                1 => "one vector of probabilities, for an index of shape []".to_string(),
                                _ => format!("rows {}, for indices of shape {}", shape_text(rows), shape_text(rows)),
                            }))
                            .also(self.at(1), format!("indices of shape {}", t.shape_text())),
                        );
                        return None;
                    }
                    if last != Some(range) {
                        d.push(
                            Diagnostic::error(
                                self.at(1),
                                format!(
                                    "the target's indices are in 0..{range}, but the prediction has {} classes",
                                    last.unwrap_or(0)
                                ),
                            )
                            .label(format!("in 0..{range}"))
                            .also(self.at(0), format!("shape {}: its last dimension is the classes", y.shape_text()))
                            .help(format!("an index target needs one probability per index: a prediction of {range} classes")),
                        );
                        return None;
                    }
                } else if y.shape != t.shape {
                    d.push(
                        Diagnostic::error(
                            self.span,
                            format!(
                                "`{}` needs a prediction and a target of the same shape",
                                kind.name()
                            ),
                        )
                        .also(self.at(0), format!("shape {}", y.shape_text()))
                        .also(self.at(1), format!("shape {}", t.shape_text())),
                    );
                    return None;
                }
                Some(Type::new(Vec::new(), self.batched()))
            }
            _ => unreachable!("not a function of sequences"),
        }
    }

    /// The axis of `sum`/`mean` as a position in `x`'s shape.
    fn axis(&self, axis: f64, x: &Type, name: &str, d: &mut Diagnostics) -> Option<usize> {
        let at = self.numbers.first().copied().unwrap_or(self.span);
        let rank = x.shape.len();
        if axis.fract() != 0.0 {
            d.push(
                Diagnostic::error(at, format!("the axis of `{name}` is a whole number"))
                    .label(format!("axis = {axis}")),
            );
            return None;
        }
        if rank == 0 {
            d.push(
                Diagnostic::error(at, format!("`{name}` along an axis of a scalar"))
                    .also(self.at(0), "shape []: it has no axis")
                    .help(format!("drop `axis`: `{name}(x)`")),
            );
            return None;
        }
        let r = rank as f64;
        if axis < -r || axis >= r {
            let axes = if rank == 1 {
                "its only axis is 0 (or −1)".to_string()
            } else {
                format!(
                    "its axes are 0 to {} (or −{rank} to −1 from the end)",
                    rank - 1
                )
            };
            d.push(
                Diagnostic::error(at, format!("axis {axis} is out of range"))
                    .label(format!("a value of rank {rank}: {axes}"))
                    .also(self.at(0), format!("shape {}", x.shape_text()))
                    .help("the axes are those of one sample: the batch is never an axis"),
            );
            return None;
        }
        Some(if axis < 0.0 {
            rank - (-axis) as usize
        } else {
            axis as usize
        })
    }

    /// `concat(a, b, ...)`: two or more values of rank 1 or 2 with the same
    /// leading axes, joined along the last.
    fn concat(&self, d: &mut Diagnostics) -> Option<Type> {
        if self.args.len() < 2 {
            d.push(
                Diagnostic::error(self.span, "`concat` joins two or more values")
                    .label(format!("{} given", self.args.len()))
                    .help("`concat(a, b)` joins a and b along their last axis; of one value it is the value itself"),
            );
            return None;
        }
        let first = &self.args[0];
        for (i, a) in self.args.iter().enumerate() {
            if a.shape.is_empty() || a.shape.len() > 2 {
                d.push(
                    Diagnostic::error(self.at(i), "`concat` joins vectors or matrices")
                        .label(format!("this has shape {}", a.shape_text()))
                        .help("values of rank 1 ([n]) or 2 ([T, n]), joined along the last axis"),
                );
                return None;
            }
            let leading = |t: &Type| t.shape[..t.shape.len() - 1].to_vec();
            if a.shape.len() != first.shape.len() || leading(a) != leading(first) {
                let what = if first.shape.len() == 2 && a.shape.len() == 2 {
                    format!("rows: {} against {}", first.shape[0], a.shape[0])
                } else {
                    "ranks".to_string()
                };
                d.push(
                    Diagnostic::error(self.at(i), format!("`concat` of mismatched {what}"))
                        .label(format!("shape {}", a.shape_text()))
                        .also(self.at(0), format!("shape {}", first.shape_text()))
                        .help("the values are joined along their last axis: every other axis must agree"),
                );
                return None;
            }
        }
        let mut shape = first.shape.clone();
        let last = shape.len() - 1;
        shape[last] = self.args.iter().map(|a| a.shape[last]).sum();
        Some(Type::new(shape, self.batched()))
    }
}
