//! Rename: a name's declaration and every use, and the uses of the
//! parameters its layers name after it (`h_w` of `h = dense(…)`). The
//! renamed text is checked again by the compiler: a rename that would add
//! an error (a keyword, a name already taken) is refused with that error.

use super::analysis::{Analysis, Kind, Target};
use super::features::binding_shape;
use crate::diagnostics::Span;

/// Whether the name at an offset can be renamed, and its span: a layer's
/// parameter is named after its binding (rename the binding).
pub fn prepare_rename(analysis: &Analysis, offset: usize) -> Result<Option<Span>, String> {
    match analysis.at(offset) {
        Some((span, Target::Symbol(id))) => {
            let s = &analysis.symbols[*id];
            if s.kind == Kind::LayerParam {
                return Err(format!(
                    "`{}` is named after the binding of its layer: rename that binding",
                    s.name
                ));
            }
            Ok(Some(*span))
        }
        _ => Ok(None),
    }
}

/// The edits that rename the name at an offset to `new`: its declaration,
/// every use, and the uses of the parameters its layers declare (`h_w`
/// becomes `new_w`). The renamed text is checked again, and a rename that
/// would add an error (a keyword, a name already taken) is refused with it.
pub fn rename(
    analysis: &Analysis,
    offset: usize,
    new: &str,
) -> Result<Vec<(Span, String)>, String> {
    let Some(span) = prepare_rename(analysis, offset)? else {
        return Ok(Vec::new());
    };
    let is_name = new
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(format!(
            "`{new}` is not a name: letters, digits and `_`, not starting with a digit"
        ));
    }
    let Some((_, Target::Symbol(id))) = analysis.at(span.start) else {
        return Ok(Vec::new());
    };
    let symbol = &analysis.symbols[*id];
    let mut edits: Vec<(Span, String)> = analysis
        .references(*id)
        .into_iter()
        .map(|s| (s, new.to_string()))
        .collect();
    if matches!(symbol.kind, Kind::Binding | Kind::Output) {
        for (p, param) in analysis.symbols.iter().enumerate() {
            if param.kind != Kind::LayerParam || param.container != symbol.container {
                continue;
            }
            if owner(analysis, p) != Some(*id) {
                continue;
            }
            let renamed = format!("{new}{}", &param.name[symbol.name.len()..]);
            let uses = analysis.references(p).into_iter().skip(1);
            edits.extend(uses.map(|s| (s, renamed.clone())));
        }
    }
    edits.sort_by_key(|(s, _)| s.start);
    let mut text = analysis.text.clone();
    for (s, replacement) in edits.iter().rev() {
        text.replace_range(s.range(), replacement);
    }
    let errors = |text: &str| match crate::check_source(text) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect(),
    };
    let (before, after) = (errors(&analysis.text), errors(&text));
    if let Some(new_error) = after.iter().find(|e| !before.contains(e)) {
        return Err(format!(
            "renaming `{}` to `{new}` would give: {new_error}",
            symbol.name
        ));
    }
    Ok(edits)
}

/// The binding whose layer declared parameter `p`: the longest binding name
/// that prefixes it, whose statement holds the layer's call or whose value
/// calls a block.
fn owner(analysis: &Analysis, p: usize) -> Option<usize> {
    let param = &analysis.symbols[p];
    let net = analysis.net_of(p);
    analysis
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b.kind, Kind::Binding | Kind::Output))
        .filter(|(_, b)| b.container == param.container)
        .filter(|(_, b)| param.name.starts_with(&format!("{}_", b.name)))
        .filter(|(_, b)| {
            let holds = b.span.start <= param.name_span.start && param.name_span.end <= b.span.end;
            let calls_block = net
                .and_then(|n| binding_shape(n, &b.name))
                .is_some_and(|(_, block)| block.is_some());
            holds || calls_block
        })
        .max_by_key(|(_, b)| b.name.len())
        .map(|(i, _)| i)
}
