//! The built-in functions: their signatures and shape rules, in one table.

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::lang::{Func, LossKind, Type};
use crate::syntax::ast::{ExprId, Exprs};

/// A resolved built-in function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Builtin {
    /// An elementwise function.
    Map(Func),
    /// softmax over a vector
    Softmax,
    /// log softmax over a vector
    LogSoftmax,
    /// `dense(x, m)`: x @ W + b with parameters declared by the binding
    Dense,
    /// Σ of all elements
    Sum,
    /// mean of all elements
    Mean,
    /// A per-sample loss of a prediction and a target.
    Loss(LossKind),
}

/// The default of a parameter of a built-in function.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// A value argument, required.
    Tensor,
    /// A number known at compile time, with its default.
    Number(f64),
}

/// One parameter of a built-in function.
#[derive(Debug, Clone, Copy)]
pub struct ParamSig {
    /// Its keyword.
    pub name: &'static str,
    /// Required value, or a number with a default.
    pub default: Default,
}

/// A built-in function's signature.
pub struct Signature {
    /// Parameters in positional order.
    pub params: &'static [ParamSig],
    /// Builds the resolved function from the number arguments.
    pub make: fn(&[f64]) -> Builtin,
}

const X: ParamSig = ParamSig {
    name: "x",
    default: Default::Tensor,
};
const YT: &[ParamSig] = &[
    ParamSig {
        name: "y",
        default: Default::Tensor,
    },
    ParamSig {
        name: "t",
        default: Default::Tensor,
    },
];

/// The signature of the function called `name`.
pub fn signature(name: &str) -> Option<Signature> {
    Some(match name {
        "leaky_relu" => Signature {
            params: &[
                X,
                ParamSig {
                    name: "slope",
                    default: Default::Number(0.01),
                },
            ],
            make: |n| Builtin::Map(Func::from_name("leaky_relu", n[0]).expect("a function")),
        },
        "softmax" => Signature {
            params: &[X],
            make: |_| Builtin::Softmax,
        },
        "log_softmax" => Signature {
            params: &[X],
            make: |_| Builtin::LogSoftmax,
        },
        "dense" => Signature {
            params: &[
                X,
                ParamSig {
                    name: "m",
                    default: Default::Number(f64::NAN),
                },
            ],
            make: |_| Builtin::Dense,
        },
        "sum" => Signature {
            params: &[X],
            make: |_| Builtin::Sum,
        },
        "mean" => Signature {
            params: &[X],
            make: |_| Builtin::Mean,
        },
        "sse" => Signature {
            params: YT,
            make: |_| Builtin::Loss(LossKind::Sse),
        },
        "cross_entropy" => Signature {
            params: YT,
            make: |_| Builtin::Loss(LossKind::CrossEntropy),
        },
        "mse" => Signature {
            params: YT,
            make: |_| Builtin::Loss(LossKind::Mse),
        },
        "binary_cross_entropy" => Signature {
            params: YT,
            make: |_| Builtin::Loss(LossKind::BinaryCrossEntropy),
        },
        other => {
            Func::from_name(other, 0.0)?;
            Signature {
                params: &[X],
                make: map_by_name(other),
            }
        }
    })
}

fn map_by_name(name: &str) -> fn(&[f64]) -> Builtin {
    macro_rules! by_name {
        ($($n:literal => $f:expr),*) => {
            match name { $($n => |_| Builtin::Map($f),)* _ => |_| Builtin::Map(Func::Step) }
        };
    }
    by_name!(
        "sigmoid" => Func::Sigmoid, "tanh" => Func::Tanh, "relu" => Func::Relu,
        "softplus" => Func::Softplus, "exp" => Func::Exp, "log" => Func::Log,
        "sqrt" => Func::Sqrt, "square" => Func::Square, "abs" => Func::Abs
    )
}

/// Every built-in function name.
pub fn names() -> impl Iterator<Item = &'static str> {
    Func::NAMES
        .into_iter()
        .chain(["softmax", "sum", "mean", "sse", "cross_entropy"])
}

/// Whether `name` is a built-in function (and so cannot name a value).
pub fn is_builtin_name(name: &str) -> bool {
    names().any(|n| n == name)
}

/// The built-in name closest to a misspelt one, if any is close.
pub fn closest(name: &str) -> Option<&'static str> {
    closest_of(name, names())
}

/// The candidate closest to a misspelt name, if any is close.
pub fn closest_of<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The type of a call, or an error where the arguments do not fit.
pub fn result_type(
    builtin: Builtin,
    args: &[Type],
    ids: &[ExprId],
    span: Span,
    exprs: &Exprs,
    diagnostics: &mut Diagnostics,
) -> Option<Type> {
    let arg_span = |i: usize| exprs.get(ids[i]).span;
    match builtin {
        Builtin::Map(_) => Some(args[0].clone()),
        Builtin::Dense => {
            unreachable!("dense is typed by the checker, which declares its parameters")
        }
        Builtin::Softmax | Builtin::LogSoftmax => {
            let name = if builtin == Builtin::Softmax {
                "softmax"
            } else {
                "log_softmax"
            };
            if args[0].shape.len() != 1 {
                diagnostics.push(
                    Diagnostic::error(arg_span(0), format!("`{name}` takes a vector"))
                        .help("softmax normalizes a vector to probabilities; of one number it is always 1 (use `sigmoid` for one probability)")
                        .label(format!("this has shape {}", args[0].shape_text())),
                );
                return None;
            }
            Some(args[0].clone())
        }
        Builtin::Sum | Builtin::Mean => Some(Type {
            shape: Vec::new(),
            batched: args[0].batched,
        }),
        Builtin::Loss(kind) => {
            if args[0].shape != args[1].shape {
                diagnostics.push(
                    Diagnostic::error(
                        span,
                        format!(
                            "`{}` needs a prediction and a target of the same shape",
                            kind.name()
                        ),
                    )
                    .also(arg_span(0), format!("shape {}", args[0].shape_text()))
                    .also(arg_span(1), format!("shape {}", args[1].shape_text())),
                );
                return None;
            }
            Some(Type {
                shape: Vec::new(),
                batched: args[0].batched || args[1].batched,
            })
        }
    }
}
