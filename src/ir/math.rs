//! The graph in math notation, for comments in generated code and for
//! `denpa explain`: Unicode for terminals, LaTeX for Markdown.
//!
//! A caller decides which nodes are written by name (a `let`, a binding, a
//! shared product "A") through `label`; every other node is written out in
//! place from its arguments.

use super::{Graph, NodeId, Op};
use crate::lang::Func;

/// Which notation to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// `δ ⊙ y(1 − y)`, `hᵀ·A`
    Unicode,
    /// `\delta \odot y(1 - y)`, `h^\top A`, for Markdown with `$...$`.
    Latex,
}

impl Notation {
    fn pick(self, unicode: &'static str, latex: &'static str) -> &'static str {
        match self {
            Notation::Unicode => unicode,
            Notation::Latex => latex,
        }
    }

    /// −
    pub fn minus(self) -> &'static str {
        self.pick("−", "-")
    }

    /// The name of a variable: `W1` stays `W1` in Unicode and becomes
    /// `W_{1}` in LaTeX; `z_h` becomes `z_{h}`.
    pub fn name(self, name: &str) -> String {
        match self {
            Notation::Unicode => name.to_string(),
            Notation::Latex => {
                let (head, tail) = match name.split_once('_') {
                    Some((h, t)) => (h.to_string(), Some(t.replace('_', r"\_"))),
                    None => {
                        let split = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
                        if split > 0 && split < name.len() {
                            (name[..split].to_string(), Some(name[split..].to_string()))
                        } else {
                            (name.to_string(), None)
                        }
                    }
                };
                let head = if head.chars().count() > 1 {
                    format!(r"\mathrm{{{head}}}")
                } else {
                    head
                };
                match tail {
                    Some(t) => format!("{head}_{{{t}}}"),
                    None => head,
                }
            }
        }
    }

    /// ∂a/∂b
    pub fn partial(self, a: &str, b: &str) -> String {
        match self {
            Notation::Unicode => format!("∂{a}/∂{b}"),
            Notation::Latex => format!(r"\frac{{\partial {a}}}{{\partial {b}}}"),
        }
    }

    /// A number as people write it: `1`, `0.5`, `−0.7`.
    pub fn number(self, value: f64) -> String {
        if value < 0.0 {
            format!("{}{}", self.minus(), -value)
        } else {
            format!("{value}")
        }
    }
}

/// Writes nodes of one graph in one notation.
pub struct Writer<'a> {
    g: &'a Graph,
    notation: Notation,
    label: &'a dyn Fn(NodeId) -> Option<String>,
    per_sample: bool,
    depth: std::cell::Cell<usize>,
}

/// How deeply a formula is written out before it is elided.
pub const MAX_DEPTH: usize = 24;

impl<'a> Writer<'a> {
    /// A writer that names the nodes `label` names and writes out the rest.
    pub fn new(
        g: &'a Graph,
        notation: Notation,
        label: &'a dyn Fn(NodeId) -> Option<String>,
    ) -> Self {
        Writer {
            g,
            notation,
            label,
            per_sample: false,
            depth: std::cell::Cell::new(0),
        }
    }

    /// Writes sums over the batch as their summand: the view of one sample.
    pub fn per_sample(mut self) -> Self {
        self.per_sample = true;
        self
    }

    /// The name the writer gives a node, if it names it.
    pub fn label(&self, id: NodeId) -> Option<String> {
        (self.label)(id)
    }

    /// A node in math notation: its formula (even when it has a name).
    pub fn formula(&self, id: NodeId) -> String {
        self.depth.set(0);
        self.write(id, true)
    }

    fn write(&self, id: NodeId, top: bool) -> String {
        let n = self.g.node(id);
        let nt = self.notation;
        if !top {
            if let Some(name) = (self.label)(id) {
                return name;
            }
        }
        // A formula written out deeper than this is elided: the recursion
        // stays bounded whatever the network.
        if self.depth.get() >= MAX_DEPTH {
            return "…".into();
        }
        self.depth.set(self.depth.get() + 1);
        let text = self.write_op(id, n, nt);
        self.depth.set(self.depth.get() - 1);
        text
    }

    fn write_op(&self, id: NodeId, n: &super::Node, nt: Notation) -> String {
        let plain = |k: usize| self.write(n.args[k], false);
        let arg = |k: usize| self.operand(n.args[k]);
        let s = |u, l| nt.pick(u, l);
        match n.op {
            Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::Statistic(_) => {
                (self.label)(id).unwrap_or_else(|| "?".into())
            }
            // The mean over the batch (b), and the rows (t) or pixels (i, j).
            Op::BatchStat { .. } => {
                let over = match self.g.node(n.args[0]).ty.shape.len() {
                    3 => "b,i,j",
                    2 => "b,t",
                    _ => "b",
                };
                match nt {
                    Notation::Unicode => format!("mean_{{{over}}}({})", plain(0)),
                    Notation::Latex => {
                        format!(r"\operatorname{{mean}}_{{{over}}}\left({}\right)", plain(0))
                    }
                }
            }
            Op::Const(c) => nt.number(c),
            Op::BatchSize => "N".into(),
            // 1/(1 − p) with probability 1 − p, else 0
            Op::DropoutMask { p, .. } => {
                format!("{}(p = {})", s("mask", r"\mathrm{mask}"), nt.number(p))
            }
            Op::Add => format!("{} + {}", plain(0), plain(1)),
            Op::Sub => format!("{} {} {}", plain(0), nt.minus(), arg(1)),
            Op::Mul => {
                let scalar =
                    self.g.node(n.args[0]).ty.is_scalar() || self.g.node(n.args[1]).ty.is_scalar();
                let op = if scalar {
                    s("·", r"\cdot")
                } else {
                    s("⊙", r"\odot")
                };
                format!("{} {op} {}", arg(0), arg(1))
            }
            Op::Div => match nt {
                Notation::Unicode => format!("{} / {}", arg(0), arg(1)),
                Notation::Latex => format!(r"\frac{{{}}}{{{}}}", plain(0), plain(1)),
            },
            Op::Neg => format!("{}{}", nt.minus(), arg(0)),
            Op::Map(f) => func(f, &plain(0), nt),
            Op::Deriv(f) => derivative(f, &arg(0), &arg(1), nt),
            Op::MatMul { ta, tb } => {
                let t = |b: bool| if b { s("ᵀ", r"^\top") } else { "" };
                format!("{}{}{}{}{}", arg(0), t(ta), s("·", r" \, "), arg(1), t(tb))
            }
            Op::Outer => format!("{} {} {}", arg(0), s("⊗", r"\otimes"), arg(1)),
            Op::Softmax => format!("{}({})", s("softmax", r"\operatorname{softmax}"), plain(0)),
            Op::LogSoftmax => format!(
                "{}({})",
                s("log_softmax", r"\log\operatorname{softmax}"),
                plain(0)
            ),
            Op::Sum => format!("{} {}", s("Σ", r"\sum"), arg(0)),
            Op::Mean => format!("{}({})", s("mean", r"\operatorname{mean}"), plain(0)),
            Op::Loss(kind) => format!(
                "{}({}, {})",
                function_name(kind.name(), nt),
                plain(0),
                plain(1)
            ),
            // A fused loss, written as the two functions it fuses.
            Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy => {
                let (loss, inner) = match n.op {
                    Op::SoftmaxCrossEntropy => {
                        ("cross_entropy", s("softmax", r"\operatorname{softmax}"))
                    }
                    _ => ("binary_cross_entropy", s("σ", r"\sigma")),
                };
                format!(
                    "{}({inner}({}), {})",
                    function_name(loss, nt),
                    plain(0),
                    plain(1)
                )
            }
            Op::Reduce if self.per_sample && self.g.node(n.args[0]).ty.shape == n.ty.shape => {
                self.write(n.args[0], false)
            }
            Op::Reduce => {
                let from = &self.g.node(n.args[0]).ty;
                let over_batch = from.batched && !n.ty.batched;
                // The per-sample axes summed, by letter: each channel's
                // image (i, j), a matrix's rows (i) or each row's columns (j).
                let rank = from.shape.len();
                let kept = crate::lang::aligned(&n.ty.shape, rank);
                let summed: String = (0..rank)
                    .filter(|&a| kept[a] == 1 && from.shape[a] != 1)
                    .map(|a| match (rank, a) {
                        (3, 1) => 'i',
                        (3, 2) => 'j',
                        (_, a) if a + 1 == rank => 'j',
                        _ => 'i',
                    })
                    .collect();
                let mut sums = Vec::new();
                if over_batch {
                    sums.push(s("Σ_b", r"\sum_b").to_string());
                }
                if !summed.is_empty() {
                    sums.push(match nt {
                        Notation::Unicode => format!("Σ_{summed}"),
                        Notation::Latex if summed.len() > 1 => {
                            let letters: Vec<String> = summed.chars().map(String::from).collect();
                            format!(r"\sum_{{{}}}", letters.join(","))
                        }
                        Notation::Latex => format!(r"\sum_{summed}"),
                    });
                }
                if sums.is_empty() {
                    sums.push(s("Σ", r"\sum").to_string());
                }
                format!("{} {}", sums.join(" "), arg(0))
            }
            Op::Broadcast => plain(0),
            Op::Conv2d(_) => format!("{} {} {}", arg(0), s("⋆", r"\star"), arg(1)),
            Op::ConvKernelGrad(_) => format!("{} {} {}", arg(0), s("⋆", r"\star"), arg(1)),
            Op::ConvInputGrad(_) => format!(
                "{}({}, {})",
                function_name("conv_transpose", nt),
                plain(0),
                plain(1)
            ),
            Op::MaxPool(_) => format!("{}({})", function_name("max_pool", nt), plain(0)),
            Op::AvgPool(_) => format!("{}({})", function_name("avg_pool", nt), plain(0)),
            Op::MaxPoolGrad(_) => format!(
                "{}({}, {})",
                function_name("route_to_max", nt),
                plain(0),
                plain(1)
            ),
            Op::AvgPoolGrad(_) => format!("{}({})", function_name("spread", nt), plain(0)),
            Op::Reshape if n.ty.shape.len() == 1 => {
                format!("{}({})", function_name("flatten", nt), plain(0))
            }
            Op::Reshape => format!("{}({})", function_name("unflatten", nt), plain(0)),
            Op::BatchMean => format!("{} {}", s("(1/N) Σ_b", r"\frac{1}{N} \sum_b"), arg(0)),
            Op::Gather => format!("{}[{}]", arg(0), plain(1)),
            // The rows of δ added into the rows they were read from: a
            // product with the one-hot matrix of the indices.
            Op::ScatterAdd => {
                let over_batch =
                    self.g.node(n.args[1]).ty.batched && !n.ty.batched && !self.per_sample;
                format!(
                    "{}{}{}{}",
                    if over_batch {
                        s("Σ_b ", r"\sum_b ")
                    } else {
                        ""
                    },
                    func_call("onehot", &plain(0), nt),
                    s("ᵀ·", r"^\top \, "),
                    arg(1)
                )
            }
            Op::Row(k) => format!("{}[{k}]", arg(0)),
            Op::PlaceRow(k) => format!("{}({}, {k})", function_name("place_row", nt), plain(0)),
            Op::Transpose => format!("{}{}", arg(0), s("ᵀ", r"^\top")),
            Op::BatchMatMul { ta, tb } => {
                let t = |b: bool| if b { s("ᵀ", r"^\top") } else { "" };
                let over_batch =
                    self.g.node(n.args[0]).ty.batched && !n.ty.batched && !self.per_sample;
                format!(
                    "{}{}{}{}{}{}",
                    if over_batch {
                        s("Σ_b ", r"\sum_b ")
                    } else {
                        ""
                    },
                    arg(0),
                    t(ta),
                    s("·", r" \, "),
                    arg(1),
                    t(tb)
                )
            }
            Op::BatchOuter => format!("{} {} {}", arg(0), s("⊗", r"\otimes"), arg(1)),
            Op::SumAxis(k) => {
                let j = axis_letter(k, self.g.node(n.args[0]).ty.shape.len());
                match nt {
                    Notation::Unicode => format!("Σ_{j} {}", arg(0)),
                    Notation::Latex => format!(r"\sum_{j} {}", arg(0)),
                }
            }
            Op::MeanAxis(k) => {
                let j = axis_letter(k, self.g.node(n.args[0]).ty.shape.len());
                match nt {
                    Notation::Unicode => format!("mean_{j}({})", plain(0)),
                    Notation::Latex => format!(r"\operatorname{{mean}}_{j}({})", plain(0)),
                }
            }
            Op::Causal => func_call("causal", &plain(0), nt),
            // Lower triangle: 0 above the diagonal.
            Op::CausalMask => func_call("tril", &plain(0), nt),
            Op::Concat => {
                let parts: Vec<String> = (0..n.args.len()).map(plain).collect();
                func_call("concat", &parts.join(", "), nt)
            }
            Op::Slice { start, len } => {
                let cols = format!("{start}..{}", start + len);
                if n.ty.shape.len() >= 2 {
                    format!("{}[:, {cols}]", arg(0))
                } else {
                    format!("{}[{cols}]", arg(0))
                }
            }
            Op::OneHot => func_call("onehot", &plain(0), nt),
        }
    }

    /// An argument, parenthesized unless it is a name or a call.
    fn operand(&self, id: NodeId) -> String {
        let text = self.write(id, false);
        let n = self.g.node(id);
        let atomic = (self.label)(id).is_some()
            || matches!(
                n.op,
                Op::Input(_)
                    | Op::Target(_)
                    | Op::Param(_)
                    | Op::Const(_)
                    | Op::BatchSize
                    | Op::Map(_)
                    | Op::Deriv(_)
                    | Op::Broadcast
                    | Op::Softmax
                    | Op::LogSoftmax
                    | Op::Mean
                    | Op::Gather
                    | Op::Row(_)
                    | Op::Transpose
                    | Op::MeanAxis(_)
                    | Op::Causal
                    | Op::CausalMask
                    | Op::Concat
                    | Op::Slice { .. }
                    | Op::OneHot
                    | Op::PlaceRow(_)
            );
        if atomic || (n.op == Op::Const(0.0)) {
            text
        } else {
            match self.notation {
                Notation::Unicode => format!("({text})"),
                Notation::Latex => format!(r"\left({text}\right)"),
            }
        }
    }
}

/// `name(args)` in the notation.
fn func_call(name: &str, args: &str, nt: Notation) -> String {
    format!("{}({args})", function_name(name, nt))
}

/// The letter of an axis in sums along it: `j` for a row's columns (the
/// last axis), `i` for the rows of a matrix.
fn axis_letter(axis: usize, rank: usize) -> &'static str {
    if axis + 1 == rank {
        "j"
    } else {
        "i"
    }
}

fn function_name(name: &str, nt: Notation) -> String {
    match nt {
        Notation::Unicode => name.to_string(),
        Notation::Latex => format!(r"\operatorname{{{}}}", name.replace('_', r"\_")),
    }
}

/// f(x) in the notation.
pub fn func(f: Func, x: &str, nt: Notation) -> String {
    let latex = nt == Notation::Latex;
    match f {
        Func::Sigmoid if latex => format!(r"\sigma({x})"),
        Func::Sigmoid => format!("σ({x})"),
        Func::Tanh if latex => format!(r"\tanh({x})"),
        Func::Exp if latex => format!("e^{{{x}}}"),
        Func::Log if latex => format!(r"\ln({x})"),
        Func::Log => format!("ln({x})"),
        Func::Sqrt if latex => format!(r"\sqrt{{{x}}}"),
        Func::Sqrt => format!("√({x})"),
        Func::Square if latex => format!(r"\left({x}\right)^2"),
        Func::Square => format!("({x})²"),
        Func::Abs if latex => format!(r"\lvert {x} \rvert"),
        Func::Abs => format!("|{x}|"),
        _ => format!("{}({x})", function_name(f.name(), nt)),
    }
}

/// f′ in the notation, in terms of the input `x` and the output `y`.
pub fn derivative(f: Func, x: &str, y: &str, nt: Notation) -> String {
    let m = nt.minus();
    let latex = nt == Notation::Latex;
    match f {
        Func::Sigmoid => format!("{y}(1 {m} {y})"),
        Func::Tanh if latex => format!("(1 {m} {y}^2)"),
        Func::Tanh => format!("(1 {m} {y}²)"),
        Func::Relu => format!("[{y} > 0]"),
        Func::LeakyRelu(bits) => {
            let slope = nt.number(f64::from_bits(bits));
            if latex {
                format!(r"([{x} > 0] + {slope} \cdot [{x} \le 0])")
            } else {
                format!("([{x} > 0] + {slope}·[{x} ≤ 0])")
            }
        }
        Func::Softplus => func(Func::Sigmoid, x, nt),
        Func::Exp => y.to_string(),
        Func::Log if latex => format!(r"\frac{{1}}{{{x}}}"),
        Func::Log => format!("1/{x}"),
        Func::Sqrt if latex => format!(r"\frac{{1}}{{2{y}}}"),
        Func::Sqrt => format!("1/(2{y})"),
        Func::Square => format!("2{x}"),
        Func::Abs => format!("sign({x})"),
        Func::Step => "0".to_string(),
        Func::Gelu if latex => format!(r"(\Phi({x}) + {x} \varphi({x}))"),
        Func::Gelu => format!("(Φ({x}) + {x}·φ({x}))"),
    }
}

/// The index form of a window op, for the comment of its statement:
/// `y[k, i, j] = Σ_c Σ_r Σ_s W[k, c, r, s] · x[c, i + r, j + s]`, with the
/// names of the node and its arguments. `None` for every other op.
pub fn index_form(g: &Graph, id: NodeId, name: &dyn Fn(NodeId) -> String) -> Option<String> {
    let n = g.node(id);
    if let Some(form) = sequence_index_form(g, id, name) {
        return Some(form);
    }
    if n.op.window().is_none() && n.op != Op::Reshape {
        return None;
    }
    let (y, a) = (name(id), name(n.args[0]));
    let b = || name(n.args[1]);
    // x's row and column read by output (i, j) and window offset (r, s).
    let at = |i: &str, r: &str, stride: usize, padding: usize| {
        let i = if stride == 1 {
            i.to_string()
        } else {
            format!("{stride}{i}")
        };
        if padding == 0 {
            format!("{i} + {r}")
        } else {
            format!("{i} + {r} − {padding}")
        }
    };
    Some(match n.op {
        Op::Conv2d(w) => format!(
            "{y}[k, i, j] = Σ_c Σ_r Σ_s {}[k, c, r, s] · {a}[c, {}, {}]",
            b(),
            at("i", "r", w.stride, w.padding),
            at("j", "s", w.stride, w.padding)
        ),
        Op::ConvInputGrad(w) => {
            let back = |u: &str, r: &str| {
                let shifted = if w.padding == 0 {
                    format!("{u} − {r}")
                } else {
                    format!("{u} − {r} + {}", w.padding)
                };
                if w.stride == 1 {
                    shifted
                } else {
                    format!("({shifted})/{}", w.stride)
                }
            };
            let whole = if w.stride == 1 {
                ""
            } else {
                " (where the index is whole)"
            };
            format!(
                "{y}[c, i, j] = Σ_k Σ_r Σ_s {}[k, c, r, s] · {a}[k, {}, {}]{whole}",
                b(),
                back("i", "r"),
                back("j", "s")
            )
        }
        Op::ConvKernelGrad(w) => format!(
            "{y}[k, c, r, s] = Σ_b Σ_i Σ_j {}[b, k, i, j] · {a}[b, c, {}, {}]",
            b(),
            at("i", "r", w.stride, w.padding),
            at("j", "s", w.stride, w.padding)
        ),
        Op::MaxPool(w) => format!(
            "{y}[c, i, j] = max over r, s < {} of {a}[c, {}, {}]",
            w.size,
            at("i", "r", w.stride, 0),
            at("j", "s", w.stride, 0)
        ),
        Op::AvgPool(w) => format!(
            "{y}[c, i, j] = (1/{}) Σ_r Σ_s {a}[c, {}, {}]",
            w.size * w.size,
            at("i", "r", w.stride, 0),
            at("j", "s", w.stride, 0)
        ),
        Op::MaxPoolGrad(w) => format!(
            "{y}[c, u, v] = Σ {}[c, i, j] over the {}×{} windows (i, j) whose first maximum in {a} is at (u, v)",
            b(),
            w.size,
            w.size
        ),
        Op::AvgPoolGrad(w) => format!(
            "{y}[c, u, v] = (1/{}) Σ {a}[c, i, j] over the {}×{} windows (i, j) that hold (u, v)",
            w.size * w.size,
            w.size,
            w.size
        ),
        Op::Reshape => match (g.node(n.args[0]).ty.shape.as_slice(), n.ty.shape.as_slice()) {
            ([_, h, w], [_]) => format!("{y}[(c·{h} + i)·{w} + j] = {a}[c, i, j]"),
            ([_], [_, h, w]) => format!("{y}[c, i, j] = {a}[(c·{h} + i)·{w} + j]"),
            _ => format!("{y} = {a}, row-major"),
        },
        _ => return None,
    })
}

/// The index form of version 3's ops on a sample's rows, for the comment of
/// their statement: `C_ctx[t, j] = C[ctx[t], j]`, the scatter-add of its
/// adjoint, a product of each sample's matrices, a row's shared sum.
fn sequence_index_form(g: &Graph, id: NodeId, name: &dyn Fn(NodeId) -> String) -> Option<String> {
    let n = g.node(id);
    let y = name(id);
    let arg = |k: usize| name(n.args[k]);
    let rank = |k: usize| g.node(n.args[k]).ty.shape.len();
    Some(match n.op {
        Op::Gather => {
            let (e, i) = (arg(0), arg(1));
            let (at, t) = if rank(1) == 0 { (i.clone(), "") } else { (format!("{i}[t]"), "t") };
            let row = |idx: &str| if rank(0) == 2 { format!("{idx}, j") } else { idx.to_string() };
            let lhs = match (t, rank(0)) {
                ("", 2) => "j".to_string(),
                ("", _) => String::new(),
                (t, 2) => format!("{t}, j"),
                (t, _) => t.to_string(),
            };
            if lhs.is_empty() {
                format!("{y} = {e}[{at}]")
            } else {
                format!("{y}[{lhs}] = {e}[{}]", row(&at))
            }
        }
        Op::ScatterAdd => {
            let (i, d) = (arg(0), arg(1));
            let rows = if rank(0) == 0 { i.clone() } else { format!("{i}[t]") };
            let (lhs, rhs) = if n.ty.shape.len() == 2 {
                (format!("{rows}, j"), if rank(0) == 0 { "j".to_string() } else { "t, j".to_string() })
            } else {
                (rows, if rank(0) == 0 { String::new() } else { "t".to_string() })
            };
            let over_batch = g.node(n.args[1]).ty.batched && !n.ty.batched;
            let every = match (rank(0) == 0, over_batch) {
                (true, false) => "",
                (true, true) => " for every sample",
                (false, false) => " for every t",
                (false, true) => " for every t and every sample",
            };
            let rhs = if rhs.is_empty() { d } else { format!("{d}[{rhs}]") };
            format!("{y}[{lhs}] += {rhs}{every} (a row read twice gets both)")
        }
        Op::Row(k) => format!("{y}[j] = {}[{k}, j]", arg(0)),
        Op::PlaceRow(k) => format!("{y}[{k}, j] = {}[j], 0 in every other row", arg(0)),
        Op::Transpose => format!("{y}[i, j] = {}[j, i]", arg(0)),
        Op::BatchMatMul { ta, tb } => {
            let a = if ta { format!("{}[k, i]", arg(0)) } else { format!("{}[i, k]", arg(0)) };
            let b = if tb { format!("{}[j, k]", arg(1)) } else { format!("{}[k, j]", arg(1)) };
            let over_batch = n.args.iter().any(|a| g.node(*a).ty.batched) && !n.ty.batched;
            let sum = if over_batch { "Σ_b Σ_k" } else { "Σ_k" };
            format!("{y}[i, j] = {sum} {a} · {b}")
        }
        Op::SumAxis(a) | Op::MeanAxis(a) if rank(0) == 2 => {
            let sum = if matches!(n.op, Op::SumAxis(_)) {
                "Σ_".to_string()
            } else {
                format!("(1/{}) Σ_", g.node(n.args[0]).ty.shape[a])
            };
            if a == 1 {
                format!("{y}[i, 0] = {sum}j {}[i, j]", arg(0))
            } else {
                format!("{y}[0, j] = {sum}i {}[i, j]", arg(0))
            }
        }
        Op::Softmax if n.ty.shape.len() == 2 => format!(
            "{y}[i, j] = e^({x}[i, j] − m_i) / Σ_k e^({x}[i, k] − m_i), m_i = max_k {x}[i, k]: each row apart",
            x = arg(0)
        ),
        Op::Causal => format!("{y}[i, j] = {}[i, j] where j ≤ i, −∞ where j > i", arg(0)),
        Op::CausalMask => format!("{y}[i, j] = {}[i, j] where j ≤ i, 0 where j > i", arg(0)),
        Op::Concat => {
            let mut start = 0;
            let parts: Vec<String> = n
                .args
                .iter()
                .map(|a| {
                    let len = g.node(*a).ty.shape.last().copied().unwrap_or(1);
                    let part = format!("{y}[…, {start}..{}] = {}", start + len, name(*a));
                    start += len;
                    part
                })
                .collect();
            parts.join(", ")
        }
        Op::Slice { start, len } => format!("{y}[…, j] = {}[…, {start} + j], j < {len}", arg(0)),
        Op::OneHot => format!("{y}[…, v] = 1 where {}[…] = v, else 0", arg(0)),
        _ => return None,
    })
}
