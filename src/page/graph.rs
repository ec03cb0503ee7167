//! The graph of `denpa graph`, drawn inline: each shared product's node
//! named by its letter and filled with its colour, each node of a shared
//! product or a parameter marked (`data-product`, `data-param`) so that the
//! page finds it.

use super::Marks;

/// The DOT text with each shared product's δ node named by its letter and
/// filled with its colour.
pub fn decorate(dot: &str, marks: &Marks, nodes: &[String]) -> String {
    let mut out = String::with_capacity(dot.len());
    for line in dot.lines() {
        let product = nodes
            .iter()
            .position(|node| line.contains(&format!("label=\"∂ℓ/∂{node}\"")));
        match product {
            Some(k) => {
                let letter = &marks.products[k];
                let node = &nodes[k];
                let (head, _) = line.split_once('[').unwrap_or((line, ""));
                out.push_str(&format!(
                    "{head}[shape=ellipse, style=\"filled, bold\", fillcolor=\"{}\", label=\"{letter} = ∂ℓ/∂{node}\"];",
                    super::colour(k)
                ));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The drawn SVG with each node of a shared product or a parameter marked:
/// layout-rs writes each node as a `<g >` with its shape, then the `<text>`
/// of its label; a marked node's label is moved into its group, so that the
/// box and the label are one focusable node.
pub fn mark(svg: &str, marks: &Marks) -> String {
    let body = match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    };
    let mut out = String::with_capacity(body.len() + 4096);
    let mut rest = body;
    while let Some(at) = rest.find("<g >") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let label = after
            .find("<tspan")
            .and_then(|t| {
                let open = after[t..].find('>')? + t + 1;
                let close = after[open..].find("</tspan>")? + open;
                Some(&after[open..close])
            })
            .unwrap_or("");
        match mark_of(label, marks) {
            Some((class, data)) => {
                out.push_str(&format!("<g class=\"{class}\" {data} tabindex=\"0\">"));
                // The label's text is marked too (it keeps its own class).
                let text_end = after.find("</text>").map_or(4, |e| e + 7);
                let node = after[4..text_end].replacen("</g>", "", 1);
                out.push_str(&node.replacen("<text ", &format!("<text {data} "), 1));
                out.push_str("</g>");
                rest = &after[text_end..];
            }
            None => {
                out.push_str("<g >");
                rest = &after[4..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attribute of a node by its label: `A = ∂ℓ/∂z_y` is product A,
/// `W1 [2, 3]` and `∂ℓ/∂W1` are parameter W1.
fn mark_of(label: &str, marks: &Marks) -> Option<(&'static str, String)> {
    let label = label
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    if let Some((letter, _)) = label.split_once(" = ∂ℓ/∂") {
        if marks.products.iter().any(|l| l == letter) {
            return Some(("product", format!("data-product=\"{letter}\"")));
        }
    }
    let name = label
        .strip_prefix("∂ℓ/∂")
        .unwrap_or_else(|| label.split(" [").next().unwrap_or(""));
    marks
        .params
        .iter()
        .any(|(p, _)| p == name)
        .then(|| ("param", format!("data-param=\"{name}\"")))
}
