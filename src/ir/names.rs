//! The name of every node: what the generated code calls the value and what
//! `explain` and the drawings print, so that the text and the code agree.

use std::collections::{HashMap, HashSet};

use super::{Graph, Op, Role};
use crate::check::Net;

/// Chooses names for every node of the graph: user names, hints, `delta_…`
/// for adjoints, `grad_…` for gradients; unique against the declarations
/// and against the locals of the generated functions (`batch`, `ws`, …).
pub fn names(net: &Net, g: &Graph) -> Vec<String> {
    // Only asked whether a name is taken, never iterated: a hash set keeps
    // the output deterministic.
    let mut taken: HashSet<String> = HashSet::new();
    for name in net
        .inputs
        .iter()
        .chain(&net.targets)
        .map(|d| &d.name)
        .chain(net.params.iter().map(|p| &p.name))
        .chain(net.statistics.iter().map(|s| &s.name))
    {
        taken.insert(name.clone());
    }
    for reserved in [
        "batch",
        "batch_size",
        "shapes",
        "grads",
        "rng",
        "seed",
        "ws",
        "out",
        "scale",
        "step",
        "packing",
        "conv_scratch",
        "descent",
        "sgd",
        "sample",
    ] {
        taken.insert(reserved.into());
    }
    let mut names: Vec<String> = Vec::with_capacity(g.nodes.len());
    let mut next: HashMap<String, usize> = HashMap::new();
    for id in g.ids() {
        let n = g.node(id);
        let base = match (&n.op, &n.role) {
            (Op::Input(i), _) => {
                names.push(net.inputs[*i].name.clone());
                continue;
            }
            (Op::Target(i), _) => {
                names.push(net.targets[*i].name.clone());
                continue;
            }
            (Op::Param(i), _) => {
                names.push(net.params[*i].name.clone());
                continue;
            }
            (Op::Statistic(i), _) => {
                names.push(net.statistics[*i].name.clone());
                continue;
            }
            (_, Role::Gradient(p)) => format!("grad_{}", net.params[*p].name),
            (_, Role::Adjoint(of)) => match g.node(*of).op {
                Op::Param(p) => format!("grad_{}_sum", net.params[p].name),
                _ => format!("delta_{}", names[of.index()]),
            },
            _ => match (n.name.as_ref().or(n.hint.as_ref()), n.op) {
                (Some(name), _) => name.clone(),
                // x @ W1 → x_W1
                (None, Op::MatMul { ta, tb }) if matches!(n.role, Role::Forward { .. }) => {
                    let t = |b: bool| if b { "T" } else { "" };
                    format!(
                        "{}{}_{}{}",
                        names[n.args[0].index()],
                        t(ta),
                        names[n.args[1].index()],
                        t(tb)
                    )
                }
                // q @ transpose(key) of each sample → q_keyT (a prefix the
                // two share, b1_h1_, written once: b1_h1_q_keyT)
                (None, Op::BatchMatMul { ta, tb }) if matches!(n.role, Role::Forward { .. }) => {
                    let t = |b: bool| if b { "T" } else { "" };
                    let (a, b) = (&names[n.args[0].index()], &names[n.args[1].index()]);
                    let shared = a
                        .char_indices()
                        .rev()
                        .find(|(i, c)| {
                            *c == '_' && b.len() > *i && b.as_bytes()[..=*i] == a.as_bytes()[..=*i]
                        })
                        .map_or(0, |(i, _)| i + 1);
                    format!("{a}{}_{}{}", t(ta), &b[shared..], t(tb))
                }
                // E[ctx] → E_ctx
                (None, Op::Gather) if matches!(n.role, Role::Forward { .. }) => {
                    format!("{}_{}", names[n.args[0].index()], names[n.args[1].index()])
                }
                // the scatter-add of δ into a table's rows → scatter_delta_x
                (None, Op::ScatterAdd) => format!("scatter_{}", names[n.args[1].index()]),
                // mean(x, axis = -1) → mean_x
                (None, Op::MeanAxis(_) | Op::SumAxis(_)) => {
                    let op = if matches!(n.op, Op::MeanAxis(_)) {
                        "mean"
                    } else {
                        "sum"
                    };
                    format!("{op}_{}", names[n.args[0].index()])
                }
                // conv2d(x, c_w) → x_conv_c_w
                (None, Op::Conv2d(_)) => format!(
                    "{}_conv_{}",
                    names[n.args[0].index()],
                    names[n.args[1].index()]
                ),
                // flatten(x) → flat_x
                (None, Op::Reshape) if matches!(n.role, Role::Forward { .. }) => {
                    format!("flat_{}", names[n.args[0].index()])
                }
                // sum(t) → sum_t; otherwise the op and the node's number.
                (None, op) if n.args.len() == 1 => {
                    format!(
                        "{}_{}",
                        op.mnemonic().split(' ').next().unwrap_or("v"),
                        names[n.args[0].index()]
                    )
                }
                (None, op) => format!("{}{}", op.mnemonic().split(' ').next().unwrap_or("v"), id.0),
            },
        };
        // The next suffix to try for each base: many nodes can share one
        // (the partial sums of a parameter's gradient).
        let mut name = base.clone();
        let mut k = next.get(&base).copied().unwrap_or(2);
        while taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        next.insert(base, k);
        taken.insert(name.clone());
        names.push(name);
    }
    names
}
