//! The derivation's math as MathML: the LaTeX that `explain --format
//! markdown` writes, each shared product and each parameter marked so that
//! the page can colour it and find it, rendered by pulldown-latex.
//!
//! A mark is a `\textcolor` whose colour is a code (`rgb(1 g b)` for
//! product `g·256 + b`, `rgb(2 g b)` for parameter `g·256 + b`): pulldown-latex
//! writes it as the element's style, which is then replaced by the
//! element's `data-product` or `data-param`.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};

use super::Marks;

/// MathML of one formula.
pub fn mathml(latex: &str, display: bool, marks: &Marks) -> String {
    let marked = mark(latex, marks);
    let storage = Storage::new();
    let parser = Parser::new(&marked, &storage);
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        annotation: Some(latex),
        ..RenderConfig::default()
    };
    let mut out = String::new();
    if push_mathml(&mut out, parser, config).is_err() {
        return format!("<code>{}</code>", super::escape(latex));
    }
    // pulldown-latex writes `\ ` as an escaped `&nbsp;`; the page is also
    // well-formed XML, so the space is a character reference.
    let out = out
        .replace("&amp;nbsp;", "&#160;")
        .replace("&nbsp;", "&#160;");
    unmark(&out, marks)
}

/// The LaTeX with every shared product's letter and every parameter's name
/// wrapped in its code colour. Text (`\text{…}`) and command names are left
/// alone.
fn mark(latex: &str, marks: &Marks) -> String {
    let mut out = String::with_capacity(latex.len() * 2);
    let bytes = latex.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &latex[i..];
        if let Some(after) = rest.strip_prefix("\\text{") {
            // Copy `\text{…}` whole (braces nest).
            let mut depth = 1;
            let mut end = 0;
            for (k, c) in after.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = k;
                    break;
                }
            }
            let whole = 6 + end + 1;
            out.push_str(&latex[i..(i + whole).min(latex.len())]);
            i += whole;
            continue;
        }
        if let Some((p, name_latex)) = marks
            .params
            .iter()
            .enumerate()
            .map(|(p, (_, l))| (p, l))
            .filter(|(_, l)| rest.starts_with(l.as_str()))
            .max_by_key(|(_, l)| l.len())
        {
            // A parameter's name as explain writes it (`W_{1}`,
            // `\mathrm{b1}_{h4\_Wv}`), not the start of a longer name.
            let next = rest[name_latex.len()..].chars().next();
            let word_before = out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '\\');
            if !word_before && !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push_str(&format!("\\textcolor{{#02{:04x}}}{{{name_latex}}}", p));
                i += name_latex.len();
                continue;
            }
        }
        let c = rest.chars().next().expect("not at the end");
        if c == '\\' {
            // A command: copy its name.
            let name_len = rest[1..]
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len() - 1);
            let len = 1 + name_len.max(1).min(rest.len() - 1);
            out.push_str(&rest[..len]);
            i += len;
            continue;
        }
        if c.is_ascii_alphanumeric() {
            let len = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let word = &rest[..len];
            match marks.products.iter().position(|l| l == word) {
                Some(k) => out.push_str(&format!("\\textcolor{{#01{k:04x}}}{{{word}}}")),
                None => out.push_str(word),
            }
            i += len;
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The MathML with each code colour replaced by its mark.
fn unmark(mathml: &str, marks: &Marks) -> String {
    let mut out = mathml.to_string();
    for (k, letter) in marks.products.iter().enumerate() {
        let code = format!(" style=\"color: rgb(1 {} {})\"", k >> 8, k & 0xff);
        let mark = format!(" class=\"product\" data-product=\"{letter}\" tabindex=\"0\"");
        out = out.replace(&code, &mark);
    }
    for (k, (name, _)) in marks.params.iter().enumerate() {
        let code = format!(" style=\"color: rgb(2 {} {})\"", k >> 8, k & 0xff);
        let mark = format!(" class=\"param\" data-param=\"{name}\" tabindex=\"0\"");
        out = out.replace(&code, &mark);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_parameters_are_marked_text_is_not() {
        let marks = Marks {
            products: vec!["A".into(), "B".into(), "N".into()],
            params: vec![("W1".into(), "W_{1}".into())],
        };
        let latex = r"B = \left(A \, W_{1}^\top\right) \odot h \quad \text{a batch of N samples}";
        let marked = mark(latex, &marks);
        assert!(marked.contains(r"\textcolor{#010001}{B}"), "{marked}");
        assert!(marked.contains(r"\textcolor{#010000}{A}"), "{marked}");
        assert!(marked.contains(r"\textcolor{#020000}{W_{1}}"), "{marked}");
        assert!(marked.contains(r"\text{a batch of N samples}"), "{marked}");
        let html = mathml(latex, true, &marks);
        assert!(html.contains("data-product=\"B\""), "{html}");
        assert!(html.contains("data-param=\"W1\""), "{html}");
        assert!(!html.contains("rgb(1 0"), "{html}");
        assert!(!html.contains("merror"), "{html}");
    }
}
