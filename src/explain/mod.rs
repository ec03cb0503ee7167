//! The derivation as a worked example: `denpa explain`, `denpa summary`, and
//! the `explain()` of every generated network.
//!
//! The story is the textbook's: (1) the forward pass on one sample, (2) the
//! chain rule from the loss back to every parameter, with the products that
//! several gradients share named A, B, … and computed once, output side
//! first, (3) the update, and a ledger of what the sharing saves. Everything
//! is read off the derived graph, so it is exactly what the generated code
//! computes.

mod chains;
pub mod cost;
pub mod derivation;
#[cfg(feature = "page")]
pub mod draw;
pub mod graph;
mod sequences;
mod summary;
mod windows;

use std::fmt::Write as _;

pub use cost::{ledger, Ledger};
pub use summary::summary;

use chains::{users, Chains, UsedBy, LONGEST_CHAIN};

use crate::check::{Net, Optimizer};
use crate::ir::math::{Notation, Writer};
use crate::ir::{names, Graph, NodeId, Op, Role};
use crate::lang::{shape_text, LossKind};

/// The output format of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Terminal text with Unicode math.
    Text,
    /// Markdown with LaTeX math, as GitHub renders it.
    Markdown,
}

/// Which nodes the explanation writes by name, and how.
struct Labels {
    names: Vec<String>,
    /// The letter of each shared product.
    letters: Vec<Option<String>>,
    /// Forward nodes shown as their own equation.
    equations: Vec<bool>,
}

/// Explains one network.
pub fn explain(net: &Net, g: &Graph, format: Format) -> String {
    let nt = match format {
        Format::Text => Notation::Unicode,
        Format::Markdown => Notation::Latex,
    };
    let labels = labels(net, g);
    let label = |id: NodeId| -> Option<String> {
        if let Some(l) = &labels.letters[id.index()] {
            return Some(l.clone());
        }
        let n = g.node(id);
        if id == g.sample_loss {
            return Some(nt.pick_ell());
        }
        if id == g.loss {
            return Some("E".into());
        }
        let named = matches!(
            n.op,
            Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::DropoutMask { .. }
        ) || labels.equations[id.index()];
        named.then(|| nt.name(&labels.names[id.index()]))
    };
    let writer = Writer::new(g, nt, &label).per_sample();
    let mut out = String::new();
    let md = format == Format::Markdown;
    let eq = |out: &mut String, lhs: &str, rhs: &str, note: &str| {
        if md {
            let note = match note.split_once('\u{1}') {
                _ if note.is_empty() => String::new(),
                // "text\u{1}math": words, then math.
                Some((words, math)) => format!(r" && \text{{{words}}} {math}"),
                None => format!(r" && \text{{{note}}}"),
            };
            let _ = writeln!(out, r"{lhs} &= {rhs}{note} \\");
        } else if note.is_empty() {
            let _ = writeln!(out, "   {lhs} = {rhs}");
        } else {
            let line = format!("{lhs} = {rhs}");
            let _ = writeln!(out, "   {line:<44}  {note}");
        }
    };
    let open = |out: &mut String| {
        if md {
            out.push_str("$$\n\\begin{aligned}\n");
        }
    };
    let close = |out: &mut String| {
        if md {
            out.push_str("\\end{aligned}\n$$\n");
        }
    };
    let heading = |out: &mut String, text: &str| {
        if md {
            let _ = writeln!(out, "\n### {text}\n");
        } else {
            let _ = writeln!(out, "\n{text}");
        }
    };

    if md {
        let _ = writeln!(out, "## {} — how it learns", net.name);
    } else {
        let _ = writeln!(out, "{} — how it learns", net.name);
    }

    // 1. Forward
    heading(&mut out, "1. Forward (one sample)");
    open(&mut out);
    for id in g.ids() {
        if !labels.equations[id.index()] || id == g.sample_loss || id == g.loss {
            continue;
        }
        let name = nt.name(&labels.names[id.index()]);
        let output = g.outputs.iter().any(|o| o.1 == id);
        let note = format!(
            "{}{}",
            g.node(id).ty.shape_text(),
            if output { ", output" } else { "" }
        );
        eq(&mut out, &name, &writer.formula(id), &note);
    }
    let loss_formula = writer.formula(g.sample_loss);
    let definition = match (g.node(g.sample_loss).op, nt) {
        (Op::Loss(k), Notation::Unicode) => match k {
            LossKind::Sse => ": ½ Σ (y − t)²",
            LossKind::Mse => ": mean((y − t)²)",
            LossKind::CrossEntropy => ": −Σ t ln y",
            LossKind::BinaryCrossEntropy => ": −Σ [t ln y + (1 − t) ln(1 − y)]",
            LossKind::Nll => ": −Σ t · lp",
        },
        (Op::SoftmaxCrossEntropy, Notation::Unicode) => ": −Σ t ln softmax(z), by log-sum-exp",
        (Op::SigmoidBinaryCrossEntropy, Notation::Unicode) => ": Σ softplus(z) − t·z",
        (Op::Loss(k), Notation::Latex) => match k {
            LossKind::Sse => r": \tfrac12 \sum (y - t)^2",
            LossKind::Mse => r": \operatorname{mean}((y - t)^2)",
            LossKind::CrossEntropy => r": -\sum t \ln y",
            LossKind::BinaryCrossEntropy => r": -\sum [t \ln y + (1 - t) \ln(1 - y)]",
            LossKind::Nll => r": -\sum t \cdot lp",
        },
        (Op::SoftmaxCrossEntropy, Notation::Latex) => r": -\sum t \ln \operatorname{softmax}(z)",
        (Op::SigmoidBinaryCrossEntropy, Notation::Latex) => {
            r": \sum \operatorname{softplus}(z) - t z"
        }
        _ => "",
    };
    // The fused losses' logits by their own name.
    let z = match g.node(g.sample_loss).op {
        Op::SoftmaxCrossEntropy | Op::SigmoidBinaryCrossEntropy => {
            label(g.node(g.sample_loss).args[0])
        }
        _ => None,
    };
    let definition = match z {
        Some(z) => definition
            .replace("(z)", &format!("({z})"))
            .replace("t·z", &format!("t·{z}"))
            .replace("t z", &format!("t {z}")),
        None => definition.to_string(),
    };
    let definition = if md && !definition.is_empty() {
        format!("\u{1}{}", definition.trim_start_matches(": "))
    } else {
        definition
    };
    eq(
        &mut out,
        &nt.pick_ell(),
        &loss_formula,
        &format!("the loss of one sample{definition}"),
    );
    eq(
        &mut out,
        "E",
        &writer.formula(g.loss),
        "the loss of a batch of N samples",
    );
    close(&mut out);

    // 2. Backward
    heading(
        &mut out,
        "2. Backward: the chain rule from the loss back to every parameter",
    );
    open(&mut out);
    let chains = Chains::new(g, &labels);
    let param_nodes = g.param_nodes(net.params.len());
    // The node that is ∂ℓ/∂v, by v.
    let mut adjoint_of = std::collections::BTreeMap::new();
    for id in g.ids() {
        if let Role::Adjoint(of) = g.node(id).role {
            adjoint_of.entry(of).or_insert(id);
        }
    }
    let mut cut = false;
    for (param, pid) in net.params.iter().zip(&param_nodes) {
        let Some(pid) = *pid else {
            continue;
        };
        let lhs = nt.partial(&nt.pick_ell(), &nt.name(&param.name));
        let adjoint = adjoint_of.get(&pid).copied();
        let chain = chains.chain_rule(pid, nt);
        cut |= chain.as_ref().is_some_and(|c| c.1);
        let chain = chain.map(|c| c.0);
        let rhs = match adjoint {
            Some(a) => writer.formula(a),
            None => "0".into(),
        };
        let rhs = match chain {
            Some(chain) => format!("{chain} = {rhs}"),
            None => rhs,
        };
        let note = if adjoint.is_none() {
            "no gradient reaches it"
        } else {
            ""
        };
        eq(&mut out, &lhs, &rhs, note);
    }
    close(&mut out);
    if cut {
        let text = format!(
            "Chains of more than {LONGEST_CHAIN} factors start at the shared product nearest the parameter (below)."
        );
        if md {
            let _ = writeln!(out, "\n{text}");
        } else {
            let _ = writeln!(out, "   {text}");
        }
    }

    let shared: Vec<NodeId> = g
        .ids()
        .filter(|id| labels.letters[id.index()].is_some())
        .collect();
    if !shared.is_empty() {
        if md {
            out.push_str("\nShared products, computed once, output side first:\n\n");
        } else {
            out.push_str("\n   Shared products (computed once, output side first):\n");
        }
        open(&mut out);
        let used_by = UsedBy::new(g, &labels, nt);
        for id in &shared {
            let letter = labels.letters[id.index()].clone().unwrap_or_default();
            let Role::Adjoint(of) = g.node(*id).role else {
                continue;
            };
            let of_name = label(of).unwrap_or_else(|| nt.name(&labels.names[of.index()]));
            let lhs = format!("{letter} = {}", nt.partial(&nt.pick_ell(), &of_name));
            let used_by = used_by.of(*id);
            let note = match nt {
                Notation::Unicode => format!("used by {}", used_by.join(", ")),
                Notation::Latex => format!("used by \u{1}{}", used_by.join(r",\ ")),
            };
            eq(&mut out, &lhs, &writer.formula(*id), &note);
        }
        close(&mut out);
    }
    let reused: Vec<String> = g
        .nodes
        .iter()
        .filter_map(|n| match n.op {
            Op::Deriv(f) if !matches!(n.role, Role::Forward { .. }) && f.derivative_uses_y() => {
                label(n.args[1]).map(|y| crate::ir::math::derivative(f, "z", &y, nt))
            }
            _ => None,
        })
        .collect();
    if !reused.is_empty() {
        let verb = if reused.len() == 1 {
            "reuses the forward value"
        } else {
            "reuse the forward values"
        };
        let list = match nt {
            Notation::Unicode => reused.join(", "),
            Notation::Latex => reused
                .iter()
                .map(|r| format!("${r}$"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let indent = if md { "\n" } else { "   " };
        let _ = writeln!(
            out,
            "{indent}{list} {verb}: no activation is computed twice."
        );
    }

    out.push_str(&windows::convolutions(
        g,
        &labels.names,
        &|id| labels.letters[id.index()].clone(),
        md,
    ));
    out.push_str(&sequences::sequences(g, &labels.names, md));

    // 3. Update
    heading(&mut out, &format!("3. Update: {}", net.optimizer.text()));
    let params: Vec<String> = net.params.iter().map(|p| nt.name(&p.name)).collect();
    let grad = nt.partial("E", "W");
    let batch_mean = match nt {
        Notation::Unicode => format!("{grad} = (1/N) Σ_b ∂ℓ_b/∂W"),
        Notation::Latex => {
            format!(r"{grad} = \frac{{1}}{{N}} \sum_b \frac{{\partial \ell_b}}{{\partial W}}")
        }
    };
    let rule = match (net.optimizer.clone(), nt) {
        (Optimizer::Sgd { lr }, Notation::Unicode) => format!("W ← W − η {grad}   (η = {lr})"),
        (Optimizer::Sgd { lr }, Notation::Latex) => format!(r"W \leftarrow W - \eta \, {grad} \quad (\eta = {lr})"),
        (Optimizer::Momentum { lr, beta }, Notation::Unicode) => {
            format!("v ← β v + {grad};  W ← W − η v   (η = {lr}, β = {beta})")
        }
        (Optimizer::Momentum { lr, beta }, Notation::Latex) => {
            format!(r"v \leftarrow \beta v + {grad}, \quad W \leftarrow W - \eta v \quad (\eta = {lr}, \beta = {beta})")
        }
        (Optimizer::Adam { lr, .. }, Notation::Unicode) => format!(
            "m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  W ← W − η m̂/(√v̂ + ε)   (g = {grad}, η = {lr})"
        ),
        (Optimizer::Adam { lr, .. }, Notation::Latex) => format!(
            r"m \leftarrow \beta_1 m + (1 - \beta_1) g, \; v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \; W \leftarrow W - \eta \frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}} \quad (g = {grad}, \eta = {lr})"
        ),
    };
    if md {
        let _ = writeln!(
            out,
            "$$\n{rule}\n$$\n\nfor W in {}, where\n\n$$\n{batch_mean}\n$$",
            params
                .iter()
                .map(|p| format!("${p}$"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "   {rule}\n   for W in {}, where {batch_mean}",
            params.join(", ")
        );
    }

    // The ledger
    let l = ledger(g);
    let no_gradient = l.naive == 0;
    let saved = l.naive.saturating_sub(l.backward);
    let percent = (100 * u128::from(saved) + u128::from(l.naive / 2))
        .checked_div(u128::from(l.naive))
        .unwrap_or(0);
    // Past u64, the naive count is a lower bound.
    let count = |n: u64| match n {
        u64::MAX => "over 1.8·10¹⁹".to_string(),
        n => n.to_string(),
    };
    let saved = match l.naive {
        u64::MAX => format!("all but {}", l.backward),
        _ => count(saved),
    };
    let naive = count(l.naive);
    heading(
        &mut out,
        "Cost per sample (multiplications; a matrix product counts its multiply-adds)",
    );
    if md {
        let _ = writeln!(out, "| pass | multiplications |\n|---|---:|");
        let _ = writeln!(out, "| forward | {} |", l.forward);
        let _ = writeln!(out, "| backward, shared products | {} |", l.backward);
        let _ = writeln!(out, "| backward, every weight on its own | {naive} |");
        if no_gradient {
            let _ = writeln!(
                out,
                "\nNo gradient flows to any parameter: there is nothing to share."
            );
        } else {
            let _ = writeln!(
                out,
                "\nBackpropagation saves {saved} of {naive} ({percent}%); the saving grows with depth and width."
            );
        }
    } else {
        let _ = writeln!(out, "   {:<40} {:>8}", "forward", l.forward);
        let _ = writeln!(
            out,
            "   {:<40} {:>8}",
            if shared.is_empty() {
                "backward, with backpropagation"
            } else {
                "backward, shared products (above)"
            },
            l.backward
        );
        let _ = writeln!(
            out,
            "   {:<40} {:>8}   (each ∂ℓ/∂w its own chain-rule product)",
            "backward, every weight on its own", naive
        );
        if no_gradient {
            let _ = writeln!(
                out,
                "   no gradient flows to any parameter: there is nothing to share."
            );
        } else {
            let _ = writeln!(out, "   backpropagation saves {saved} of {naive} ({percent}%); the saving grows with depth and width.");
        }
    }
    out
}

impl Notation {
    fn pick_ell(self) -> String {
        match self {
            Notation::Unicode => "ℓ".into(),
            Notation::Latex => r"\ell".into(),
        }
    }
}

fn labels(net: &Net, g: &Graph) -> Labels {
    let names = names(net, g);
    let gradients_live = g.live(&g.gradients);
    let users = users(g);
    let mut equations = vec![false; g.nodes.len()];
    let mut letters = vec![None; g.nodes.len()];
    // Shared products, lettered output side first.
    let shared: Vec<NodeId> = g
        .ids()
        .filter(|&id| {
            let n = g.node(id);
            matches!(n.role, Role::Adjoint(of) if !matches!(g.node(of).op, Op::Param(_)) && (n_named(g, of)))
                && gradients_live[id.index()]
                && users[id.index()]
                    .iter()
                    .filter(|u| gradients_live[u.index()])
                    .count()
                    > 1
        })
        .collect();
    // A, B, …, Z, A1, A2, …, skipping the network's own names (a parameter
    // `C`, a value `P`) and the letters the explanation already uses: E for
    // the batch's loss, N for its size.
    let taken: std::collections::BTreeSet<&str> =
        names.iter().map(String::as_str).chain(["E", "N"]).collect();
    let mut candidates = (b'A'..=b'Z')
        .map(|c| (c as char).to_string())
        .chain((1..).map(|k| format!("A{k}")))
        .filter(|l| !taken.contains(l.as_str()));
    for id in shared {
        letters[id.index()] = candidates.next();
    }
    for id in g.ids() {
        let n = g.node(id);
        equations[id.index()] = matches!(n.role, Role::Forward { .. })
            && !n.args.is_empty()
            && (n.name.is_some() || n.hint.is_some());
    }
    let _ = shape_text;
    Labels {
        names,
        letters,
        equations,
    }
}

/// Whether a forward node is written as its own equation (it has a name).
fn n_named(g: &Graph, id: NodeId) -> bool {
    let n = g.node(id);
    !n.args.is_empty() && (n.name.is_some() || n.hint.is_some())
}
