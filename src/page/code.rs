//! The generated `gradients` with its derivation comments, as HTML: each
//! statement a span linked to its equation, the shared products' δ and the
//! parameters' gradients marked as in the equations.

use super::{escape, Marks};

/// The `gradients` function of the generated Rust, marked.
pub fn gradients(rust: &str, marks: &Marks, nodes: &[String]) -> String {
    let Some(start) = rust.find("    pub fn gradients(") else {
        return String::new();
    };
    // The function ends at the first line that closes it at its indent.
    let body = &rust[start..];
    let end = body.find("\n    }\n").map_or(body.len(), |e| e + 6);
    let mut out = String::new();
    let mut pending: Vec<&str> = Vec::new();
    // A marked statement runs over several lines until its `;`.
    let mut open = false;
    for line in body[..end].lines() {
        let line = line.strip_prefix("    ").unwrap_or(line);
        if open {
            out.push_str(&escape(line));
            if line.trim_end().ends_with(';') {
                out.push_str("</span>");
                open = false;
            }
            out.push('\n');
            continue;
        }
        if line.trim_start().starts_with("//") {
            pending.push(line);
            continue;
        }
        let name = line
            .trim_start()
            .strip_prefix("let ")
            .map(|l| l.trim_start_matches("mut "))
            .and_then(|l| l.split([' ', ':', '=']).next())
            .unwrap_or("");
        let mark = statement_mark(name, marks, nodes).filter(|_| !name.is_empty());
        if let Some((attribute, eq)) = &mark {
            out.push_str(&format!(
                "<span class=\"stmt\" data-stmt=\"{name}\" data-eq=\"{eq}\" {attribute} tabindex=\"0\">"
            ));
        }
        for comment in pending.drain(..) {
            out.push_str(&format!(
                "<span class=\"comment\">{}</span>\n",
                escape(comment)
            ));
        }
        out.push_str(&escape(line));
        if mark.is_some() {
            if line.trim_end().ends_with(';') {
                out.push_str("</span>");
            } else {
                open = true;
            }
        }
        out.push('\n');
    }
    out
}

/// The mark of a statement by its name, and the equation it computes:
/// `delta_z_y` is product A's, `grad_W1_sum` parameter W1's.
fn statement_mark(name: &str, marks: &Marks, nodes: &[String]) -> Option<(String, String)> {
    if let Some(node) = name.strip_prefix("delta_") {
        let k = nodes.iter().position(|n| n == node)?;
        let letter = &marks.products[k];
        return Some((format!("data-product=\"{letter}\""), format!("eq-{letter}")));
    }
    let param = name
        .strip_prefix("grad_")?
        .strip_suffix("_sum")
        .unwrap_or(&name[5..]);
    marks
        .params
        .iter()
        .any(|(p, _)| p == param)
        .then(|| (format!("data-param=\"{param}\""), format!("eq-{param}")))
}
