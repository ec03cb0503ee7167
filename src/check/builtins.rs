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
    /// `conv2d(x, W, stride, padding)`: cross-correlation of an image with a kernel
    Conv2d {
        /// The step between windows.
        stride: usize,
        /// Zeros added on every side.
        padding: usize,
    },
    /// `conv(x, k, size, stride, padding)`: conv2d + bias with parameters
    /// declared by the binding
    Conv {
        /// The output channels k.
        channels: usize,
        /// The window's side.
        size: usize,
        /// The step between windows.
        stride: usize,
        /// Zeros added on every side.
        padding: usize,
    },
    /// `max_pool(x, size, stride)`: the maximum of each window
    MaxPool {
        /// The window's side.
        size: usize,
        /// The step between windows.
        stride: usize,
    },
    /// `avg_pool(x, size, stride)`: the mean of each window
    AvgPool {
        /// The window's side.
        size: usize,
        /// The step between windows.
        stride: usize,
    },
    /// `flatten(x)`: the elements in row-major order, as a vector
    Flatten,
    /// `sum(x, axis = a)`: Σ along one axis of the sample, kept with length 1
    /// (the axis as written: it may count from the end)
    SumAxis(f64),
    /// `mean(x, axis = a)`: the mean along one axis, kept with length 1
    MeanAxis(f64),
    /// `transpose(x)`: a matrix's rows as columns
    Transpose,
    /// `causal(s)`: −∞ above the diagonal of a square matrix
    Causal,
    /// `concat(a, b, ...)`: values joined along their last axis
    Concat,
    /// `dropout(x, p)`: in training, each element kept with probability
    /// 1 − p and scaled by 1/(1 − p), else 0; in inference, `x`
    Dropout(f64),
}

/// The default of a parameter of a built-in function.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    /// A value argument, required.
    Tensor,
    /// A number known at compile time, with its default.
    Number(f64),
    /// A whole number known at compile time, at least `min`, with its
    /// default (`None`: the value of the previous parameter, as a pool's
    /// `stride` defaults to its `size`).
    Count {
        /// The smallest value allowed.
        min: usize,
        /// The default, if the argument may be left out.
        default: Option<usize>,
    },
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

const fn count(name: &'static str, min: usize, default: Option<usize>) -> ParamSig {
    ParamSig {
        name,
        default: Default::Count { min, default },
    }
}

/// `sum(x, axis = a)`, `mean(x, axis = a)`: without `axis` (NaN), over
/// every element.
const AXIS: &[ParamSig] = &[
    X,
    ParamSig {
        name: "axis",
        default: Default::Number(f64::NAN),
    },
];

/// A required whole number.
const REQUIRED: Option<usize> = Some(usize::MAX);

/// A pool's parameters: the window's side and the step, by default the side.
const POOL: &[ParamSig] = &[X, count("size", 1, REQUIRED), count("stride", 1, None)];

/// `conv2d(x, W, stride = 1, padding = 0)`
const CONV2D: &[ParamSig] = &[
    X,
    ParamSig {
        name: "W",
        default: Default::Tensor,
    },
    count("stride", 1, Some(1)),
    count("padding", 0, Some(0)),
];

/// `conv(x, k, size, stride = 1, padding = 0)`
const CONV: &[ParamSig] = &[
    X,
    count("k", 1, REQUIRED),
    count("size", 1, REQUIRED),
    count("stride", 1, Some(1)),
    count("padding", 0, Some(0)),
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
            params: AXIS,
            make: |n| {
                if n[0].is_nan() {
                    Builtin::Sum
                } else {
                    Builtin::SumAxis(n[0])
                }
            },
        },
        "mean" => Signature {
            params: AXIS,
            make: |n| {
                if n[0].is_nan() {
                    Builtin::Mean
                } else {
                    Builtin::MeanAxis(n[0])
                }
            },
        },
        "transpose" => Signature {
            params: &[X],
            make: |_| Builtin::Transpose,
        },
        "causal" => Signature {
            params: &[ParamSig {
                name: "s",
                default: Default::Tensor,
            }],
            make: |_| Builtin::Causal,
        },
        // Any number of values: the checker matches them itself.
        "concat" => Signature {
            params: &[],
            make: |_| Builtin::Concat,
        },
        "dropout" => Signature {
            params: &[
                X,
                ParamSig {
                    name: "p",
                    default: Default::Number(f64::NAN),
                },
            ],
            make: |n| Builtin::Dropout(n[0]),
        },
        "nll" => Signature {
            params: &[
                ParamSig {
                    name: "lp",
                    default: Default::Tensor,
                },
                ParamSig {
                    name: "t",
                    default: Default::Tensor,
                },
            ],
            make: |_| Builtin::Loss(LossKind::Nll),
        },
        "conv2d" => Signature {
            params: CONV2D,
            make: |n| Builtin::Conv2d {
                stride: n[0] as usize,
                padding: n[1] as usize,
            },
        },
        "conv" => Signature {
            params: CONV,
            make: |n| Builtin::Conv {
                channels: n[0] as usize,
                size: n[1] as usize,
                stride: n[2] as usize,
                padding: n[3] as usize,
            },
        },
        "max_pool" => Signature {
            params: POOL,
            make: |n| Builtin::MaxPool {
                size: n[0] as usize,
                stride: n[1] as usize,
            },
        },
        "avg_pool" => Signature {
            params: POOL,
            make: |n| Builtin::AvgPool {
                size: n[0] as usize,
                stride: n[1] as usize,
            },
        },
        "flatten" => Signature {
            params: &[X],
            make: |_| Builtin::Flatten,
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
        "sqrt" => Func::Sqrt, "square" => Func::Square, "abs" => Func::Abs,
        "gelu" => Func::Gelu
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

/// Every function that can be called: [`names`], which cannot name a value,
/// and the functions that came later (`dense`, the losses, version 2's
/// images), whose names stay free for values so that older files keep their
/// meaning.
pub fn callable() -> impl Iterator<Item = &'static str> {
    names().chain([
        "log_softmax",
        "dense",
        "mse",
        "binary_cross_entropy",
        "conv2d",
        "conv",
        "max_pool",
        "avg_pool",
        "flatten",
        "transpose",
        "concat",
        "causal",
        "gelu",
        "nll",
        "dropout",
        "batch_norm",
    ])
}

/// The built-in name closest to a misspelt one, if any is close.
pub fn closest(name: &str) -> Option<&'static str> {
    crate::diagnostics::closest_of(name, callable())
}

/// The type of a call, or an error where the arguments do not fit.
pub fn result_type(
    builtin: Builtin,
    args: &[Type],
    ids: &[ExprId],
    numbers: &[Span],
    span: Span,
    exprs: &Exprs,
    diagnostics: &mut Diagnostics,
) -> Option<Type> {
    let arg_span = |i: usize| exprs.get(ids[i]).span;
    let site = super::sequences::Site {
        args,
        ids,
        numbers,
        span,
        exprs,
    };
    match builtin {
        Builtin::Map(_) => Some(args[0].clone()),
        Builtin::Softmax
        | Builtin::LogSoftmax
        | Builtin::SumAxis(_)
        | Builtin::MeanAxis(_)
        | Builtin::Transpose
        | Builtin::Causal
        | Builtin::Concat
        | Builtin::Loss(_) => site.result(builtin, name(builtin), diagnostics),
        Builtin::Conv { .. } | Builtin::Dense => {
            unreachable!("the checker types dense and conv, which declare their parameters")
        }
        Builtin::Conv2d { stride, padding } => {
            let x = image(&args[0], "conv2d", arg_span(0), diagnostics)?;
            let (w, ws) = (&args[1], arg_span(1));
            let [k, c, r, s] = w.shape[..] else {
                diagnostics.push(
                    Diagnostic::error(ws, "the kernel of `conv2d` has rank 4: [k, c, r, s]")
                        .label(format!("this has shape {}", w.shape_text()))
                        .help("k output channels, c input channels, r × s windows"),
                );
                return None;
            };
            if w.batched {
                diagnostics.push(
                    Diagnostic::error(ws, "the kernel of `conv2d` differs from sample to sample")
                        .label("depends on an input or a target")
                        .help("a kernel is a parameter, the same for every sample"),
                );
                return None;
            }
            if c != x[0] {
                diagnostics.push(
                    Diagnostic::error(
                        span,
                        format!(
                            "`conv2d` of an image with {} channel{} by a kernel for {c}",
                            x[0],
                            if x[0] == 1 { "" } else { "s" }
                        ),
                    )
                    .also(arg_span(0), format!("shape {}", args[0].shape_text()))
                    .also(
                        ws,
                        format!("shape {}: [k, c, r, s] with c = {c}", w.shape_text()),
                    ),
                );
                return None;
            }
            let oh = window_count(x[1], r, stride, padding, "height", span, diagnostics)?;
            let ow = window_count(x[2], s, stride, padding, "width", span, diagnostics)?;
            Some(Type::new(vec![k, oh, ow], true))
        }
        Builtin::MaxPool { size, stride } | Builtin::AvgPool { size, stride } => {
            let what = name(builtin);
            let x = image(&args[0], what, arg_span(0), diagnostics)?;
            let oh = window_count(x[1], size, stride, 0, "height", span, diagnostics)?;
            let ow = window_count(x[2], size, stride, 0, "width", span, diagnostics)?;
            Some(Type::new(vec![x[0], oh, ow], true))
        }
        Builtin::Flatten => Some(Type::new(
            vec![args[0].shape.iter().product()],
            args[0].batched,
        )),
        Builtin::Sum | Builtin::Mean => Some(Type::new(Vec::new(), args[0].batched)),
        Builtin::Dropout(p) => {
            if p.is_nan() {
                diagnostics.push(
                    Diagnostic::error(span, "`dropout` needs the argument `p`").help(
                        "`dropout(x, p)`: each element dropped with probability p while training",
                    ),
                );
                return None;
            }
            if !(0.0..1.0).contains(&p) {
                diagnostics.push(
                    Diagnostic::error(
                        numbers[0],
                        format!("`dropout` drops each element with probability p, 0 ≤ p < 1: this is {p}"),
                    )
                    .label("outside [0, 1)")
                    .help("p = 0 keeps every element; p = 1 would drop them all and scale by 1/0"),
                );
                return None;
            }
            Some(args[0].clone())
        }
    }
}

/// The name of a call in messages.
fn name(builtin: Builtin) -> &'static str {
    match builtin {
        Builtin::Map(f) => f.name(),
        Builtin::Softmax => "softmax",
        Builtin::LogSoftmax => "log_softmax",
        Builtin::Dense => "dense",
        Builtin::Sum => "sum",
        Builtin::Mean => "mean",
        Builtin::Loss(kind) => kind.name(),
        Builtin::Conv2d { .. } => "conv2d",
        Builtin::Conv { .. } => "conv",
        Builtin::MaxPool { .. } => "max_pool",
        Builtin::AvgPool { .. } => "avg_pool",
        Builtin::Flatten => "flatten",
        Builtin::SumAxis(_) => "sum",
        Builtin::MeanAxis(_) => "mean",
        Builtin::Transpose => "transpose",
        Builtin::Causal => "causal",
        Builtin::Concat => "concat",
        Builtin::Dropout(_) => "dropout",
    }
}

/// The `[c, h, w]` of a per-sample image, or an error saying what it is.
pub(super) fn image(
    x: &Type,
    what: &str,
    span: Span,
    diagnostics: &mut Diagnostics,
) -> Option<[usize; 3]> {
    match (x.shape.as_slice(), x.batched) {
        (&[c, h, w], true) => Some([c, h, w]),
        ([_, _, _], false) => {
            diagnostics.push(
                Diagnostic::error(span, format!("`{what}` takes an image of each sample"))
                    .label("the same for every sample")
                    .help("the image comes from an `input`: `input img: [c, h, w]`"),
            );
            None
        }
        _ => {
            diagnostics.push(
                Diagnostic::error(span, format!("`{what}` takes an image [c, h, w]"))
                    .label(format!("this has shape {}", x.shape_text()))
                    .help("declare the input as channels, height, width: `input img: [1, 28, 28]`"),
            );
            None
        }
    }
}

/// How many windows of `size` fit along a side of `n` with `padding` on
/// each end, `stride` apart: (n + 2·padding − size) / stride + 1, which must
/// divide exactly.
pub(super) fn window_count(
    n: usize,
    size: usize,
    stride: usize,
    padding: usize,
    side: &str,
    span: Span,
    diagnostics: &mut Diagnostics,
) -> Option<usize> {
    let padded = n + 2 * padding;
    let formula = if padding == 0 {
        format!("{n}")
    } else {
        format!("{n} + 2·{padding}")
    };
    if size > padded {
        diagnostics.push(
            Diagnostic::error(
                span,
                format!("the window ({size}) is larger than the {side} of the image ({formula})"),
            )
            .help("use a smaller window, or pad the image"),
        );
        return None;
    }
    let span_of_windows = padded - size;
    if !span_of_windows.is_multiple_of(stride) {
        diagnostics.push(
            Diagnostic::error(
                span,
                format!("the windows do not tile the {side}: ({formula} − {size}) / {stride} is not a whole number"),
            )
            .label(format!(
                "{span_of_windows} is not a multiple of the stride {stride}"
            ))
            .help(format!(
                "choose a padding or stride so that ({side} + 2·padding − size) divides by the stride"
            )),
        );
        return None;
    }
    Some(span_of_windows / stride + 1)
}
