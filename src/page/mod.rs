//! The derivation as a web page: `denpa explain --format html`, and
//! [`html`] for a generated network's `SOURCE` at run time. One
//! self-contained HTML file per network (no network access: style, script,
//! math and drawing inline), built from what the other views already say:
//!
//! - the equations are `explain --format markdown`'s LaTeX as MathML
//!   (`math.rs`, pulldown-latex), one row per equation with an anchor;
//! - the graph is `denpa graph`'s, drawn as SVG (`graph.rs`);
//! - the code is the generated `gradients` with its comments (`code.rs`);
//! - the shared products (A, B, …) are read back off `explain`'s text
//!   ([`crate::explain::derivation`]) and each gets one colour, the same in
//!   the equations, the graph and the code; `assets.rs` holds the style and
//!   the small script that highlights a product, a parameter or a statement
//!   everywhere it appears.
//!
//! Behind the `page` feature (the command-line tool's), so that building
//! the `net!` macro compiles none of it.

mod assets;
mod code;
mod given;
mod graph;
mod math;
mod numbers;

use std::fmt::Write as _;

pub use numbers::{Check, Given, Numbers};

use crate::explain::derivation::Derivation;
use crate::explain::Format;
use crate::ir::math::Notation;
use crate::runtime::{AsArg, Network};
use crate::{CommandError, View, Viewed};

/// One network's page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The network's name.
    pub network: String,
    /// The whole HTML document.
    pub html: String,
}

/// What the page marks: the shared products' letters in order, and each
/// parameter's name with its LaTeX form.
pub(crate) struct Marks {
    products: Vec<String>,
    params: Vec<(String, String)>,
}

/// Why a page with numbers could not be made.
#[derive(Debug)]
pub enum NumbersError {
    /// The source has errors, or names no such network.
    Command(CommandError),
    /// The weights file does not fit the network: what is wrong with it.
    Weights(String),
    /// The batch does not fit the network: what and where (line, column).
    Batch(String),
    /// The numbers cannot be followed (no such sample, a batch norm's batch
    /// too small or too large, no dropout seed).
    Numbers(String),
}

impl std::fmt::Display for NumbersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NumbersError::Command(CommandError::Selection(d)) => f.write_str(&d.message),
            NumbersError::Command(CommandError::Source(_)) => f.write_str("the source has errors"),
            NumbersError::Weights(why) => write!(f, "the weights: {why}"),
            NumbersError::Batch(why) => write!(f, "the batch: {why}"),
            NumbersError::Numbers(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for NumbersError {}

/// The views a page is made of.
const VIEWS: [View; 4] = [
    View::Explain(Format::Markdown),
    View::Explain(Format::Text),
    View::Rust,
    View::Dot,
];

/// The page of every network of a `.nn` text (or of the one named), in file
/// order.
pub fn pages(source: &str, network: Option<&str>) -> Result<Vec<Page>, CommandError> {
    Ok(crate::views(source, network, &VIEWS)?
        .into_iter()
        .map(|viewed| page(&viewed, None))
        .collect())
}

/// The page of a network's text with one network (a generated network's
/// `SOURCE`): `denpa::page::html(Xor::SOURCE)`.
pub fn html(source: &str) -> Result<String, CommandError> {
    let mut pages = pages(source, None)?;
    Ok(pages.remove(0).html)
}

/// The page of one network of a `.nn` text with a walk-through of the given
/// numbers: each forward value, δ and gradient of one sample (of the whole
/// batch where `batch_norm` couples the samples), and each gradient against
/// finite differences.
pub fn page_with_numbers(
    source: &str,
    network: Option<&str>,
    given: &Given,
) -> Result<(Page, Numbers), NumbersError> {
    let viewed = one(source, network)?;
    let numbers =
        numbers::compute(&viewed.net, &viewed.graph, given).map_err(NumbersError::Numbers)?;
    Ok((page(&viewed, Some(&numbers)), numbers))
}

/// `denpa explain --format html FILE --weights W --batch DATA.csv`: the page
/// of one network with the parameters (and running statistics, dropout
/// seed and step count) of a safetensors weights file or checkpoint, and a
/// batch read from CSV text (see the README: every input's numbers, then
/// every target's, one sample per line).
pub fn page_with_files(
    source: &str,
    network: Option<&str>,
    weights: &[u8],
    csv: &str,
    sample: usize,
) -> Result<(Page, Numbers), NumbersError> {
    let viewed = one(source, network)?;
    let net = &viewed.net;
    let expected = net.stored_tensors();
    let f64 = net.dtype == crate::lang::Dtype::F64;
    let state =
        crate::runtime::weights::read_state(&net.name, weights, &expected, f64).map_err(|e| {
            let why = match e {
                crate::Error::Weights { problem, .. } => problem,
                e => e.to_string(),
            };
            NumbersError::Weights(why)
        })?;
    let (inputs, targets) = given::batch_from_csv(net, csv).map_err(NumbersError::Batch)?;
    let mut arrays = expected
        .iter()
        .zip(state.values)
        .map(|((name, shape), values)| {
            let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), values)
                .expect("values of the checked shape");
            (name.clone(), array)
        });
    let given = Given {
        params: arrays.by_ref().take(net.params.len()).collect(),
        statistics: arrays.collect(),
        dropout_seed: state.dropout_seed,
        step: state.step,
        inputs,
        targets,
        sample,
    };
    let numbers = numbers::compute(net, &viewed.graph, &given).map_err(NumbersError::Numbers)?;
    Ok((page(&viewed, Some(&numbers)), numbers))
}

/// The page of a generated network with a walk-through of a batch of its
/// inputs and targets (as its `gradients_dyn` takes them), at its current
/// parameters, running statistics, dropout seed and step: one sample, the
/// first (the whole batch where `batch_norm` couples the samples). Returns
/// the page and the numbers it shows.
pub fn walkthrough<'a, 'b, N, A, B>(
    net: &N,
    inputs: &[A],
    targets: &[B],
) -> Result<(String, Numbers), NumbersError>
where
    N: Network,
    A: AsArg<'a, N::Scalar>,
    B: AsArg<'b, N::Scalar>,
{
    let given = given::of_network(net, inputs, targets);
    let (page, numbers) = page_with_numbers(N::SOURCE, None, &given)?;
    Ok((page.html, numbers))
}

/// The one network a page with numbers is about: the one named, or the
/// file's only one.
fn one(source: &str, network: Option<&str>) -> Result<Viewed, NumbersError> {
    crate::one_view(source, network, &VIEWS).map_err(NumbersError::Command)
}

/// The colour of shared product `k`: hues a golden angle apart, light
/// enough to read black text on.
pub(crate) fn colour(k: usize) -> String {
    let hue = (k as f64 * 137.508) % 360.0;
    let (r, g, b) = hsl(hue, 0.75, 0.80);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn hsl(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (byte(r), byte(g), byte(b))
}

/// Text as HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One network's page from its views, with the walk-through of its numbers
/// when given.
fn page(viewed: &Viewed, numbers: Option<&Numbers>) -> Page {
    let [markdown, text, rust, dot] = &viewed.texts[..] else {
        unreachable!("one text per view")
    };
    let name = &viewed.net.name;
    let derivation = Derivation::read(text);
    let marks = Marks {
        products: derivation.shared.iter().map(|s| s.letter.clone()).collect(),
        params: derivation
            .params
            .iter()
            .map(|(p, _)| (p.clone(), Notation::Latex.name(p)))
            .collect(),
    };
    let nodes: Vec<String> = derivation.shared.iter().map(|s| s.node.clone()).collect();
    let mut style = String::from(assets::STYLE);
    for k in 0..marks.products.len() {
        let letter = &marks.products[k];
        let _ = writeln!(
            style,
            "[data-product=\"{letter}\"] {{ background: {c}; }} g[data-product=\"{letter}\"] :is(rect, ellipse, polygon, path) {{ fill: {c}; }}",
            c = colour(k)
        );
    }
    let (equations, ledger) = equations(markdown, &marks);
    let svg = crate::explain::draw::svg(&graph::decorate(dot, &marks, &nodes))
        .map(|svg| graph::mark(&svg, &marks))
        .unwrap_or_else(|why| {
            format!(
                "<p class=\"note\">The graph could not be drawn: {}</p>",
                escape(&why)
            )
        });
    let code = code::gradients(rust, &marks, &nodes);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{name} — how it learns</title>\n<style>{style}</style>\n</head>\n<body>\n"
    );
    html.push_str(&equations);
    html.push_str(&ledger);
    if let Some(numbers) = numbers {
        html.push_str(&numbers::section(
            &viewed.net,
            &viewed.graph,
            numbers,
            &marks,
            &derivation,
        ));
    }
    let _ = write!(
        html,
        "<section id=\"graph\">\n<h2>The graph</h2>\n<p class=\"note\">Forward values (boxes) and \
         their gradients (ellipses); each shared product in its colour. Click a product or a \
         parameter to find it in the equations and the code.</p>\n<div class=\"drawing\">{svg}</div>\n</section>\n"
    );
    let _ = write!(
        html,
        "<section id=\"code\">\n<h2>The generated <code>gradients</code></h2>\n<p class=\"note\">What \
         <code>net!</code> compiles for this network, each statement with the chain-rule step it \
         computes; click one to see its equation.</p>\n<pre class=\"code\">{code}</pre>\n</section>\n"
    );
    // In CDATA, so that the page is also well-formed XML.
    let _ = write!(
        html,
        "<script>//<![CDATA[\n{}//]]></script>\n</body>\n</html>\n",
        assets::SCRIPT
    );
    Page {
        network: name.clone(),
        html,
    }
}

/// The equations section from `explain`'s Markdown, and the ledger as a
/// bar chart.
fn equations(markdown: &str, marks: &Marks) -> (String, String) {
    let mut out = String::from("<section id=\"equations\">\n");
    let mut ledger = Vec::new();
    // What `explain` says of the cost goes beside the bars.
    let mut cost = String::new();
    let mut lines = markdown.lines().peekable();
    let mut rows = 0;
    while let Some(line) = lines.next() {
        let target = if cost.is_empty() { &mut out } else { &mut cost };
        if let Some(title) = line.strip_prefix("## ") {
            let _ = writeln!(target, "<h1>{}</h1>", escape(title));
        } else if let Some(heading) = line.strip_prefix("### ") {
            let heading = format!("<h2>{}</h2>\n", escape(heading));
            if line.contains("Cost per sample") {
                cost = heading;
            } else {
                target.push_str(&heading);
            }
        } else if line == "$$" {
            let mut block = Vec::new();
            for l in lines.by_ref() {
                if l == "$$" {
                    break;
                }
                block.push(l);
            }
            target.push_str(&math_block(&block, marks, &mut rows));
        } else if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if let [what, number] = cells[..] {
                if let Some(n) = count(number) {
                    ledger.push((what.to_string(), n, number.to_string()));
                }
            }
        } else if !line.trim().is_empty() {
            let _ = writeln!(target, "<p>{}</p>", inline(line, marks));
        }
    }
    out.push_str("</section>\n");
    (out, ledger_chart(&cost, &ledger))
}

/// A `$$` block: an aligned block as one table row per equation (each with
/// its anchor), anything else as one formula.
fn math_block(block: &[&str], marks: &Marks, rows: &mut usize) -> String {
    let aligned = block.first() == Some(&"\\begin{aligned}");
    if !aligned {
        return format!("<p>{}</p>\n", math::mathml(&block.join("\n"), true, marks));
    }
    let mut out = String::from("<table class=\"eqs\">\n");
    for row in &block[1..] {
        if *row == "\\end{aligned}" {
            break;
        }
        let row = row.trim_end().trim_end_matches("\\\\").trim_end();
        let (lhs, rest) = row.split_once("&=").unwrap_or(("", row));
        let (rhs, note) = rest.split_once("&&").unwrap_or((rest, ""));
        *rows += 1;
        let id = row_id(lhs.trim(), marks).unwrap_or_else(|| format!("eq-{}", *rows));
        let note = note.trim();
        let note = match note.strip_prefix("\\text{") {
            Some(t) if !t.contains('\\') && t.ends_with('}') => escape(&t[..t.len() - 1]),
            _ if note.is_empty() => String::new(),
            _ => math::mathml(note, false, marks),
        };
        let _ = writeln!(
            out,
            "<tr id=\"{id}\"><td class=\"lhs\">{}</td><td>{}</td><td class=\"note\">{note}</td></tr>",
            math::mathml(&format!("\\displaystyle {}", lhs.trim()), false, marks),
            math::mathml(&format!("\\displaystyle = {}", rhs.trim()), false, marks),
        );
    }
    out.push_str("</table>\n");
    out
}

/// The anchor of an equation by its left-hand side: `eq-A` for shared
/// product A (`A = ∂ℓ/∂z_y`), `eq-W1` for ∂ℓ/∂W1.
fn row_id(lhs: &str, marks: &Marks) -> Option<String> {
    if let Some((letter, _)) = lhs.split_once(" = ") {
        if marks.products.iter().any(|l| l == letter) {
            return Some(format!("eq-{letter}"));
        }
    }
    marks
        .params
        .iter()
        .find(|(_, latex)| lhs == format!("\\frac{{\\partial \\ell}}{{\\partial {latex}}}"))
        .map(|(p, _)| format!("eq-{p}"))
}

/// A paragraph with its `$…$` as inline MathML and its `` `…` `` as code.
fn inline(line: &str, marks: &Marks) -> String {
    let mut out = String::new();
    for (i, part) in line.split('$').enumerate() {
        if i % 2 == 1 {
            out.push_str(&math::mathml(part, false, marks));
        } else {
            for (j, piece) in part.split('`').enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<code>{}</code>", escape(piece));
                } else {
                    out.push_str(&escape(&piece.replace("**", "")));
                }
            }
        }
    }
    out
}

/// A count of the ledger: `1678496`, or a bound `over 1.8·10¹⁹`.
fn count(text: &str) -> Option<f64> {
    let text = text.trim_start_matches("over ").replace(',', "");
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let (mantissa, power) = text.split_once("·10")?;
    let digits: String = power
        .chars()
        .map(|c| match "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|d| d == c) {
            Some(d) => char::from(b'0' + d as u8),
            None => c,
        })
        .collect();
    Some(mantissa.parse::<f64>().ok()? * 10f64.powi(digits.parse().ok()?))
}

/// The cost ledger as bars: multiplications per sample, forward, backward
/// with the shared products, and backward with every weight on its own.
fn ledger_chart(cost: &str, rows: &[(String, f64, String)]) -> String {
    let mut out = String::from("<section id=\"ledger\">\n");
    out.push_str(if cost.is_empty() {
        "<h2>What sharing saves</h2>\n"
    } else {
        cost
    });
    let Some(max) = rows
        .iter()
        .map(|r| r.1)
        .reduce(f64::max)
        .filter(|&m| m > 0.0)
    else {
        out.push_str("</section>\n");
        return out;
    };
    // Linear while the bars can be read so (what sharing saves shows as a
    // length); logarithmic when the unshared pass is a million times more.
    let least = rows
        .iter()
        .map(|r| r.1)
        .filter(|&n| n > 0.0)
        .reduce(f64::min)
        .unwrap_or(1.0);
    let logarithmic = max / least > 1e6;
    let height = 34 * rows.len() + 10;
    let _ = writeln!(
        out,
        "<svg width=\"720\" height=\"{height}\" role=\"img\" aria-label=\"multiplications per sample\">"
    );
    for (i, (what, n, shown)) in rows.iter().enumerate() {
        let bar = match what.as_str() {
            "forward" => "forward",
            w if w.contains("shared") => "shared",
            _ => "unshared",
        };
        let width = 1.0 + 400.0 * scale(*n, max, logarithmic);
        let y = 8 + 34 * i;
        let fill = match bar {
            "forward" => "#9db4c0",
            "shared" => "#5c9e6e",
            _ => "#c96c6c",
        };
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text><rect data-bar=\"{bar}\" x=\"250\" y=\"{y}\" width=\"{width:.1}\" height=\"24\" fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            y + 17,
            escape(what),
            258.0 + width,
            y + 17,
            escape(shown)
        );
    }
    let _ = writeln!(
        out,
        "</svg>\n<p class=\"note\">Multiplications per sample, on a {} scale.</p>\n</section>",
        if logarithmic { "logarithmic" } else { "linear" }
    );
    out
}

/// A bar's length as a fraction of the longest.
fn scale(n: f64, max: f64, logarithmic: bool) -> f64 {
    if logarithmic {
        n.ln_1p() / max.ln_1p()
    } else {
        n / max
    }
}
