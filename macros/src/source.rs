//! Where the `.nn` text comes from, and where its errors point.
//!
//! Inline: the macro's tokens carry no comments, so the text is read back
//! from the calling file between the first and last token (their line and
//! column are known on stable Rust since 1.88), comments and `///` included.
//! Where the file cannot be read (tokens made by another macro), the text is
//! rebuilt from the tokens. Either way each token knows its byte range in the
//! text, so a diagnostic's span maps back to the tokens it covers.

use std::path::PathBuf;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;

/// One token (or a group's delimiter) with its byte range in the text.
struct Piece {
    span: Span,
    start: usize,
    end: usize,
}

/// `net!("file.nn")`
pub fn from_file(path: &syn::LitStr) -> TokenStream {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let written = path.value();
    let full = dir.join(&written);
    let text = match std::fs::read(&full) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let msg = format!(
                    "`{written}` is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                );
                return syn::Error::new(path.span(), msg).to_compile_error();
            }
        },
        Err(e) => {
            let msg = format!("cannot read `{written}` (relative to the crate's Cargo.toml): {e}");
            return syn::Error::new(path.span(), msg).to_compile_error();
        }
    };
    let full_text = full.display().to_string();
    // Rebuild when the file changes.
    let track = quote!(
        const _: &str = ::core::include_str!(#full_text);
    );
    match denpa::compile(&text) {
        Ok((outputs, _warnings)) => {
            let items = outputs.into_iter().map(|o| o.tokens);
            quote!(#track #(#items)*)
        }
        Err(diagnostics) => {
            let rendered = diagnostics.render(&written, &text, false);
            let msg = format!("errors in `{written}`:\n{rendered}");
            let error = syn::Error::new(path.span(), msg).to_compile_error();
            quote!(#track #error)
        }
    }
}

/// `net! { ... }`
pub fn inline(input: proc_macro::TokenStream) -> TokenStream {
    // Where secondary labels are reported: the calling file's own line and
    // column when the text came from it.
    let (text, pieces, file) = match from_source_file(&input) {
        Some((text, pieces, file, base)) => (text, pieces, Some((file, base))),
        None => {
            let (text, pieces) = rebuild(&TokenStream::from(input));
            (text, pieces, None)
        }
    };
    match denpa::compile(&text) {
        Ok((outputs, _warnings)) => {
            let items = outputs.into_iter().map(|o| o.tokens);
            quote!(#(#items)*)
        }
        Err(diagnostics) => {
            let mut errors = TokenStream::new();
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                let (first, last) = covering(&pieces, d.primary.span.start, d.primary.span.end);
                let mut message = d.message.clone();
                if !d.primary.message.is_empty() && !d.message.contains(&d.primary.message) {
                    message.push_str(&format!("\n  = {}", d.primary.message));
                }
                for label in d.secondary.iter().filter(|l| !l.message.is_empty()) {
                    let place = match &file {
                        Some((file, base)) => {
                            let (line, col) = line_col(file, base + label.span.start);
                            format!("line {line}, column {col}")
                        }
                        None => {
                            let (line, col) = line_col(&text, label.span.start);
                            format!("line {line}, column {col} of the macro input")
                        }
                    };
                    message.push_str(&format!("\n  = note: {} ({place})", label.message));
                }
                if let Some(help) = &d.help {
                    message.push_str(&format!("\n  = help: {help}"));
                }
                let ends: TokenStream = [first, last]
                    .into_iter()
                    .map(|s| TokenTree::Ident(proc_macro2::Ident::new("x", s)))
                    .collect();
                errors.extend(syn::Error::new_spanned(ends, message).to_compile_error());
            }
            errors
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The spans of the first and last token overlapping `start..end` (for an
/// empty range, the token at or after it, or the last one).
fn covering(pieces: &[Piece], start: usize, end: usize) -> (Span, Span) {
    let Some(fallback) = pieces.last() else {
        return (Span::call_site(), Span::call_site());
    };
    let first = pieces.iter().find(|p| p.end > start).unwrap_or(fallback);
    let last = pieces
        .iter()
        .rev()
        .find(|p| p.start < end.max(start + 1) && p.end > start)
        .unwrap_or(first);
    (first.span, last.span)
}

/// Every token and delimiter in order, without recursion.
fn flatten(input: proc_macro::TokenStream) -> Vec<proc_macro::Span> {
    let mut out = Vec::new();
    let mut stack: Vec<(proc_macro::token_stream::IntoIter, Option<proc_macro::Span>)> =
        vec![(input.into_iter(), None)];
    while let Some((iter, close)) = stack.last_mut() {
        match iter.next() {
            Some(proc_macro::TokenTree::Group(g)) => {
                out.push(g.span_open());
                stack.push((g.stream().into_iter(), Some(g.span_close())));
            }
            Some(tree) => out.push(tree.span()),
            None => {
                if let Some(c) = close.take() {
                    out.push(c);
                }
                stack.pop();
            }
        }
    }
    out
}

/// The original text of the invocation, read from the calling file.
/// Also returns the whole file and the offset of the text in it.
fn from_source_file(
    input: &proc_macro::TokenStream,
) -> Option<(String, Vec<Piece>, String, usize)> {
    let spans = flatten(input.clone());
    let first = spans.first()?;
    let path = first.local_file()?;
    let file = std::fs::read_to_string(path).ok()?;
    // Byte offset of each line start.
    let mut line_starts = vec![0];
    line_starts.extend(file.match_indices('\n').map(|(i, _)| i + 1));
    let offset = |line: usize, column: usize| -> Option<usize> {
        let start = *line_starts.get(line.checked_sub(1)?)?;
        let rest = &file[start..];
        let col = column.checked_sub(1)?;
        let bytes = rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i);
        Some(start + bytes)
    };
    let mut ranges = Vec::with_capacity(spans.len());
    for s in &spans {
        let (a, b) = (s.start(), s.end());
        ranges.push((offset(a.line(), a.column())?, offset(b.line(), b.column())?));
    }
    let base = ranges.first()?.0;
    let end = ranges.iter().map(|r| r.1).max()?;
    if end <= base
        || spans
            .iter()
            .any(|s| s.local_file().as_deref() != first.local_file().as_deref())
    {
        return None;
    }
    let text = file.get(base..end)?.to_string();
    let pieces = spans
        .iter()
        .zip(&ranges)
        .map(|(s, (a, b))| Piece {
            span: Span::from(*s),
            start: a - base,
            end: b - base,
        })
        .collect();
    Some((text, pieces, file, base))
}

/// Text rebuilt from the tokens, for when the source file cannot be read:
/// `#[doc = "..."]` becomes `///...` again.
fn rebuild(input: &TokenStream) -> (String, Vec<Piece>) {
    let mut text = String::new();
    let mut pieces = Vec::new();
    let mut stack: Vec<(proc_macro2::token_stream::IntoIter, Option<(Span, char)>)> =
        vec![(input.clone().into_iter(), None)];
    let mut push = |text: &mut String, s: &str, span: Span| {
        let start = text.len();
        text.push_str(s);
        pieces.push(Piece {
            span,
            start,
            end: text.len(),
        });
        text.push(' ');
    };
    while let Some((iter, close)) = stack.last_mut() {
        let Some(tree) = iter.next() else {
            if let Some((span, c)) = close.take() {
                push(&mut text, &c.to_string(), span);
            }
            stack.pop();
            continue;
        };
        match tree {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                // A doc comment arrives as `# [doc = "..."]`.
                let next = iter.clone().next();
                if let Some(TokenTree::Group(g)) = next.filter(
                    |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket),
                ) {
                    if let Some(doc) = doc_text(&g.stream()) {
                        iter.next();
                        push(&mut text, &format!("///{doc}\n"), p.span());
                        continue;
                    }
                }
                push(&mut text, "#", p.span());
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => (' ', ' '),
                };
                push(&mut text, &open.to_string(), g.span_open());
                stack.push((g.stream().into_iter(), Some((g.span_close(), close))));
            }
            other => push(&mut text, &other.to_string(), other.span()),
        }
    }
    (text, pieces)
}

fn doc_text(attr: &TokenStream) -> Option<String> {
    let mut it = attr.clone().into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(TokenTree::Ident(i)), Some(TokenTree::Punct(p)), Some(TokenTree::Literal(l)))
            if i == "doc" && p.as_char() == '=' =>
        {
            let lit: syn::LitStr = syn::parse_str(&l.to_string()).ok()?;
            Some(lit.value().replace('\n', " "))
        }
        _ => None,
    }
}
