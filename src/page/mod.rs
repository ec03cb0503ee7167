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
mod graph;
mod math;

use std::fmt::Write as _;

use crate::explain::derivation::Derivation;
use crate::explain::Format;
use crate::ir::math::Notation;
use crate::{CommandError, View};

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

/// The page of every network of a `.nn` text (or of the one named), in file
/// order.
pub fn pages(source: &str, network: Option<&str>) -> Result<Vec<Page>, CommandError> {
    let views = [
        View::Explain(Format::Markdown),
        View::Explain(Format::Text),
        View::Rust,
        View::Dot,
    ];
    let each = crate::views(source, network, &views)?;
    Ok(each
        .into_iter()
        .map(|(network, texts)| {
            let [markdown, text, rust, dot] = &texts[..] else {
                unreachable!("one text per view")
            };
            let html = page(&network, markdown, text, rust, dot);
            Page { network, html }
        })
        .collect())
}

/// The page of a network's text with one network (a generated network's
/// `SOURCE`): `denpa::page::html(Xor::SOURCE)`.
pub fn html(source: &str) -> Result<String, CommandError> {
    let mut pages = pages(source, None)?;
    Ok(pages.remove(0).html)
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

/// One network's page from its views.
fn page(name: &str, markdown: &str, text: &str, rust: &str, dot: &str) -> String {
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
    let svg = crate::draw_svg(&graph::decorate(dot, &marks, &nodes))
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
    html
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
