//! Checked network → forward graph.
//!
//! After this pass the graph holds the forward computation and the loss, with
//! names from the bindings. The per-sample `@` is mapped to products of the
//! physical (batched) arrays, and `cross_entropy(softmax(z), t)` is one fused
//! node — before `derive` runs, so that the backward pass gets the stable
//! derivative softmax(z)·Σt − t instead of the unstable −t/y.

use super::{Graph, Node, NodeId, Op, Role, Window};
use crate::check::{Builtin, Meaning, Net, Symbol};
use crate::lang::{Func, LossKind, Type};
use crate::syntax::ast::{BinOp, ExprId};

/// Which behaviour of the layers that differ between training and use
/// (`dropout`, `batch_norm`) a graph computes (LANGUAGE.md §13). A network
/// without such layers has the same graph in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `train_step`, `gradients`, `gradients_into`, `gradcheck`: dropout
    /// drops, batch norm uses the batch's statistics.
    Training,
    /// `forward`, `forward_into`, `loss`, the ONNX export: dropout passes
    /// its value through.
    Inference,
}

/// Builds the forward graph of a checked network in one mode.
pub fn build(net: &Net, mode: Mode) -> Graph {
    let mut g = Graph {
        name: net.name.clone(),
        dtype: net.dtype,
        nodes: Vec::new(),
        outputs: Vec::new(),
        loss: NodeId(0),
        sample_loss: NodeId(0),
        gradients: Vec::new(),
        adjoints: Default::default(),
    };
    let leaf = |g: &mut Graph, op: Op, ty: Type, span| {
        g.push(Node {
            op,
            args: Vec::new(),
            ty,
            name: None,
            hint: None,
            role: Role::Forward { span },
            from: None,
        })
    };
    let leaves =
        |g: &mut Graph, decls: Vec<(Type, crate::diagnostics::Span)>, op: fn(usize) -> Op| {
            decls
                .into_iter()
                .enumerate()
                .map(|(i, (ty, span))| leaf(g, op(i), ty, span))
                .collect::<Vec<NodeId>>()
        };
    let inputs = leaves(
        &mut g,
        net.inputs.iter().map(|d| (d.ty(), d.span)).collect(),
        Op::Input,
    );
    let targets = leaves(
        &mut g,
        net.targets.iter().map(|d| (d.ty(), d.span)).collect(),
        Op::Target,
    );
    let params = leaves(
        &mut g,
        net.params
            .iter()
            .map(|p| (Type::new(p.shape.clone(), false), p.span))
            .collect(),
        Op::Param,
    );

    // The running statistics, as leaves where something reads them.
    let mut statistics: Vec<Option<NodeId>> = vec![None; net.statistics.len()];
    let mut statistic = |g: &mut Graph, i: usize| {
        *statistics[i].get_or_insert_with(|| {
            let s = &net.statistics[i];
            leaf(
                g,
                Op::Statistic(i),
                Type::new(s.shape.clone(), false),
                s.span,
            )
        })
    };

    let mut nodes: Vec<Option<NodeId>> = vec![None; net.exprs.len()];
    let node_of = |nodes: &[Option<NodeId>], e: ExprId| {
        nodes[e.0 as usize].expect("operands are lowered first")
    };
    // Which binding each expression is the value of, to name its node.
    let mut binding_of: Vec<Option<usize>> = vec![None; net.exprs.len()];
    for (i, b) in net.bindings.iter().enumerate() {
        binding_of[b.value.0 as usize].get_or_insert(i);
    }
    // The `dropout` calls, counted in source order: each draws its own mask.
    let mut dropout_sites = 0;
    for (id, expr) in net.exprs.iter() {
        let ty = net.types[id.0 as usize].clone();
        let span = expr.span;
        let add = |g: &mut Graph, op: Op, args: Vec<NodeId>, ty: Type| {
            g.push(Node {
                op,
                args,
                ty,
                name: None,
                hint: None,
                role: Role::Forward { span },
                from: None,
            })
        };
        let node = match &net.meanings[id.0 as usize] {
            Meaning::None => continue,
            Meaning::Number(v) => add(&mut g, Op::Const(*v), Vec::new(), Type::scalar()),
            Meaning::Symbol(Symbol::Input(i)) => inputs[*i],
            Meaning::Symbol(Symbol::Target(i)) => targets[*i],
            Meaning::Symbol(Symbol::Param(i)) => params[*i],
            Meaning::Symbol(Symbol::Binding(i)) => node_of(&nodes, net.bindings[*i].value),
            Meaning::Symbol(Symbol::Statistic(i)) => statistic(&mut g, *i),
            Meaning::BatchNorm {
                x,
                gain,
                bias,
                mean,
                var,
                eps,
            } => {
                // (x − μ)/√(σ² + ε) ⊙ gain + bias: with the batch's mean and
                // biased variance in training, the running ones in inference.
                let x = node_of(&nodes, *x);
                let stat_ty = g.node(params[*gain]).ty.clone();
                // The value normalized, named after the binding as in the
                // paper's x → x̂ (`x_h`).
                let b = &net.statistics[*mean].layer;
                let xn = &mut g.nodes[x.index()];
                if xn.name.is_none() && xn.hint.is_none() && !xn.args.is_empty() {
                    xn.hint = Some(format!("x_{b}"));
                }
                let (c, var) = match mode {
                    Mode::Training => {
                        let mu = add(
                            &mut g,
                            Op::BatchStat { running: *mean },
                            vec![x],
                            stat_ty.clone(),
                        );
                        let c = add(&mut g, Op::Sub, vec![x, mu], ty.clone());
                        let squares = add(&mut g, Op::Map(Func::Square), vec![c], ty.clone());
                        let var = add(
                            &mut g,
                            Op::BatchStat { running: *var },
                            vec![squares],
                            stat_ty.clone(),
                        );
                        // μ_B and σ²_B, named after the binding (`mu_h`).
                        g.nodes[mu.index()].hint = Some(format!("mu_{b}"));
                        g.nodes[var.index()].hint = Some(format!("var_{b}"));
                        (c, var)
                    }
                    Mode::Inference => {
                        let mu = statistic(&mut g, *mean);
                        let c = add(&mut g, Op::Sub, vec![x, mu], ty.clone());
                        (c, statistic(&mut g, *var))
                    }
                };
                let epsilon = add(&mut g, Op::Const(*eps), Vec::new(), Type::scalar());
                let shifted = add(&mut g, Op::Add, vec![var, epsilon], stat_ty.clone());
                let sigma = add(&mut g, Op::Map(Func::Sqrt), vec![shifted], stat_ty);
                let normalized = add(&mut g, Op::Div, vec![c, sigma], ty.clone());
                let scaled = add(&mut g, Op::Mul, vec![normalized, params[*gain]], ty.clone());
                add(&mut g, Op::Add, vec![scaled, params[*bias]], ty)
            }
            Meaning::Neg(a) => add(&mut g, Op::Neg, vec![node_of(&nodes, *a)], ty),
            Meaning::Gather(table, index) => {
                let args = vec![node_of(&nodes, *table), node_of(&nodes, *index)];
                add(&mut g, Op::Gather, args, ty)
            }
            Meaning::Row(x, k) => add(&mut g, Op::Row(*k), vec![node_of(&nodes, *x)], ty),
            Meaning::Binary(op, l, r) => {
                let (l, r) = (node_of(&nodes, *l), node_of(&nodes, *r));
                match op {
                    BinOp::Add => add(&mut g, Op::Add, vec![l, r], ty),
                    BinOp::Sub => add(&mut g, Op::Sub, vec![l, r], ty),
                    BinOp::Mul => add(&mut g, Op::Mul, vec![l, r], ty),
                    BinOp::Div => add(&mut g, Op::Div, vec![l, r], ty),
                    BinOp::MatMul => matmul(&mut g, l, r, ty, span),
                }
            }
            Meaning::Dense(x, w, b) => {
                let (x, w, b) = (node_of(&nodes, *x), params[*w], params[*b]);
                let product_ty = Type::new(ty.shape.clone(), g.node(x).ty.batched);
                let product = matmul(&mut g, x, w, product_ty, span);
                add(&mut g, Op::Add, vec![product, b], ty)
            }
            Meaning::Conv(x, w, b, stride, padding) => {
                // conv(x, k, size) = conv2d(x, h_w) + h_b, the bias per channel.
                let (x, w, b) = (node_of(&nodes, *x), params[*w], params[*b]);
                let window = Window {
                    size: 0,
                    stride: *stride,
                    padding: *padding,
                };
                let conv = add(&mut g, Op::Conv2d(window), vec![x, w], ty.clone());
                add(&mut g, Op::Add, vec![conv, b], ty)
            }
            Meaning::Call(builtin, args) => {
                let args: Vec<NodeId> = args.iter().map(|a| node_of(&nodes, *a)).collect();
                match builtin {
                    Builtin::Map(f) => add(&mut g, Op::Map(*f), args, ty),
                    Builtin::Softmax => add(&mut g, Op::Softmax, args, ty),
                    Builtin::LogSoftmax => add(&mut g, Op::LogSoftmax, args, ty),
                    Builtin::Dense | Builtin::Conv { .. } => {
                        unreachable!("the checker resolves dense and conv")
                    }
                    Builtin::Conv2d { stride, padding } => {
                        let window = Window {
                            size: 0,
                            stride: *stride,
                            padding: *padding,
                        };
                        add(&mut g, Op::Conv2d(window), args, ty)
                    }
                    Builtin::MaxPool { size, stride } | Builtin::AvgPool { size, stride } => {
                        let window = Window {
                            size: *size,
                            stride: *stride,
                            padding: 0,
                        };
                        let op = if matches!(builtin, Builtin::MaxPool { .. }) {
                            Op::MaxPool(window)
                        } else {
                            Op::AvgPool(window)
                        };
                        add(&mut g, op, args, ty)
                    }
                    Builtin::Flatten => add(&mut g, Op::Reshape, args, ty),
                    Builtin::Sum => add(&mut g, Op::Sum, args, ty),
                    Builtin::Mean => add(&mut g, Op::Mean, args, ty),
                    Builtin::SumAxis(a) | Builtin::MeanAxis(a) => {
                        let rank = g.node(args[0]).ty.shape.len();
                        let k = if *a < 0.0 {
                            rank - (-*a) as usize
                        } else {
                            *a as usize
                        };
                        let op = if matches!(builtin, Builtin::SumAxis(_)) {
                            Op::SumAxis(k)
                        } else {
                            Op::MeanAxis(k)
                        };
                        add(&mut g, op, args, ty)
                    }
                    Builtin::Transpose => add(&mut g, Op::Transpose, args, ty),
                    Builtin::Causal => add(&mut g, Op::Causal, args, ty),
                    Builtin::Concat => add(&mut g, Op::Concat, args, ty),
                    Builtin::Dropout(p) => {
                        let site = dropout_sites;
                        dropout_sites += 1;
                        match mode {
                            Mode::Inference => args[0],
                            // x ⊙ mask: the chain rule through the product
                            // passes δ through the same mask.
                            Mode::Training => {
                                let mask_ty = g.node(args[0]).ty.clone();
                                let mask =
                                    add(&mut g, Op::DropoutMask { site, p: *p }, vec![], mask_ty);
                                // mask_h for `h = dropout(…)`; inside an
                                // expression, `dropped` = x ⊙ `mask`.
                                let y = add(&mut g, Op::Mul, vec![args[0], mask], ty);
                                let (mask_hint, y_hint) = match binding_of[id.0 as usize] {
                                    Some(b) => (format!("mask_{}", net.bindings[b].name), None),
                                    None => ("mask".to_string(), Some("dropped".to_string())),
                                };
                                g.nodes[mask.index()].hint = Some(mask_hint);
                                g.nodes[y.index()].hint = y_hint;
                                y
                            }
                        }
                    }
                    Builtin::Loss(kind) => {
                        let (y, mut t) = (args[0], args[1]);
                        // An index target means its one-hot vector.
                        if g.node(t).ty.is_index() {
                            let onehot =
                                Type::new(g.node(y).ty.shape.clone(), g.node(t).ty.batched);
                            t = add(&mut g, Op::OneHot, vec![t], onehot);
                        }
                        // A matrix the same for every sample (a parameter's
                        // rows) has a loss summed over all its elements, which
                        // the fused kernel, of one row per sample, cannot give.
                        let shared_rows = !g.node(y).ty.batched && g.node(y).ty.shape.len() >= 2;
                        let fused = match (kind, g.node(y).op) {
                            // cross_entropy(softmax(z), t) and nll(log_softmax(z), t)
                            // → one stable node.
                            (LossKind::CrossEntropy, Op::Softmax)
                            | (LossKind::Nll, Op::LogSoftmax)
                                if !shared_rows =>
                            {
                                Some(Op::SoftmaxCrossEntropy)
                            }
                            // binary_cross_entropy(sigmoid(z), t) → one stable node.
                            (LossKind::BinaryCrossEntropy, Op::Map(Func::Sigmoid)) => {
                                Some(Op::SigmoidBinaryCrossEntropy)
                            }
                            _ => None,
                        };
                        match fused {
                            Some(op) => {
                                let z = g.node(y).args[0];
                                add(&mut g, op, vec![z, t], ty)
                            }
                            None => add(&mut g, Op::Loss(*kind), vec![y, t], ty),
                        }
                    }
                }
            }
        };
        nodes[id.0 as usize] = Some(node);
        if let Some(b) = binding_of[id.0 as usize] {
            name_binding(&mut g, node, &net.bindings[b].name);
        }
    }
    for b in &net.bindings {
        if b.output {
            g.outputs.push((b.name.clone(), node_of(&nodes, b.value)));
        }
    }
    g.sample_loss = node_of(&nodes, net.loss);
    let l = &mut g.nodes[g.sample_loss.index()];
    if l.name.is_none() && l.hint.is_none() && !l.args.is_empty() {
        l.hint = Some("sample_loss".into());
    }
    g.loss = g.push(Node {
        op: Op::BatchMean,
        args: vec![g.sample_loss],
        ty: Type::scalar(),
        name: None,
        hint: Some("loss".into()),
        role: Role::Forward {
            span: net.loss_span,
        },
        from: None,
    });
    g
}

/// Gives a binding's name to its node, and the hint `z_name` to the
/// pre-activation of an activation function.
fn name_binding(g: &mut Graph, node: NodeId, name: &str) {
    let n = &mut g.nodes[node.index()];
    if n.args.is_empty() || n.name.is_some() {
        return;
    }
    n.name = Some(name.to_string());
    if matches!(n.op, Op::Map(_) | Op::Softmax | Op::LogSoftmax) {
        let arg = n.args[0];
        let a = &mut g.nodes[arg.index()];
        if !a.args.is_empty() && a.name.is_none() && a.hint.is_none() {
            a.hint = Some(format!("z_{name}"));
        }
    }
}

/// The per-sample product `l @ r` as a product of physical arrays. A batched
/// vector is a matrix with one row per sample, so `x @ W` is X·W, and
/// `W @ x` is X·Wᵀ; the dot product of two batched vectors is Σ(x ⊙ y). A
/// matrix of each sample times a matrix the same for every sample is one
/// product of all the samples' rows, `[B·T, d]·[d, m]`; any other product
/// of a sample's matrix is a product per sample (`BatchMatMul`). A
/// `transpose(…)` operand is read transposed, not copied.
fn matmul(g: &mut Graph, l: NodeId, r: NodeId, ty: Type, span: crate::diagnostics::Span) -> NodeId {
    let forward = |op, args, ty| Node {
        op,
        args,
        ty,
        name: None,
        hint: None,
        role: Role::Forward { span },
        from: None,
    };
    let unwrap = |g: &Graph, id: NodeId| match g.node(id).op {
        Op::Transpose => (g.node(id).args[0], true),
        _ => (id, false),
    };
    let (lt, rt) = (g.node(l).ty.clone(), g.node(r).ty.clone());
    let per_sample_matrix = |t: &Type| t.batched && t.shape.len() == 2;
    if per_sample_matrix(&lt) || per_sample_matrix(&rt) {
        let (a, ta) = unwrap(g, l);
        let (b, tb) = unwrap(g, r);
        let rows = per_sample_matrix(&lt) && !ta && !rt.batched && rt.shape.len() == 2;
        let op = if rows {
            Op::MatMul { ta: false, tb }
        } else {
            Op::BatchMatMul { ta, tb }
        };
        return g.push(forward(op, vec![a, b], ty));
    }
    let (lb, rb) = (lt.batched, rt.batched);
    match (lb, rb) {
        (true, true) => {
            let mut product_ty = g.node(l).ty.clone();
            product_ty.batched = true;
            let product = g.push(forward(Op::Mul, vec![l, r], product_ty));
            g.push(forward(Op::Sum, vec![product], ty))
        }
        // A parameter matrix times a batched vector: each row of X times Wᵀ.
        (false, true) if g.node(l).ty.shape.len() == 2 => {
            let (w, tw) = unwrap(g, l);
            g.push(forward(Op::MatMul { ta: false, tb: !tw }, vec![r, w], ty))
        }
        // A constant vector dotted with each sample's vector: X·v.
        (false, true) => g.push(forward(
            Op::MatMul {
                ta: false,
                tb: false,
            },
            vec![r, l],
            ty,
        )),
        _ => {
            let (a, ta) = if lt.shape.len() == 2 {
                unwrap(g, l)
            } else {
                (l, false)
            };
            let (b, tb) = if rt.shape.len() == 2 {
                unwrap(g, r)
            } else {
                (r, false)
            };
            g.push(forward(Op::MatMul { ta, tb }, vec![a, b], ty))
        }
    }
}
