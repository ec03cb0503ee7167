//! Generated tokens → readable Rust, for people (`denpa expand`).
//!
//! The tokens are exactly what the macro compiles; this adds only what tokens
//! cannot carry: an `@generated` header, and the comment above each `let`
//! (what it computes, in math notation, and what shares it).

use std::collections::BTreeMap;

use proc_macro2::TokenStream;

/// Pretty-prints generated items, with the comments for each `let`.
pub fn pretty(
    tokens: &TokenStream,
    comments: &BTreeMap<String, Vec<String>>,
    header: &str,
) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens.clone())?;
    let code = prettyplease::unparse(&file);
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    if !header.is_empty() {
        out.push('\n');
    }
    let mut function = String::new();
    for line in code.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed
            .strip_prefix("pub fn ")
            .or_else(|| trimmed.strip_prefix("fn "))
        {
            function = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
        }
        if let Some(rest) = trimmed.strip_prefix("let ") {
            let name: String = rest
                .trim_start_matches("mut ")
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(lines) = comments.get(&format!("{function}/{name}")) {
                let indent = &line[..line.len() - trimmed.len()];
                for c in lines {
                    out.push_str(indent);
                    out.push_str("// ");
                    out.push_str(c);
                    out.push('\n');
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}
