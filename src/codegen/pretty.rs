//! Generated tokens → readable Rust, for people (`denpa expand`).
//!
//! The tokens are exactly what the macro compiles; this adds only what tokens
//! cannot carry: an `@generated` header, and the comment above each `let`
//! and each statement that writes a workspace array (what it computes, in
//! math notation, and what shares it).

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
    // The value last commented: a value written by several statements (the
    // other terms of a sum, then each product added in) is commented once.
    let mut last: Option<String> = None;
    let lines: Vec<&str> = code.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if let Some(rest) = trimmed
            .strip_prefix("pub fn ")
            .or_else(|| trimmed.strip_prefix("fn "))
        {
            function = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            last = None;
        }
        let name = match trimmed.strip_prefix("let ") {
            Some(rest) => Some(identifier(rest.trim_start_matches("mut "))),
            // A statement that writes into the workspace: named by the array
            // it writes (its continuation lines are indented deeper).
            // A block (a loop over merged views) too.
            None if trimmed.starts_with("::denpa::")
                || trimmed.starts_with("for ")
                || trimmed == "{" =>
            {
                let rest = lines[i + 1..]
                    .iter()
                    .take_while(|l| l.len() - l.trim_start().len() > indent.len());
                let statement: String = std::iter::once(*line).chain(rest.copied()).collect();
                written(&statement)
            }
            None => None,
        };
        let repeated = name.is_some() && name == last;
        if name.is_some() {
            last = name.clone();
        }
        if let Some(lines) = name
            .filter(|_| !repeated)
            .and_then(|n| comments.get(&format!("{function}/{n}")))
        {
            for c in lines {
                out.push_str(indent);
                out.push_str("// ");
                out.push_str(c);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// The identifier at the start of `text`.
fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The workspace array a statement writes: `ws.NAME.view_mut()`,
/// `ws.NAME.rows_mut()` or `Zip::from(&mut ws.NAME)` (never the scratch
/// space lent to a kernel, `&mut ws.packing, …`), the first of them.
fn written(statement: &str) -> Option<String> {
    statement.match_indices("ws.").find_map(|(at, _)| {
        let name = identifier(&statement[at + 3..]);
        let after = &statement[at + 3 + name.len()..];
        // `Zip::from(&mut ws.h)` writes h; `&mut ws.packing,` lends a
        // kernel its scratch space.
        let writes = after.starts_with(".view_mut()")
            || after.starts_with(".rows_mut()")
            || (statement[..at].ends_with("&mut ")
                && after.trim_start_matches(',').trim_start().starts_with(')'));
        writes.then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::written;

    #[test]
    fn a_statement_is_named_by_the_workspace_array_it_writes() {
        let gemm = "::denpa::runtime::gemm_with(&mut ws.packing, 1.0, x.view(), \
                    self.W1.view(), 0.0, ws.x_W1.view_mut());";
        assert_eq!(written(gemm).as_deref(), Some("x_W1"));
        let zip = "::denpa::ndarray::Zip::from(&mut ws.h).and(&ws.x_W1).for_each(|o, &v| *o = v);";
        assert_eq!(written(zip).as_deref(), Some("h"));
        let rows = "for (a, mut out) in ws.h.rows().into_iter().zip(ws.h_W2.rows_mut()) {";
        assert_eq!(written(rows).as_deref(), Some("h_W2"));
        // Two outputs: the first names it.
        let both = "::denpa::runtime::softmax_rows_and_cross_entropy_into(ws.z_y.view(), \
                    t.view(), ws.y.view_mut(), ws.sample_loss.view_mut());";
        assert_eq!(written(both).as_deref(), Some("y"));
        // Scratch space lent to a kernel is not what it writes.
        let conv = "::denpa::runtime::conv2d_keeping_columns_into(x.view(), self.w.view(), 1, 1, \
                    &mut ws.columns_h, &mut ws.conv_scratch, ws.h.view_mut());";
        assert_eq!(written(conv).as_deref(), Some("h"));
        let long = "::denpa::ndarray::Zip::from(\n    &mut ws.delta_z_h,\n)\n.and(&ws.h)";
        assert_eq!(written(long).as_deref(), Some("delta_z_h"));
        // Updates of parameters write no workspace array.
        let fold =
            "::denpa::runtime::add_column_sums(descent, ws.delta.view(), 1.0, self.b1.view_mut());";
        assert_eq!(written(fold), None);
    }
}
