//! `denpa fmt`: one canonical layout for a `.nn` file.
//!
//! The tokens are the parser's own: every name, number, keyword, operator
//! and doc comment is a leaf of the pest parse, and what lies between two
//! leaves is punctuation, whitespace and comments. The layout is then a
//! function of the tokens, the statements the parse found, and the line
//! breaks the author made:
//!
//! - four spaces of indent per brace; every statement on a line of its own;
//!   the optional `;` between statements dropped;
//! - one blank line between networks and blocks; inside a body, a blank line
//!   kept where the author left one (several become one), none after `{` or
//!   before `}`;
//! - one space around `=` and the binary operators, after `,` and `:`; none
//!   inside brackets, before `(` of a call or `[` of an index, around `..`,
//!   or after a unary `-`;
//! - a statement the author broke over several lines stays broken at the
//!   same places, each continuation indented four spaces per open bracket
//!   (four when none is open), as gofmt keeps line breaks;
//! - every comment kept, its text untouched (trailing spaces of `//` lines
//!   dropped), on its own line or after code as it was written; comments
//!   after code on consecutive lines aligned in one column, as gofmt does.
//!
//! Formatting twice gives the same text, and the formatted file compiles to
//! the same networks (`tests/format.rs` checks both over every fixture).

use pest::Parser as _;

use super::parse::{is_keyword, NnParser, Rule};
use crate::diagnostics::Diagnostics;

/// The canonical layout of `source`, or its syntax errors (a file that does
/// not parse is not touched).
pub fn format(source: &str) -> Result<String, Diagnostics> {
    super::parse(source)?;
    let pairs = NnParser::parse(Rule::file, source)
        .map_err(|e| Diagnostics::from(super::errors::syntax_error(source, e)))?;
    let mut leaves = Vec::new();
    let mut starts = Vec::new();
    let mut statements: Vec<(usize, usize)> = Vec::new();
    let mut within = 0;
    for pair in pairs.flatten() {
        let rule = pair.as_rule();
        if matches!(
            rule,
            Rule::item | Rule::block_item | Rule::return_decl | Rule::network | Rule::block
        ) {
            // A statement starts at its first token after its doc comments.
            let first = pair.clone().into_inner().find(|p| p.as_rule() != Rule::doc);
            let start = first.map_or(pair.as_span().start(), |p| p.as_span().start());
            starts.push(start);
            if !matches!(rule, Rule::network | Rule::block) {
                statements.push((start, start));
                within = pair.as_span().end();
            }
        }
        // A statement's pair runs on over the whitespace and comments after
        // it; it ends where its last token that ends tightly does.
        let end = pair.as_span().end();
        let tight = matches!(
            rule,
            Rule::ident | Rule::number | Rule::shape | Rule::call | Rule::array | Rule::paren
        ) || matches!(rule, Rule::index | Rule::bad_number | Rule::kw_return);
        if let Some(last) = statements.last_mut().filter(|_| tight && end <= within) {
            last.1 = last.1.max(end);
        }
        let kind = match rule {
            Rule::doc => Kind::Doc,
            Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul => Kind::Operator,
            Rule::neg => Kind::Neg,
            Rule::ident | Rule::number | Rule::bad_number => Kind::Word,
            rule if is_keyword(rule) => Kind::Word,
            _ => continue,
        };
        let span = pair.as_span();
        leaves.push((span.start(), span.end(), kind));
    }
    starts.sort_unstable();
    statements.sort_unstable();
    let tokens = tokens(source, &leaves);
    Ok(layout(&tokens, &starts, &statements))
}

/// What a token is, for spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A name, number or keyword.
    Word,
    /// A binary operator.
    Operator,
    /// A unary minus.
    Neg,
    /// One of `( ) [ ] { } , : = ; ..`.
    Punct,
    /// `// …` to the end of the line.
    LineComment,
    /// `/* … */`, nested.
    BlockComment,
    /// `/// …`.
    Doc,
}

/// A token: its text, its start in the source, and how many line breaks
/// stand between it and the token before.
#[derive(Debug)]
struct Token<'a> {
    text: &'a str,
    start: usize,
    kind: Kind,
    breaks: usize,
}

/// The leaves and, between them, the punctuation and comments.
fn tokens<'a>(source: &'a str, leaves: &[(usize, usize, Kind)]) -> Vec<Token<'a>> {
    let mut tokens = Vec::new();
    let mut breaks = 0;
    let mut at = 0;
    let ends = leaves
        .iter()
        .map(|&(s, e, k)| (s, Some((e, k))))
        .chain([(source.len(), None)]);
    for (next, leaf) in ends {
        gap(source, at, next, &mut breaks, &mut tokens);
        if let Some((end, kind)) = leaf {
            let text = source[next..end].trim_end_matches('\r');
            tokens.push(Token {
                text,
                start: next,
                kind,
                breaks,
            });
            breaks = 0;
            at = end;
        }
    }
    tokens
}

/// Splits the text between two leaves into punctuation and comments,
/// counting line breaks.
fn gap<'a>(source: &'a str, from: usize, to: usize, breaks: &mut usize, out: &mut Vec<Token<'a>>) {
    let bytes = source.as_bytes();
    let mut i = from;
    while i < to {
        let rest = &bytes[i..to];
        let (len, kind) = match rest[0] {
            b'\n' => {
                *breaks += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if rest.get(1) == Some(&b'/') => (
                rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
                Kind::LineComment,
            ),
            b'/' if rest.get(1) == Some(&b'*') => (block_comment_len(rest), Kind::BlockComment),
            b'.' if rest.get(1) == Some(&b'.') => (2, Kind::Punct),
            _ => (1, Kind::Punct),
        };
        let mut text = &source[i..i + len];
        if kind == Kind::LineComment {
            text = text.trim_end();
        }
        out.push(Token {
            text,
            start: i,
            kind,
            breaks: *breaks,
        });
        *breaks = 0;
        i += len;
    }
}

/// The length of the (nested) block comment at the start of `text`.
fn block_comment_len(text: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if text[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    text.len()
}

/// The tokens laid out; `starts` are the byte offsets where statements,
/// networks and blocks begin, `statements` the statements' extents (after
/// their doc comments), in order.
fn layout(tokens: &[Token<'_>], starts: &[usize], statements: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut braces = 0usize;
    let mut brackets = 0usize;
    let mut prev: Option<&Token<'_>> = None;
    let mut trailing = Vec::new();
    for token in tokens {
        if token.text == ";" && token.kind == Kind::Punct {
            continue;
        }
        let closes = matches!(token.text, ")" | "]") && token.kind == Kind::Punct;
        if closes {
            brackets = brackets.saturating_sub(1);
        }
        if token.text == "}" && token.kind == Kind::Punct {
            braces = braces.saturating_sub(1);
            brackets = 0;
        }
        let statement = starts.binary_search(&token.start).is_ok();
        let separator = separator(prev, token, statement, braces);
        if token.kind == Kind::LineComment && matches!(separator, Separator::Space) {
            // A comment after code: aligned with its neighbours' below.
            trailing.push(out.len());
        }
        match separator {
            Separator::Space => out.push(' '),
            Separator::Nothing => {}
            Separator::Line { blank } => {
                if prev.is_some() {
                    out.push('\n');
                    if blank {
                        out.push('\n');
                    }
                }
                // A line that continues a statement: four spaces per open
                // bracket, or four when none is open.
                let within = statements
                    .partition_point(|&(start, _)| start < token.start)
                    .checked_sub(1)
                    .is_some_and(|i| token.start < statements[i].1);
                let continuation = if closes || brackets > 0 || token.text == "}" {
                    brackets
                } else {
                    usize::from(within && token.kind != Kind::Doc)
                };
                let indent = braces + continuation;
                out.extend(std::iter::repeat_n("    ", indent));
            }
        }
        out.push_str(token.text);
        match token.text {
            "(" | "[" if token.kind == Kind::Punct => brackets += 1,
            "{" if token.kind == Kind::Punct => {
                braces += 1;
                brackets = 0;
            }
            _ => {}
        }
        prev = Some(token);
    }
    out.push('\n');
    align_trailing_comments(&out, &trailing)
}

/// Comments after code on consecutive lines start in one column, two spaces
/// after the longest code of the run, as gofmt aligns them. `at` are the
/// byte offsets of the spaces before such comments, in order.
fn align_trailing_comments(text: &str, at: &[usize]) -> String {
    let mut lines: Vec<(usize, usize)> = Vec::new(); // (line, offset)
    for &offset in at {
        lines.push((text[..offset].matches('\n').count(), offset));
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut run_start = 0;
    while run_start < lines.len() {
        let mut run_end = run_start + 1;
        while run_end < lines.len() && lines[run_end].0 == lines[run_end - 1].0 + 1 {
            run_end += 1;
        }
        let width = |offset: usize| {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            text[line_start..offset].chars().count()
        };
        let run = &lines[run_start..run_end];
        let column = run.iter().map(|&(_, o)| width(o)).max().unwrap_or(0) + 2;
        for &(_, offset) in run {
            out.push_str(&text[copied..offset]);
            out.extend(std::iter::repeat_n(' ', column - width(offset)));
            copied = offset + 1;
        }
        run_start = run_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether a token is a comment or doc comment, which a blank line before
/// it may set apart.
fn is_own_line(token: &Token<'_>) -> bool {
    matches!(
        token.kind,
        Kind::LineComment | Kind::BlockComment | Kind::Doc
    )
}

enum Separator {
    Nothing,
    Space,
    Line { blank: bool },
}

/// What goes between `prev` and `token`.
fn separator(
    prev: Option<&Token<'_>>,
    token: &Token<'_>,
    statement: bool,
    braces: usize,
) -> Separator {
    let Some(prev) = prev else {
        return Separator::Line { blank: false };
    };
    let punct = |t: &Token<'_>, s: &str| t.kind == Kind::Punct && t.text == s;
    let comment = |t: &Token<'_>| matches!(t.kind, Kind::LineComment | Kind::BlockComment);
    // A comment written after code stays there.
    if token.breaks == 0 && comment(token) && !matches!(prev.kind, Kind::LineComment | Kind::Doc) {
        return Separator::Space;
    }
    let kept_blank = token.breaks >= 2 && !punct(prev, "{") && !punct(token, "}");
    if braces == 0 && punct(prev, "}") {
        return Separator::Line { blank: true };
    }
    let must_break = matches!(prev.kind, Kind::LineComment | Kind::Doc)
        || punct(prev, "{")
        || punct(token, "}")
        || token.kind == Kind::Doc
        || statement;
    if must_break || token.breaks > 0 {
        let blank = kept_blank && (statement || is_own_line(token) || braces == 0);
        return Separator::Line { blank };
    }
    if prev.kind == Kind::BlockComment {
        return if matches!(token.text, "," | ")" | "]") {
            Separator::Nothing
        } else {
            Separator::Space
        };
    }
    let tight = match (prev.kind, prev.text, token.kind, token.text) {
        (_, _, Kind::Punct, "," | ":" | ")" | "]" | "..") => true,
        (Kind::Punct, "(" | "[" | "..", _, _) => true,
        (Kind::Neg, ..) => true,
        // A call's `(` and an index's `[` follow their name or value.
        (Kind::Word, _, Kind::Punct, "(" | "[") => true,
        (Kind::Punct, ")" | "]", Kind::Punct, "(" | "[") => true,
        _ => false,
    };
    if tight {
        Separator::Nothing
    } else {
        Separator::Space
    }
}
