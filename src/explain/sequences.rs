//! The chain rule through attention and through layer normalization, for
//! `explain`: read off the derived graph, as `windows.rs` reads each
//! convolution's.
//!
//! - Attention, `a = softmax(causal(q·kᵀ / s))` and `o = a·v`: the four
//!   products of the backward pass (two from `a·v`, two from `q·kᵀ`), the
//!   row sum that softmax's derivative shares among a row's entries, the mask
//!   that passes δ only where a position sees another; and what computing
//!   each δ once saves.
//! - Layer normalization, `c = x − mean_j(x)`, `n = c / √(mean_j(c²) + ε)`:
//!   its two row sums (∂ℓ/∂σ and ∂ℓ/∂μ, one number per row, shared by the
//!   row's d elements) and the closed form they add up to.
//! - A lookup `E[i]` (an embedding): its gradient adds each position's δ into
//!   the row it read — a scatter-add, the product with the one-hot matrix of
//!   the indices without its multiplications — and a table used elsewhere
//!   too (weights tied with an output) sums both.

use std::fmt::Write as _;

use super::windows::{cone_cost, readers};
use crate::ir::math::{Notation, Writer};
use crate::ir::{Graph, NodeId, Op, Role};
use crate::lang::Func;

/// The paragraphs on every attention head and layer norm that a gradient
/// flows through; empty without one.
pub(super) fn sequences(g: &Graph, names: &[String], md: bool) -> String {
    let users = readers(g);
    // ∂ℓ/∂v by name, every other value by its own name.
    let adjoint_of = |id: NodeId| match g.node(id).role {
        Role::Adjoint(of) => Some(of),
        _ => None,
    };
    let label = |id: NodeId| -> Option<String> {
        let n = g.node(id);
        if let Some(of) = adjoint_of(id) {
            return Some(format!("∂ℓ/∂{}", names[of.index()]));
        }
        let named = matches!(
            n.op,
            Op::Input(_) | Op::Target(_) | Op::Param(_) | Op::DropoutMask { .. }
        ) || (matches!(n.role, Role::Forward { .. })
            && (n.name.is_some() || n.hint.is_some()));
        named.then(|| names[id.index()].clone())
    };
    let writer = Writer::new(g, Notation::Unicode, &label).per_sample();
    let mut out = String::new();
    for o in g.ids() {
        if let Some(lines) = attention(g, names, &users, &writer, o) {
            write(&mut out, &lines, md);
        }
    }
    for n in g.ids() {
        if let Some(lines) = layer_norm(g, names, &users, &writer, n) {
            write(&mut out, &lines, md);
        }
    }
    for y in g.ids() {
        if let Some(lines) = lookup(g, names, &users, &writer, y) {
            write(&mut out, &lines, md);
        }
    }
    for mu in g.ids() {
        if let Some(lines) = batch_norm(g, names, &users, &writer, mu) {
            write(&mut out, &lines, md);
        }
    }
    for mask in g.ids() {
        if let Some(lines) = dropout(g, names, &users, &writer, mask) {
            write(&mut out, &lines, md);
        }
    }
    out
}

/// Dropout, `y = x ⊙ mask`: the same mask forward and back.
fn dropout(
    g: &Graph,
    names: &[String],
    users: &[Vec<NodeId>],
    writer: &Writer<'_>,
    mask: NodeId,
) -> Option<Vec<String>> {
    let Op::DropoutMask { p, .. } = g.node(mask).op else {
        return None;
    };
    let y = reader(g, users, mask, Op::Mul, |args| args.get(1) == Some(&mask))?;
    let x = g.node(y).args[0];
    let keep_p = round(1.0 - p);
    let (m, keep) = (names[mask.index()].clone(), format!("1/{keep_p}"));
    // A value by its name, or written out where it has none.
    let shown = |id: NodeId| {
        writer
            .label(id)
            .unwrap_or_else(|| format!("({})", writer.formula(id)))
    };
    let mut lines = vec![format!(
        "The chain rule through dropout: {} = {} ⊙ {m}, each element of {m} {keep} with probability {keep_p}, else 0 (drawn anew each step)",
        shown(y),
        shown(x),
    )];
    if let Some(&d_x) = g.adjoints.get(&x) {
        lines.push(format!(
            "  ∂ℓ/∂{} = {}   (through the same mask: a dropped element passes no gradient)",
            shown(x),
            writer.formula(d_x)
        ));
    }
    lines.push(format!(
        "  In inference (forward, loss, ONNX) {m} is 1: the scaling by {keep} while training keeps each element's expected value."
    ));
    Some(lines)
}

/// Batch normalization, `μ_B = mean_b(x)`, `c = x − μ_B`,
/// `σ²_B = mean_b(c²)`, `n̂ = c / √(σ²_B + ε)`: the two sums over the batch
/// its gradient shares (∂ℓ/∂σ²_B and ∂ℓ/∂μ_B, one number per feature), and
/// the closed form they add up to. `mu` is the batch mean.
fn batch_norm(
    g: &Graph,
    names: &[String],
    users: &[Vec<NodeId>],
    writer: &Writer<'_>,
    mu: NodeId,
) -> Option<Vec<String>> {
    let Op::BatchStat { .. } = g.node(mu).op else {
        return None;
    };
    let x = g.node(mu).args[0];
    // x̄ = x − μ_B, whose squares' batch mean is σ²_B.
    let c = reader(g, users, mu, Op::Sub, |args| args == [x, mu])?;
    let squares = reader(g, users, c, Op::Map(Func::Square), |_| true)?;
    let var = *users[squares.index()]
        .iter()
        .find(|&&v| matches!(g.node(v).op, Op::BatchStat { .. }))?;
    let (&d_var, &d_mu) = (g.adjoints.get(&var)?, g.adjoints.get(&mu)?);
    // σ_B = √(σ²_B + ε) and n̂ = x̄ / σ_B.
    let shifted = reader(g, users, var, Op::Add, |_| true);
    let sigma = shifted.and_then(|v| reader(g, users, v, Op::Map(Func::Sqrt), |_| true));
    let hat = sigma.and_then(|s| reader(g, users, c, Op::Div, |args| args == [c, s]));
    let mut letters = vec![(mu, "μ_B"), (c, "x̄"), (var, "σ²_B")];
    letters.extend(sigma.map(|s| (s, "σ_B")));
    letters.extend(hat.map(|h| (h, "n̂")));
    let own = lettered(g, writer, &letters, "E");
    // Sums over the batch shown as sums (Σ_b), not as one sample's term.
    let sums = Writer::new(g, Notation::Unicode, &own);
    let writer = Writer::new(g, Notation::Unicode, &own).per_sample();
    let name = |id: NodeId| names[id.index()].clone();
    let ty = &g.node(x).ty;
    let (features, over, behind) = match ty.shape.as_slice() {
        [c, h, w] => (*c, "the batch and the pixels", format!("N·{}", h * w)),
        [t, d] => (*d, "the batch and the rows", format!("N·{t}")),
        [n] => (*n, "the batch", "N".to_string()),
        _ => return None,
    };
    let mut lines = vec![format!(
        "The chain rule through the batch normalization of {}: μ_B = {}, x̄ = {} − μ_B, σ²_B = {} — values of the whole batch, over {over}",
        name(x),
        writer.formula(mu),
        name(x),
        writer.formula(var),
    )];
    lines.push(format!(
        "  ∂E/∂σ²_B = {}   (a sum over the batch: one number per feature, {features} in all, shared by the {behind} values behind each)",
        sums.formula(d_var)
    ));
    lines.push(format!(
        "  ∂E/∂μ_B = {}   (the other sum over the batch)",
        sums.formula(d_mu)
    ));
    if let Some(&d_x) = g.adjoints.get(&x) {
        lines.push(format!("  ∂E/∂{} = {}", name(x), writer.formula(d_x)));
    }
    lines.push(format!(
        "  Together: ∂E/∂x_b = (δ̂_b − mean_B(δ̂) − n̂_b ⊙ mean_B(δ̂ ⊙ n̂)) / σ_B with δ̂ = ∂E/∂n̂ — every sample's gradient \
         depends on the whole batch through two sums per feature, where each feature's Jacobian over the batch has {} entries.",
        if behind == "N" { "N²".to_string() } else { format!("({behind})²") }
    ));
    Some(lines)
}

/// The lookup `y = E[i]` of rows (or entries) of a table with a gradient.
fn lookup(
    g: &Graph,
    names: &[String],
    users: &[Vec<NodeId>],
    writer: &Writer<'_>,
    y: NodeId,
) -> Option<Vec<String>> {
    if !forward(g, y, |op| op == Op::Gather) {
        return None;
    }
    let (table, index) = (g.node(y).args[0], g.node(y).args[1]);
    let delta = *g.adjoints.get(&y)?;
    let scatter = made_by(g, users, y, &[index, delta], &|op| op == Op::ScatterAdd)?;
    let name = |id: NodeId| names[id.index()].clone();
    let (e, i) = (name(table), name(index));
    let shape = &g.node(table).ty.shape;
    let rows = shape.first().copied().unwrap_or(1);
    let width = shape.get(1).copied().unwrap_or(1);
    let positions = g.node(index).ty.shape.iter().product::<usize>();
    let d = writer
        .label(delta)
        .unwrap_or_else(|| format!("∂ℓ/∂{}", name(y)));
    let (entry, j) = if shape.len() == 2 {
        ("row", ", j")
    } else {
        ("entry", "")
    };
    let element = if g.node(index).ty.shape.is_empty() {
        format!(
            "∂ℓ/∂{e}[{i}{j}] = {d}[{}], every other {entry} 0 (over a batch: each {entry} sums the δ's of the samples that read it)",
            j.trim_start_matches(", ")
        )
    } else {
        format!("∂ℓ/∂{e}[r{j}] = Σ over the positions t with {i}[t] = r of {d}[t{j}]")
    };
    let mut lines = vec![format!(
        "The chain rule through the lookup {} = {e}[{i}]: each {entry} of {e} gets the δ of every position that read it",
        name(y)
    )];
    lines.push(format!(
        "  ∂ℓ/∂{e} = {}   (from this lookup)",
        writer.formula(scatter)
    ));
    lines.push(format!(
        "  {element} — a scatter-add: the product with onehot({i}) would take {} multiplications a sample, the scatter-add none ({} additions); \
         a {entry} read twice gets both δ's, a {entry} never read gets 0.",
        rows * positions * width,
        positions * width,
    ));
    if let Some(&total) = g.adjoints.get(&table) {
        if total != scatter {
            lines.push(format!(
                "  {e} is used elsewhere too (weights tied): its gradient is the sum of every use's, ∂ℓ/∂{e} = {}",
                writer.formula(total)
            ));
        }
    }
    Some(lines)
}

fn write(out: &mut String, lines: &[String], md: bool) {
    out.push('\n');
    for (i, line) in lines.iter().enumerate() {
        match (md, i) {
            (true, 0) => {
                let _ = writeln!(out, "{line}\n");
            }
            (true, _) if line.starts_with("  ") => {
                let _ = writeln!(out, "- `{}`", line.trim_start());
            }
            (true, _) => {
                let _ = writeln!(out, "\n{line}");
            }
            (false, _) => {
                let _ = writeln!(out, "   {line}");
            }
        }
    }
}

/// A forward node of `op`.
fn forward(g: &Graph, id: NodeId, op: impl Fn(Op) -> bool) -> bool {
    let n = g.node(id);
    op(n.op) && matches!(n.role, Role::Forward { .. })
}

/// The backward node made by the rule of `from` that computes `op` from
/// exactly `args`.
fn made_by(
    g: &Graph,
    users: &[Vec<NodeId>],
    from: NodeId,
    args: &[NodeId],
    op: &dyn Fn(Op) -> bool,
) -> Option<NodeId> {
    users[args[0].index()].iter().copied().find(|&u| {
        let n = g.node(u);
        n.from == Some(from) && op(n.op) && n.args == args
    })
}

/// Attention through the head whose output is `o = a·v`, `a` a softmax of
/// (scaled, masked) scores `q·kᵀ`.
fn attention(
    g: &Graph,
    names: &[String],
    users: &[Vec<NodeId>],
    writer: &Writer<'_>,
    o: NodeId,
) -> Option<Vec<String>> {
    if !forward(g, o, |op| {
        op == Op::BatchMatMul {
            ta: false,
            tb: false,
        }
    }) {
        return None;
    }
    let (a, v) = (g.node(o).args[0], g.node(o).args[1]);
    if !forward(g, a, |op| op == Op::Softmax) {
        return None;
    }
    // Down from the softmax to the product of scores: causal, a scale.
    let mut s = g.node(a).args[0];
    let mut masked = false;
    let mut scale = None;
    loop {
        let n = g.node(s);
        match n.op {
            Op::Causal => {
                masked = true;
                s = n.args[0];
            }
            Op::Div | Op::Mul if matches!(g.node(n.args[1]).op, Op::Const(_)) => {
                let Op::Const(c) = g.node(n.args[1]).op else {
                    return None;
                };
                scale = Some(if n.op == Op::Div { 1.0 / c } else { c });
                s = n.args[0];
            }
            Op::BatchMatMul {
                ta: false,
                tb: true,
            } => break,
            _ => return None,
        }
    }
    let (q, k) = (g.node(s).args[0], g.node(s).args[1]);
    let (&delta_o, &delta_s) = (g.adjoints.get(&o)?, g.adjoints.get(&s)?);
    let name = |id: NodeId| names[id.index()].clone();
    let product = |op: Op| move |x: Op| x == op;
    let mut scores = format!("{}·{}ᵀ", name(q), name(k));
    if let Some(c) = scale {
        scores = format!("{scores} · {}", round(c));
    }
    if masked {
        scores = format!("causal({scores})");
    }
    let mut lines = vec![format!(
        "The chain rule through the attention of {}: {} = softmax({scores}), {} = {}·{}",
        name(o),
        name(a),
        name(o),
        name(a),
        name(v),
    )];
    let formula = |lines: &mut Vec<String>, lhs: String, id: Option<NodeId>, what: &str| {
        if let Some(id) = id {
            lines.push(format!("  {lhs} = {}   ({what})", writer.formula(id)));
        }
    };
    let d_v = made_by(
        g,
        users,
        o,
        &[a, delta_o],
        &product(Op::BatchMatMul {
            ta: true,
            tb: false,
        }),
    );
    let d_a = made_by(
        g,
        users,
        o,
        &[delta_o, v],
        &product(Op::BatchMatMul {
            ta: false,
            tb: true,
        }),
    );
    formula(
        &mut lines,
        format!("∂ℓ/∂{}", name(v)),
        d_v,
        "the first product of a·v's δ",
    );
    formula(&mut lines, format!("∂ℓ/∂{}", name(a)), d_a, "the second");
    let row_sum = g
        .ids()
        .find(|&u| g.node(u).from == Some(a) && matches!(g.node(u).op, Op::SumAxis(_)));
    formula(
        &mut lines,
        format!("∂ℓ/∂z_{}", name(a)),
        g.adjoints.get(&g.node(a).args[0]).copied(),
        "softmax of each row: y ⊙ (δ − Σ_j y ⊙ δ)",
    );
    if let Some(r) = row_sum {
        lines.push(format!(
            "  its row sum {} is computed once per row and shared by the row's {} entries",
            writer.formula(r),
            g.node(a).ty.shape.last().copied().unwrap_or(1)
        ));
    }
    if masked {
        lines.push("  (causal: δ passes where the column is at most the row — a position is moved only by what it saw)".into());
    }
    let d_q = made_by(
        g,
        users,
        s,
        &[delta_s, k],
        &product(Op::BatchMatMul {
            ta: false,
            tb: false,
        }),
    );
    let d_k = made_by(
        g,
        users,
        s,
        &[delta_s, q],
        &product(Op::BatchMatMul {
            ta: true,
            tb: false,
        }),
    );
    formula(
        &mut lines,
        format!("∂ℓ/∂{}", name(q)),
        d_q,
        "the first product of q·kᵀ's δ",
    );
    formula(&mut lines, format!("∂ℓ/∂{}", name(k)), d_k, "the second");
    let cone = |d: NodeId| cone_cost(g, d);
    lines.push(format!(
        "  Four products from two δ's: ∂ℓ/∂{o} serves ∂ℓ/∂{v} and ∂ℓ/∂{a} (computed once, it saves the {} multiplications a sample \
         of the chain above it), ∂ℓ/∂{s} serves ∂ℓ/∂{q} and ∂ℓ/∂{k} (once, it saves {}).",
        cone(delta_o),
        cone(delta_s).saturating_sub(cone(delta_o)),
        o = name(o),
        v = name(v),
        a = name(a),
        s = name(s),
        q = name(q),
        k = name(k),
    ));
    Some(lines)
}

/// Layer normalization of each row: `n = c / σ`, `c = x − μ`,
/// `σ = √(mean_j(c²) + ε)`, `μ = mean_j(x)`; `n` the division.
fn layer_norm(
    g: &Graph,
    names: &[String],
    users: &[Vec<NodeId>],
    writer: &Writer<'_>,
    n: NodeId,
) -> Option<Vec<String>> {
    let _ = users;
    if !forward(g, n, |op| op == Op::Div) {
        return None;
    }
    let (c, sigma) = (g.node(n).args[0], g.node(n).args[1]);
    let last = g.node(c).ty.shape.len().checked_sub(1)?;
    // σ = √(v + ε), v = mean_j(c²) (or of c ⊙ c)
    let sq = g.node(sigma);
    if sq.op != Op::Map(Func::Sqrt) {
        return None;
    }
    let plus = g.node(sq.args[0]);
    let v = match plus.op {
        Op::Add if matches!(g.node(plus.args[1]).op, Op::Const(_)) => plus.args[0],
        _ => return None,
    };
    let vn = g.node(v);
    if vn.op != Op::MeanAxis(last) {
        return None;
    }
    let squares = g.node(vn.args[0]);
    let squares_c = match squares.op {
        Op::Map(Func::Square) => squares.args[0] == c,
        Op::Mul => squares.args[0] == c && squares.args[1] == c,
        _ => false,
    };
    // c = x − μ, μ = mean_j(x)
    let cn = g.node(c);
    if !squares_c || cn.op != Op::Sub {
        return None;
    }
    let (x, mu) = (cn.args[0], cn.args[1]);
    let mn = g.node(mu);
    if mn.op != Op::MeanAxis(last) || mn.args[0] != x {
        return None;
    }
    let (&d_sigma, &d_mu) = (g.adjoints.get(&sigma)?, g.adjoints.get(&mu)?);
    let name = |id: NodeId| names[id.index()].clone();
    let d = g.node(x).ty.shape[last];
    // The layer norm's own letters: μ, c, σ, n̂ (and their ∂ℓ/∂).
    let letters = [(mu, "μ"), (c, "c"), (sigma, "σ"), (n, "n̂")];
    let own = lettered(g, writer, &letters, "ℓ");
    let writer = Writer::new(g, Notation::Unicode, &own).per_sample();
    // n̂ by its own name only when the user gave it one.
    let named = match &g.node(n).name {
        Some(user) => format!(" (= {user})"),
        None => String::new(),
    };
    let mut lines = vec![format!(
        "The chain rule through the layer norm of {}: μ = {}, c = {} − μ, σ = {}, n̂ = c / σ{named}",
        name(x),
        writer.formula(mu),
        name(x),
        writer.formula(sigma),
    )];
    lines.push(format!(
        "  ∂ℓ/∂σ = {}   (a row sum: one number per row, shared by the row's {d} elements)",
        writer.formula(d_sigma)
    ));
    lines.push(format!(
        "  ∂ℓ/∂μ = {}   (the other row sum)",
        writer.formula(d_mu)
    ));
    if let Some(&d_x) = g.adjoints.get(&x) {
        lines.push(format!("  ∂ℓ/∂{} = {}", name(x), writer.formula(d_x)));
    }
    lines.push(format!(
        "  Together: ∂ℓ/∂x = (δ̂ − mean_j(δ̂) − n̂ ⊙ mean_j(δ̂ ⊙ n̂)) / σ with δ̂ = ∂ℓ/∂n̂ — two sums per row \
         of {d}, where the row's Jacobian has {} entries.",
        d * d
    ));
    Some(lines)
}

/// A labeller naming the nodes of `letters` by their letter and their
/// adjoints `∂{of}/∂letter`, every other node as `writer` does: the letters
/// of a layer's own derivation.
fn lettered<'a>(
    g: &'a Graph,
    writer: &'a Writer<'_>,
    letters: &'a [(NodeId, &'static str)],
    of: &'static str,
) -> impl Fn(NodeId) -> Option<String> + 'a {
    let letter = move |id: NodeId| letters.iter().find(|(v, _)| *v == id).map(|(_, l)| *l);
    move |id: NodeId| {
        if let Some(l) = letter(id) {
            return Some(l.to_string());
        }
        match g.node(id).role {
            Role::Adjoint(v) => letter(v).map(|l| format!("∂{of}/∂{l}")),
            _ => None,
        }
        .or_else(|| writer.label(id))
    }
}

/// The forward node reading `v` with `op` whose arguments pass `args`.
fn reader(
    g: &Graph,
    users: &[Vec<NodeId>],
    v: NodeId,
    op: Op,
    args: impl Fn(&[NodeId]) -> bool,
) -> Option<NodeId> {
    users[v.index()]
        .iter()
        .copied()
        .find(|&u| forward(g, u, |o| o == op) && args(&g.node(u).args))
}

/// A number as a short decimal (1/√16 is 0.25).
fn round(c: f64) -> String {
    let s = format!("{c:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
