//! The walk-through with the user's own numbers: the derived graph
//! evaluated in f64 ([`crate::evaluate`]) on one sample of a batch (on the
//! whole batch where `batch_norm` couples the samples), every forward value,
//! every δ and every gradient shown, and each gradient compared with central
//! finite differences of the loss.

use std::fmt::Write as _;

use ndarray::{ArrayD, Axis};

use super::{escape, Marks};
use crate::check::Net;
use crate::evaluate::{self, Feed};
use crate::explain::derivation::Derivation;
use crate::ir::{Graph, NodeId, Op, Role};

/// The numbers a walk-through starts from: a network's parameters and
/// running statistics by name, its dropout seed and step count, and a batch.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// Each parameter by its `.nn` name.
    pub params: Vec<(String, ArrayD<f64>)>,
    /// Each running statistic of a batch normalization by name.
    pub statistics: Vec<(String, ArrayD<f64>)>,
    /// The seed of the dropout masks (0 when not given).
    pub dropout_seed: Option<u64>,
    /// The optimizer's step count: with the seed, what decides the masks.
    pub step: u64,
    /// Each input's batch `[B, …]`, in declaration order (indices as
    /// numbers).
    pub inputs: Vec<ArrayD<f64>>,
    /// Each target's batch `[B, …]`, in declaration order.
    pub targets: Vec<ArrayD<f64>>,
    /// The sample of the batch to follow (where the samples are not coupled).
    pub sample: usize,
}

/// One parameter's gradient compared with central finite differences.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The parameter.
    pub param: String,
    /// How many of its elements were perturbed.
    pub checked: usize,
    /// How many elements it has.
    pub of: usize,
    /// The derived gradient at the element that differs most.
    pub exact: f64,
    /// The central difference (E(w + h) − E(w − h)) / 2h there.
    pub approximate: f64,
    /// The largest |exact − approximate| over the elements checked.
    pub difference: f64,
    /// Whether every element agrees: a difference within 10⁻⁶ of the larger
    /// of 1 and |exact|.
    pub agrees: bool,
}

/// What the walk-through computed.
#[derive(Debug, Clone)]
pub struct Numbers {
    /// The loss E of the samples followed.
    pub loss: f64,
    /// ∂E/∂W of each parameter, in declaration order.
    pub gradients: Vec<(String, ArrayD<f64>)>,
    /// Each gradient against finite differences.
    pub checks: Vec<Check>,
    /// Whether the whole batch was followed (`batch_norm`), not one sample.
    pub whole_batch: bool,
    /// The batch's size as followed.
    pub samples: usize,
    values: Vec<Option<ArrayD<f64>>>,
    sample: usize,
    dropout: Option<(u64, u64)>,
}

/// The step of the central differences.
const H: f64 = 1e-6;
/// How many elements are perturbed in all, at most (and per parameter at
/// least 4, at most 24).
const BUDGET: usize = 480;

/// Evaluates the network's derived graph on the given numbers.
pub(crate) fn compute(net: &Net, graph: &Graph, given: &Given) -> Result<Numbers, String> {
    let whole_batch = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::BatchStat { .. }));
    let mut feed = Feed {
        params: by_name(
            "parameter",
            &given.params,
            net.params.iter().map(|p| (&p.name, &p.shape)),
        )?,
        statistics: by_name(
            "running statistic",
            &given.statistics,
            net.statistics.iter().map(|s| (&s.name, &s.shape)),
        )?,
        dropout_seed: given.dropout_seed.unwrap_or(0),
        step: given.step,
        ..Feed::default()
    };
    if given.dropout_seed.is_none() && has(graph, |op| matches!(op, Op::DropoutMask { .. })) {
        return Err(format!(
            "`{}` has dropout, and no dropout seed was given (a file of `save` or `save_checkpoint` has it)",
            net.name
        ));
    }
    // The batch size: the first argument's leading axis (a scalar given
    // where a batch belongs is then refused by the shape check).
    let batch = given
        .inputs
        .iter()
        .chain(&given.targets)
        .find_map(|a| a.shape().first().copied())
        .unwrap_or(0);
    feed.inputs = batch_of(&net.name, &net.inputs, &given.inputs, batch)?;
    feed.targets = batch_of(&net.name, &net.targets, &given.targets, batch)?;
    if whole_batch {
        coupled(net, graph, batch)?;
    } else {
        if given.sample >= batch {
            return Err(format!(
                "there is no sample {} in a batch of {batch} (they are counted from 0)",
                given.sample
            ));
        }
        for a in feed.inputs.iter_mut().chain(feed.targets.iter_mut()) {
            *a = a
                .index_axis(Axis(0), given.sample)
                .insert_axis(Axis(0))
                .to_owned();
        }
        // Dropout draws each row's mask from its place in the batch.
        feed.first_row = given.sample;
    }
    let mut roots = graph.roots();
    roots.extend(graph.adjoints.values().copied());
    let values = evaluate::evaluate(graph, &feed, &roots)?;
    let value = |id: NodeId| values[id.index()].clone().expect("a root has a value");
    let loss = value(graph.loss).iter().next().copied().unwrap_or(f64::NAN);
    let gradients: Vec<(String, ArrayD<f64>)> = net
        .params
        .iter()
        .zip(&graph.gradients)
        .map(|(p, &g)| (p.name.clone(), value(g)))
        .collect();
    let checks = finite_differences(graph, &mut feed, loss, &gradients)?;
    let dropout = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::DropoutMask { .. }))
        .then_some((feed.dropout_seed, feed.step));
    Ok(Numbers {
        loss,
        gradients,
        checks,
        whole_batch,
        samples: feed.batch_size(),
        values,
        sample: given.sample,
        dropout,
    })
}

/// Whether the graph has an op.
fn has(graph: &Graph, op: impl Fn(Op) -> bool) -> bool {
    graph.nodes.iter().any(|n| op(n.op))
}

/// The most samples a walk-through of a network whose samples are coupled
/// (`batch_norm`) follows: all of them, in every table.
const MOST_COUPLED: usize = 256;

/// The batch a network with `batch_norm` is followed on, checked: each
/// statistic averages at least 2 values (as training requires), and the
/// batch is small enough to show.
fn coupled(net: &Net, graph: &Graph, batch: usize) -> Result<(), String> {
    for n in &graph.nodes {
        if let Op::BatchStat { .. } = n.op {
            let per_sample = graph.node(n.args[0]).ty.values_per_feature();
            if batch * per_sample < 2 {
                return Err(format!(
                    "`{}` normalizes over the batch (batch_norm), which needs at least 2 values of each feature; give at least 2 samples",
                    net.name
                ));
            }
        }
    }
    if batch > MOST_COUPLED {
        return Err(format!(
            "`{}` normalizes over the batch (batch_norm), so the walk-through follows every sample of it: give at most {MOST_COUPLED} (the batch has {batch})",
            net.name
        ));
    }
    Ok(())
}

/// The given arrays in the network's order, each checked against its shape.
fn by_name<'a>(
    what: &str,
    given: &[(String, ArrayD<f64>)],
    expected: impl Iterator<Item = (&'a String, &'a Vec<usize>)>,
) -> Result<Vec<ArrayD<f64>>, String> {
    expected
        .map(|(name, shape)| {
            let (_, v) = given
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| format!("no value for the {what} `{name}`"))?;
            if v.shape() != shape.as_slice() {
                return Err(format!(
                    "the {what} `{name}` has shape {:?}, the network needs {:?}",
                    v.shape(),
                    shape
                ));
            }
            Ok(v.as_standard_layout().into_owned())
        })
        .collect()
}

/// Each input (or target) of the batch, checked: one per declaration, each
/// `[B, …]` with the declared per-sample shape, indices whole numbers in
/// their range.
fn batch_of(
    network: &str,
    decls: &[crate::check::Decl],
    given: &[ArrayD<f64>],
    batch: usize,
) -> Result<Vec<ArrayD<f64>>, String> {
    if given.len() != decls.len() {
        return Err(format!(
            "`{network}` takes {} of these, and {} were given",
            decls.len(),
            given.len()
        ));
    }
    decls
        .iter()
        .zip(given)
        .map(|(d, a)| {
            let mut want = vec![batch];
            want.extend(&d.shape);
            if a.shape() != want.as_slice() {
                return Err(format!(
                    "`{}` is a batch of shape {:?}, where `{network}` needs {:?} (B = {batch})",
                    d.name,
                    a.shape(),
                    want
                ));
            }
            if let Some(bad) = a.iter().find(|v| !v.is_finite()) {
                return Err(format!(
                    "`{}` holds {bad}, which is not a finite number",
                    d.name
                ));
            }
            if let Some(range) = d.range {
                if let Some(bad) = a
                    .iter()
                    .find(|v| **v < 0.0 || v.fract() != 0.0 || **v as usize >= range)
                {
                    return Err(format!(
                        "`{}` holds indices in 0..{range}, and {bad} is none",
                        d.name
                    ));
                }
            }
            Ok(a.as_standard_layout().into_owned())
        })
        .collect()
}

/// Each gradient against central differences of the loss, at up to 24
/// elements of each parameter spread evenly over it.
fn finite_differences(
    graph: &Graph,
    feed: &mut Feed,
    loss: f64,
    gradients: &[(String, ArrayD<f64>)],
) -> Result<Vec<Check>, String> {
    let per_param = (BUDGET / gradients.len().max(1)).clamp(4, 24);
    // The round-off of a central difference: the loss's last bits over 2h.
    let rounding = 4.0 * f64::EPSILON * loss.abs() / H;
    let mut checks = Vec::with_capacity(gradients.len());
    for (p, (name, exact)) in gradients.iter().enumerate() {
        let len = exact.len();
        let count = len.min(per_param);
        let mut worst = (0.0f64, 0.0, 0.0);
        let mut agrees = true;
        for k in 0..count {
            let e = k * len / count;
            // The parameters are in standard layout (`by_name`).
            let original = feed.params[p].as_slice().ok_or("a parameter in order")?[e];
            let mut at = |v: f64| -> Result<f64, String> {
                feed.params[p]
                    .as_slice_mut()
                    .ok_or("a parameter in order")?[e] = v;
                evaluate::loss(graph, feed)
            };
            let up = at(original + H)?;
            let down = at(original - H)?;
            feed.params[p]
                .as_slice_mut()
                .ok_or("a parameter in order")?[e] = original;
            let approximate = (up - down) / (2.0 * H);
            let exact = exact.as_slice().ok_or("a gradient in order")?[e];
            let difference = (exact - approximate).abs();
            // NaN agrees with nothing and is the worst difference.
            agrees &= difference <= 1e-6 * exact.abs().max(1.0) + rounding;
            if difference >= worst.0 || difference.is_nan() {
                worst = (difference, exact, approximate);
            }
        }
        checks.push(Check {
            param: name.clone(),
            checked: count,
            of: len,
            exact: worst.1,
            approximate: worst.2,
            difference: worst.0,
            agrees,
        });
    }
    Ok(checks)
}

/// The walk-through's section of the page.
pub(crate) fn section(
    net: &Net,
    graph: &Graph,
    numbers: &Numbers,
    marks: &Marks,
    derivation: &Derivation,
) -> String {
    let names = crate::ir::names(net, graph);
    let value = |id: NodeId| numbers.values[id.index()].as_ref();
    // One sample: the batch axis of 1 is dropped from what is shown.
    let shown = |id: NodeId| -> String {
        let drop = !numbers.whole_batch && graph.node(id).ty.batched;
        value(id).map_or_else(String::new, |v| array(v, drop))
    };
    let mut out = String::from("<section id=\"numbers\">\n<h2>With your numbers</h2>\n");
    let followed = if numbers.whole_batch {
        format!(
            "the whole batch of {} samples, one row each: <code>batch_norm</code> averages over the batch, so every sample's δ depends on the others",
            numbers.samples
        )
    } else {
        format!("sample {} of the batch", numbers.sample)
    };
    let _ = write!(
        out,
        "<p class=\"note\">The chain rule above, evaluated on {followed}. The loss E = {}.",
        num(numbers.loss)
    );
    if let Some((seed, step)) = numbers.dropout {
        let _ = write!(
            out,
            " Dropout uses the masks of seed {seed} at step {step}: those <code>gradients</code> draws, the same forward and back."
        );
    }
    out.push_str("</p>\n<h3>Forward</h3>\n<table class=\"values\">\n");
    for id in graph.ids() {
        let n = graph.node(id);
        if !matches!(n.role, Role::Forward { .. }) || value(id).is_none() {
            continue;
        }
        let label = match n.op {
            Op::Input(_) | Op::Target(_) | Op::Statistic(_) => {
                format!("<code>{}</code>", names[id.index()])
            }
            Op::Param(_) => format!(
                "<code class=\"param\" data-param=\"{p}\" tabindex=\"0\">{p}</code>",
                p = names[id.index()]
            ),
            _ if id == graph.sample_loss => "ℓ (the loss of each sample)".into(),
            _ if id == graph.loss && numbers.whole_batch => {
                "E (the mean of ℓ over the batch, in training mode)".into()
            }
            _ if id == graph.loss => "E (= ℓ: a batch of this one sample)".into(),
            _ if n.name.is_some() => format!("<code>{}</code>", names[id.index()]),
            _ => continue,
        };
        let shape = shape_of(value(id), !numbers.whole_batch && n.ty.batched);
        row(&mut out, &label, &shape, &shown(id), "");
    }
    out.push_str(
        "</table>\n<h3>Backward: each value's δ = ∂ℓ/∂value</h3>\n<table class=\"values\">\n",
    );
    for (&of, &adjoint) in graph.adjoints.iter().rev() {
        let n = graph.node(of);
        let name = &names[of.index()];
        let shared = derivation.shared.iter().find(|s| &s.node == name);
        if n.name.is_none() && shared.is_none() || matches!(n.op, Op::Param(_)) {
            continue;
        }
        let label = match shared {
            Some(s) if marks.products.contains(&s.letter) => format!(
                "<span class=\"product\" data-product=\"{l}\" tabindex=\"0\">{l}</span> = δ of <code>{name}</code>",
                l = s.letter
            ),
            _ => format!("δ of <code>{name}</code>"),
        };
        let batched = !numbers.whole_batch && graph.node(adjoint).ty.batched;
        let shape = shape_of(value(adjoint), batched);
        let from = shared
            .map(|s| link(&s.letter, &s.equation))
            .unwrap_or_default();
        row(&mut out, &label, &shape, &shown(adjoint), &from);
    }
    out.push_str("</table>\n<h3>Gradients ∂E/∂W</h3>\n<table class=\"values\">\n");
    for (p, &g) in graph.gradients.iter().enumerate() {
        let name = &net.params[p].name;
        let label =
            format!("∂E/∂<code class=\"param\" data-param=\"{name}\" tabindex=\"0\">{name}</code>");
        // The chain rule's last form: what the numbers above compute.
        let from = derivation
            .param(name)
            .map(|f| {
                let last = f.rsplit(" = ").next().unwrap_or(f);
                link(name, &format!("∂ℓ/∂{name} = {last}"))
            })
            .unwrap_or_default();
        row(
            &mut out,
            &label,
            &shape_of(value(g), false),
            &shown(g),
            &from,
        );
    }
    out.push_str("</table>\n");
    out.push_str(&checks_table(&numbers.checks));
    out.push_str("</section>\n");
    out
}

/// The table of finite differences.
fn checks_table(checks: &[Check]) -> String {
    let mut out = format!(
        "<h3>Checked by finite differences</h3>\n<p class=\"note\">Each gradient against the central \
         difference (E(w + h) − E(w − h)) / 2h with h = {H:e}, at up to 24 elements of each \
         parameter spread evenly over it; shown at the element that differs most.</p>\n\
         <table class=\"checks\">\n<tr><th>parameter</th><th>elements</th><th>exact</th>\
         <th>approximate</th><th>largest difference</th><th></th></tr>\n"
    );
    for c in checks {
        let _ = writeln!(
            out,
            "<tr data-agrees=\"{}\"><td><code class=\"param\" data-param=\"{p}\" tabindex=\"0\">{p}</code></td><td>{} of {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.agrees,
            c.checked,
            c.of,
            num(c.exact),
            num(c.approximate),
            sci(c.difference),
            if c.agrees { "✓ agree" } else { "✗ differ" },
            p = c.param,
        );
    }
    out.push_str("</table>\n");
    out
}

fn row(out: &mut String, label: &str, shape: &str, value: &str, from: &str) {
    let _ = writeln!(
        out,
        "<tr><th>{label}</th><td class=\"shape\">{shape}</td><td>{value}</td><td class=\"from\">{from}</td></tr>"
    );
}

/// An equation's text, linked to its row in the equations.
fn link(anchor: &str, text: &str) -> String {
    format!("<a href=\"#eq-{anchor}\">{}</a>", escape(text))
}

/// A value's shape as shown.
fn shape_of(v: Option<&ArrayD<f64>>, drop: bool) -> String {
    let Some(v) = v else { return String::new() };
    let shape = if drop { &v.shape()[1..] } else { v.shape() };
    crate::lang::shape_text(shape)
}

/// Values shown in full up to this many, summarized beyond.
const FULL: usize = 144;
/// Columns shown in full up to this many.
const COLUMNS: usize = 16;

/// An array as HTML: a number, a row, a matrix in full when small, a
/// summary (extremes, mean, the first values) when large.
fn array(v: &ArrayD<f64>, drop_batch: bool) -> String {
    let v = if drop_batch && v.ndim() > 0 {
        v.index_axis(Axis(0), 0).to_owned()
    } else {
        v.clone()
    };
    let values: Vec<f64> = v.iter().copied().collect();
    if values.len() == 1 && v.ndim() == 0 {
        return format!("<span class=\"num\">{}</span>", num(values[0]));
    }
    let cols = v.shape().last().copied().unwrap_or(1).max(1);
    if values.len() <= FULL && cols <= COLUMNS {
        // Of three axes or more, one matrix per index of the first
        // (a channel of an image, a sample of the batch).
        if v.ndim() >= 3 {
            return v
                .outer_iter()
                .enumerate()
                .map(|(i, block)| {
                    let values: Vec<f64> = block.iter().copied().collect();
                    format!(
                        "<div class=\"block\"><span class=\"index\">[{i}]</span>{}</div>",
                        matrix(&values, cols)
                    )
                })
                .collect();
        }
        return matrix(&values, cols);
    }
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let first: Vec<String> = values.iter().take(8).map(|x| num(*x)).collect();
    format!(
        "<span class=\"summary\">{} values: min {}, max {}, mean {}; first {}, …</span>",
        values.len(),
        num(min),
        num(max),
        num(mean),
        first.join(", ")
    )
}

/// Values as a matrix of rows of `cols`.
fn matrix(values: &[f64], cols: usize) -> String {
    let mut out = String::from("<table class=\"matrix\">");
    for chunk in values.chunks(cols) {
        out.push_str("<tr>");
        for x in chunk {
            let _ = write!(out, "<td>{}</td>", num(*x));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// A number with four significant digits.
fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.into();
    }
    if v.is_nan() {
        return "NaN".into();
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        escape(&s.replace('-', "−"))
    } else {
        sci(v)
    }
}

/// A number in scientific notation, three digits.
fn sci(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.2e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    format!(
        "{}·10<sup>{}</sup>",
        m.replace('-', "−"),
        e.replace('-', "−")
    )
}
