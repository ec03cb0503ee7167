//! The graph IR: a flat arena of nodes in topological order.
//!
//! Every node's arguments come before it, so every pass is a loop over the
//! arena (forwards, or backwards for the chain rule), never a recursion on a
//! depth the user controls. Node ids are typed; maps keyed by them are
//! ordered, so the same `.nn` text always gives the same graph and the same
//! Rust.
//!
//! Values are *physical*: a value that varies per sample (`batched`) carries a
//! leading batch axis, one row per sample. `x: [784]` is a `B × 784` matrix,
//! `img: [1, 28, 28]` a `B × 1 × 28 × 28` array.

mod lower;
pub mod math;
mod names;
mod print;

use std::fmt;

pub use lower::{build, Mode};
pub use names::names;

use crate::diagnostics::Span;
use crate::lang::{Dtype, Func, LossKind, Type};

/// The index of a node in its [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index into the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// An operation. The arguments are the node's `args`, in the order given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// The i-th input (batched).
    Input(usize),
    /// The i-th target (batched).
    Target(usize),
    /// The i-th parameter.
    Param(usize),
    /// A constant: every element of the node's type equals it.
    Const(f64),
    /// The number of samples in the batch, B (a scalar known at run time).
    BatchSize,
    /// The i-th running statistic of a batch normalization (`h_mean`,
    /// `h_var`): read in inference, never differentiated.
    Statistic(usize),
    /// `[x]` the mean of each feature over the batch (and the rows of a
    /// `[T, d]` value, the pixels of a `[c, h, w]` one): a value of the whole
    /// batch, one number per feature (unbatched). A successful `train_step`
    /// moves the running statistic `running` toward it.
    BatchStat {
        /// The running statistic it updates.
        running: usize,
    },
    /// `[]` the dropout mask of the `site`-th `dropout` call (training mode
    /// only): each element 1/(1 − p) with probability 1 − p, else 0, a pure
    /// function of the network's dropout seed, its step count, the site,
    /// the sample's row and the element.
    DropoutMask {
        /// Which `dropout` call of the network, counted from 0.
        site: usize,
        /// The probability of dropping an element.
        p: f64,
    },
    /// `[a, b]` a + b, elementwise; a scalar or a missing batch axis broadcasts.
    Add,
    /// `[a, b]` a − b
    Sub,
    /// `[a, b]` a ⊙ b
    Mul,
    /// `[a, b]` a / b
    Div,
    /// `[a]` −a
    Neg,
    /// `[x]` f(x) elementwise.
    Map(Func),
    /// `[x, y]` f′(x), elementwise, where y = f(x) is the forward value.
    Deriv(Func),
    /// `[a, b]` the product op(a)·op(b) of the physical arrays (vectors or
    /// matrices), op transposing a matrix where the flag is set.
    MatMul {
        /// Transpose the left operand.
        ta: bool,
        /// Transpose the right operand.
        tb: bool,
    },
    /// `[a, b]` the outer product a bᵀ of two physical vectors.
    Outer,
    /// `[z]` softmax over each sample's vector.
    Softmax,
    /// `[z]` log softmax over each sample's vector: z − ln Σ eᶻ, by log-sum-exp.
    LogSoftmax,
    /// `[x]` Σ over each sample's elements.
    Sum,
    /// `[x]` mean over each sample's elements.
    Mean,
    /// `[y, t]` a per-sample loss.
    Loss(LossKind),
    /// `[z, t]` cross_entropy(softmax(z), t), fused: computed by log-sum-exp,
    /// with the derivative softmax(z)·Σt − t.
    SoftmaxCrossEntropy,
    /// `[z, t]` binary_cross_entropy(sigmoid(z), t), fused: computed as
    /// Σ softplus(z) − t·z, with the derivative sigmoid(z) − t.
    SigmoidBinaryCrossEntropy,
    /// `[g]` g summed down to this node's type, undoing a broadcast: over
    /// the batch axis where this node has none, over the per-sample axes it
    /// lacks (aligned as `lang::aligned` aligns them), and along the axes
    /// where it has length 1 and g more.
    Reduce,
    /// `[g]` g broadcast up to this node's type (aligned the same way).
    Broadcast,
    /// `[l]` the mean over the batch of the per-sample loss: the loss E.
    BatchMean,
    /// `[x, W]` the cross-correlation of each sample's image `[c, h, w]` with
    /// the kernel `[k, c, r, s]`, zero-padded: `[k, oh, ow]`.
    Conv2d(Window),
    /// `[δ, W]` the adjoint of a convolution's input: the transposed
    /// convolution of δ `[k, oh, ow]` with the kernel, `[c, h, w]`.
    ConvInputGrad(Window),
    /// `[x, δ]` the adjoint of a convolution's kernel: the correlation of the
    /// input with δ, summed over the batch, `[k, c, r, s]`.
    ConvKernelGrad(Window),
    /// `[x]` the maximum of each window (no padding).
    MaxPool(Window),
    /// `[x, δ]` δ routed back to the first maximum of each window of x.
    MaxPoolGrad(Window),
    /// `[x]` the mean of each window (no padding).
    AvgPool(Window),
    /// `[δ]` δ / size² spread back over each window.
    AvgPoolGrad(Window),
    /// `[x]` the same elements in row-major order, in this node's shape
    /// (`flatten`, and its adjoint back to an image).
    Reshape,
    /// `[E, i]` the rows of the table E chosen by the indices i (`E[i]`):
    /// `[S] in 0..V` into `[V, …]` gives `[S, …]`.
    Gather,
    /// `[i, δ]` the adjoint of a gather's table: each row of δ added into
    /// the row of the table it was read from (a row read twice gets both),
    /// summed over the batch for a table that is the same for every sample.
    ScatterAdd,
    /// `[x]` row k of each sample's x (`x[k]`, k counted from the front).
    Row(usize),
    /// `[δ]` the adjoint of `Row(k)`: zeros in this node's shape, with δ as
    /// row k.
    PlaceRow(usize),
    /// `[x]` each sample's matrix transposed.
    Transpose,
    /// `[a, b]` the product op(a)·op(b) of each sample's own matrices or
    /// vectors (an operand the same for every sample taken for each); where
    /// the node is the same for every sample, the products summed over the
    /// batch.
    BatchMatMul {
        /// Transpose the left operand.
        ta: bool,
        /// Transpose the right operand.
        tb: bool,
    },
    /// `[a, b]` the outer product a bᵀ of each sample's vectors; summed over
    /// the batch where the node is the same for every sample.
    BatchOuter,
    /// `[x]` Σ along axis k of each sample, kept with length 1.
    SumAxis(usize),
    /// `[x]` the mean along axis k of each sample, kept with length 1.
    MeanAxis(usize),
    /// `[s]` s with −∞ above the diagonal (column > row).
    Causal,
    /// `[δ]` δ with 0 above the diagonal: the adjoint of `Causal`.
    CausalMask,
    /// `[a, b, …]` joined along the last axis.
    Concat,
    /// `[x]` the columns `start..start + len` of the last axis (the adjoint
    /// of `Concat` for one of its arguments).
    Slice {
        /// The first column.
        start: usize,
        /// How many columns.
        len: usize,
    },
    /// `[i]` the one-hot vector of each index: `[S] in 0..V` gives `[S, V]`,
    /// 1 at the index and 0 elsewhere (an index target of a loss).
    OneHot,
}

/// The windows of a convolution or a pool: their side (for a convolution,
/// the kernel's), the step between them and the zeros added on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// The window's side (a pool's); 0 for a convolution, whose kernel has it.
    pub size: usize,
    /// The step between windows.
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

impl Op {
    /// Whether the op works element by element (and can join a fused loop).
    pub fn is_elementwise(self) -> bool {
        matches!(
            self,
            Op::Add
                | Op::Sub
                | Op::Mul
                | Op::Div
                | Op::Neg
                | Op::Map(_)
                | Op::Deriv(_)
                | Op::Broadcast
        )
    }

    /// The windows of a convolution or pool op (or of its gradient); `None`
    /// for every other op.
    pub fn window(self) -> Option<Window> {
        match self {
            Op::Conv2d(w)
            | Op::ConvInputGrad(w)
            | Op::ConvKernelGrad(w)
            | Op::MaxPool(w)
            | Op::MaxPoolGrad(w)
            | Op::AvgPool(w)
            | Op::AvgPoolGrad(w) => Some(w),
            _ => None,
        }
    }

    /// A short name for printing.
    pub fn mnemonic(self) -> String {
        match self {
            Op::Input(i) => format!("input {i}"),
            Op::Target(i) => format!("target {i}"),
            Op::Param(i) => format!("param {i}"),
            Op::Const(c) => format!("const {c}"),
            Op::BatchSize => "batch_size".into(),
            Op::Statistic(i) => format!("statistic {i}"),
            Op::BatchStat { running } => format!("batch_stat {running}"),
            Op::DropoutMask { site, .. } => format!("dropout_mask {site}"),
            Op::Add => "add".into(),
            Op::Sub => "sub".into(),
            Op::Mul => "mul".into(),
            Op::Div => "div".into(),
            Op::Neg => "neg".into(),
            Op::Map(f) => f.name().into(),
            Op::Deriv(f) => format!("d{}", f.name()),
            Op::MatMul { ta, tb } => format!(
                "matmul{}{}",
                if ta { " aT" } else { "" },
                if tb { " bT" } else { "" }
            ),
            Op::Outer => "outer".into(),
            Op::Softmax => "softmax".into(),
            Op::LogSoftmax => "log_softmax".into(),
            Op::Sum => "sum".into(),
            Op::Mean => "mean".into(),
            Op::Loss(k) => k.name().into(),
            Op::SoftmaxCrossEntropy => "softmax_cross_entropy".into(),
            Op::SigmoidBinaryCrossEntropy => "sigmoid_binary_cross_entropy".into(),
            Op::Reduce => "reduce".into(),
            Op::Broadcast => "broadcast".into(),
            Op::BatchMean => "batch_mean".into(),
            Op::Conv2d(w) => format!("conv2d{}", w.suffix()),
            Op::ConvInputGrad(w) => format!("conv2d_input_grad{}", w.suffix()),
            Op::ConvKernelGrad(w) => format!("conv2d_kernel_grad{}", w.suffix()),
            Op::MaxPool(w) => format!("max_pool{}", w.suffix()),
            Op::MaxPoolGrad(w) => format!("max_pool_grad{}", w.suffix()),
            Op::AvgPool(w) => format!("avg_pool{}", w.suffix()),
            Op::AvgPoolGrad(w) => format!("avg_pool_grad{}", w.suffix()),
            Op::Reshape => "reshape".into(),
            Op::Gather => "gather".into(),
            Op::ScatterAdd => "scatter_add".into(),
            Op::Row(k) => format!("row {k}"),
            Op::PlaceRow(k) => format!("place_row {k}"),
            Op::Transpose => "transpose".into(),
            Op::BatchMatMul { ta, tb } => format!(
                "batch_matmul{}{}",
                if ta { " aT" } else { "" },
                if tb { " bT" } else { "" }
            ),
            Op::BatchOuter => "batch_outer".into(),
            Op::SumAxis(k) => format!("sum_axis {k}"),
            Op::MeanAxis(k) => format!("mean_axis {k}"),
            Op::Causal => "causal".into(),
            Op::CausalMask => "causal_mask".into(),
            Op::Concat => "concat".into(),
            Op::Slice { start, len } => format!("slice {start} {len}"),
            Op::OneHot => "one_hot".into(),
        }
    }
}

impl Window {
    /// ` size 2 stride 2 padding 1`: the parts that are not the default.
    fn suffix(self) -> String {
        let mut s = String::new();
        if self.size > 0 {
            s += &format!(" size {}", self.size);
        }
        if self.stride != 1 {
            s += &format!(" stride {}", self.stride);
        }
        if self.padding != 0 {
            s += &format!(" padding {}", self.padding);
        }
        s
    }
}

/// What a node is for: the forward pass, or a step of the chain rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A forward value, from the `.nn` source at `span`.
    Forward {
        /// The expression it comes from.
        span: Span,
    },
    /// The adjoint ∂E/∂v of the forward node v (a delta δ when shared).
    Adjoint(NodeId),
    /// The gradient ∂E/∂W of the i-th parameter, the mean over the batch.
    Gradient(usize),
    /// A factor or partial sum inside the chain rule.
    Backward,
}

/// One node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Its arguments, all earlier in the arena.
    pub args: Vec<NodeId>,
    /// Per-sample shape and whether it is batched.
    pub ty: Type,
    /// The name the user gave it, by a binding.
    pub name: Option<String>,
    /// A name suggested by context (`z_h` for the pre-activation of `h`).
    pub hint: Option<String>,
    /// What it is for.
    pub role: Role,
    /// For a backward node: the forward node whose derivative rule (or
    /// adjoint sum) made it.
    pub from: Option<NodeId>,
}

/// Where the named things of the network are in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// The network's name.
    pub name: String,
    /// The element type of the generated code.
    pub dtype: Dtype,
    /// The nodes, arguments first.
    pub nodes: Vec<Node>,
    /// The outputs that `forward` returns: name and node.
    pub outputs: Vec<(String, NodeId)>,
    /// The loss E: the batch mean of the per-sample loss.
    pub loss: NodeId,
    /// The per-sample loss ℓ.
    pub sample_loss: NodeId,
    /// The gradient node of each parameter, once derived.
    pub gradients: Vec<NodeId>,
    /// The adjoint ∂ℓ/∂v of each forward node v that has one, once derived
    /// (several values can share one node: `z = a + b` passes ∂ℓ/∂z on).
    pub adjoints: std::collections::BTreeMap<NodeId, NodeId>,
}

impl Graph {
    /// Whether the graph has a layer that differs between training and
    /// inference (LANGUAGE.md §13): then `loss`, `forward` and the ONNX
    /// model use the inference mode's graph.
    pub fn has_modes(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.op, Op::DropoutMask { .. } | Op::BatchStat { .. }))
    }

    /// The layers that change with the mode, as docs list them:
    /// `dropout (p = 0.5) in h`.
    pub fn mode_layers(&self) -> Vec<String> {
        let mut layers = Vec::new();
        for n in &self.nodes {
            if let Op::DropoutMask { p, .. } = n.op {
                let place = n
                    .hint
                    .as_deref()
                    .and_then(|h| h.strip_prefix("mask_"))
                    .map(|b| format!(" in `{b}`"))
                    .unwrap_or_default();
                layers.push(format!("dropout (p = {p}){place}"));
            }
            if let (Op::BatchStat { .. }, Some(b)) =
                (n.op, n.hint.as_deref().and_then(|h| h.strip_prefix("mu_")))
            {
                layers.push(format!("batch_norm in `{b}`"));
            }
        }
        layers
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Appends a node whose arguments are already in the graph.
    pub fn push(&mut self, node: Node) -> NodeId {
        debug_assert!(node.args.iter().all(|a| a.index() < self.nodes.len()));
        self.nodes.push(node);
        NodeId(u32::try_from(self.nodes.len() - 1).expect("fewer than 2^32 nodes"))
    }

    /// Every node id, arguments before users.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// How many nodes use each node (a root counts as one use).
    pub fn use_counts(&self, roots: &[NodeId]) -> Vec<usize> {
        let mut counts = vec![0; self.nodes.len()];
        for node in &self.nodes {
            for a in &node.args {
                counts[a.index()] += 1;
            }
        }
        for r in roots {
            counts[r.index()] += 1;
        }
        counts
    }

    /// Which nodes the given roots need, arguments included.
    pub fn live(&self, roots: &[NodeId]) -> Vec<bool> {
        let mut live = vec![false; self.nodes.len()];
        for r in roots {
            live[r.index()] = true;
        }
        for id in self.ids().rev() {
            if live[id.index()] {
                for a in &self.node(id).args {
                    live[a.index()] = true;
                }
            }
        }
        live
    }

    /// The node of each of the `count` parameters, found in one sweep.
    pub fn param_nodes(&self, count: usize) -> Vec<Option<NodeId>> {
        let mut nodes = vec![None; count];
        for id in self.ids() {
            if let Op::Param(p) = self.node(id).op {
                nodes[p].get_or_insert(id);
            }
        }
        nodes
    }

    /// Every node that `forward`, `loss` and `gradients` need.
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots: Vec<NodeId> = self.outputs.iter().map(|o| o.1).collect();
        roots.push(self.loss);
        roots.extend(self.gradients.iter().copied());
        roots
    }
}
