//! What a syntax error says: pest's "expected …" turned into one sentence
//! naming what was expected and what was found, with the bracket and comment
//! scan first (an unclosed bracket says more than the grammar's guess) and
//! the keyword cases ("`train` is a keyword and cannot name a value"); the
//! cases of a half-written file, where pest's own guess says little, are
//! `halfway.rs`'s. When nothing can be said of what was expected, the error
//! says what was found.

use pest::error::{ErrorVariant, InputLocation};

use super::delimiters;
use super::halfway::*;
use super::parse::{Rule, KEYWORDS, MAX_NESTING};
use crate::diagnostics::{Diagnostic, Span};

/// The error of brackets nested deeper than [`MAX_NESTING`], at the first
/// bracket past the limit.
pub(super) fn too_deep(at: usize) -> Diagnostic {
    Diagnostic::error(
        delimiters::at(at),
        format!("expression nested more than {MAX_NESTING} levels deep"),
    )
    .label("nesting limit reached here")
    .help("give parts of the expression names with bindings (`h = ...`)")
}

/// Turns pest's error into one sentence: what was expected, what was found.
pub(super) fn syntax_error(source: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    // Comments and brackets first: an unterminated comment or an unclosed
    // bracket says more than what the grammar expected at the end.
    let scan = delimiters::scan(source, MAX_NESTING);
    if let Some(start) = scan.unterminated_comment {
        return Diagnostic::error(Span::new(start, start + 2), "unterminated block comment")
            .label("this comment is never closed")
            .help("close it with `*/` (block comments nest, so every `/*` needs its own `*/`)");
    }
    if let ErrorVariant::CustomError { .. } = error.variant {
        // pest's stack guard: the nesting is deeper than any stack allows.
        return too_deep(scan.too_deep.unwrap_or_else(|| error_position(&error)));
    }
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // With error detail on, pest also knows the furthest position it reached
    // and the literal tokens it tried there (`input x [2]` stops at `[`,
    // wanting `:`), which says more than the rule that failed further back.
    let mut literals: Vec<String> = Vec::new();
    let furthest = error.parse_attempts().map_or(pos, |a| a.max_position);
    if let Some(attempts) = error.parse_attempts() {
        let tried: Vec<String> = attempts
            .expected_tokens()
            .into_iter()
            .map(|t| t.to_string())
            .filter(|t| is_punctuation(t))
            .map(|t| format!("`{t}`"))
            .collect();
        if attempts.max_position > pos && !tried.is_empty() {
            pos = attempts.max_position;
            literals = tried;
        } else if attempts.max_position == pos {
            literals = tried;
        }
    }
    let (found, found_span) = token_at(source, pos);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { .. }
            if !literals.is_empty() && pos > error_position(&error) =>
        {
            let mut names: Vec<&str> = literals.iter().map(String::as_str).collect();
            names.sort_unstable();
            names.dedup();
            names
        }
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            names.extend(literals.iter().map(String::as_str));
            names.sort_unstable();
            names.dedup();
            names
        }
        ErrorVariant::CustomError { message } => {
            return Diagnostic::error(found_span, format!("cannot parse this: {message}"));
        }
    };
    // `(` and `[` start expressions: "an expression" already says so.
    let mut expected = expected;
    if expected.contains(&"an expression") {
        expected.retain(|e| !matches!(*e, "`(`" | "`[`" | "`-`"));
    }
    if let Some((at, close, open)) = scan.unmatched_close {
        if at <= pos {
            let d = Diagnostic::error(delimiters::at(at), format!("unexpected `{close}`"));
            return match open {
                Some((o, c)) => d
                    .label(format!(
                        "expected `{}` to close the `{c}`",
                        delimiters::closing(c)
                    ))
                    .also(delimiters::at(o), format!("this `{c}` is still open")),
                None => d
                    .label("nothing to close")
                    .help("remove it, or add the opening bracket it belongs to"),
            };
        }
    }
    if found == "`}`" && expected.contains(&"`return`") {
        return Diagnostic::error(found_span, "this block has no `return`")
            .label("expected `return EXPR` before this brace")
            .help("a block ends with `return` and the value it gives the binding that calls it");
    }
    let open = delimiters::open_at(source, pos);
    if found == "end of input" {
        if let Some(&(o, c)) = open.last() {
            return Diagnostic::error(delimiters::at(o), format!("unclosed `{c}`"))
                .label(format!("this `{c}` is never closed"))
                .help(format!("add `{}` where it ends", delimiters::closing(c)));
        }
    }
    if let Some(d) = unknown_character(source, pos, found_span) {
        return d;
    }
    if let Some(d) = keyword_error(source, pos, found_span, &expected) {
        return d;
    }
    if let Some(d) = top_level_error(source, pos) {
        return d;
    }
    if let Some(d) = statement_error(source, pos, &found) {
        return d;
    }
    if let Some(d) = unfinished_error(source, pos, &found, found_span, &expected) {
        return d;
    }
    if let Some(d) = doc_inside_statement(source, pos, furthest) {
        return d;
    }
    if let Some(&(o, c)) = open.last().filter(|(_, c)| *c != '{') {
        let close = format!("`{}`", delimiters::closing(c));
        if expected.contains(&close.as_str()) {
            return Diagnostic::error(found_span, format!("expected {close}, found {found}"))
                .label(format!("expected {close}"))
                .also(delimiters::at(o), format!("unclosed `{c}`"));
        }
    }
    let expected = match expected.as_slice() {
        // Nothing to name: say what was found, and where.
        [] => {
            return Diagnostic::error(found_span, format!("unexpected {found}"))
                .label("not allowed here")
        }
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    let label = if expected.len() > 40 {
        format!("unexpected {found}")
    } else {
        format!("expected {expected}")
    };
    Diagnostic::error(found_span, format!("expected {expected}, found {found}")).label(label)
}

/// The error when the parse stopped at a keyword where a name or an
/// expression was expected (`input dtype: [2]`, `y = param + x`, the next
/// statement after a bare `=`), or at the `=` right after a keyword used as
/// a binding's name (`train = sgd(0.1)`). The grammar says what it expected;
/// the tokens around the keyword say in which statement.
pub(super) fn keyword_error(
    source: &str,
    pos: usize,
    found: Span,
    expected: &[&str],
) -> Option<Diagnostic> {
    let wanted = |what: &str| expected.contains(&what);
    let text_of = |span: Option<Span>| span.map_or("", |s| &source[s.range()]);
    let text = &source[found.range()];
    let [before, prev] = tokens_before(source, pos);
    let prev_text = text_of(prev);
    if text == "=" {
        // `param = x`: the keyword was read as the start of its statement.
        let is_binding_name = KEYWORDS.contains(&prev_text) && prev_text != "loss";
        if !is_binding_name || !(wanted("a name") || wanted("an expression")) {
            return None;
        }
        let help = match prev_text {
            "train" => {
                "to choose the optimizer, write it after `train` without `=`: `train sgd(lr = 0.1)`"
                    .to_string()
            }
            "dtype" => {
                "to choose the element type, write it after `dtype` without `=`: `dtype f64`"
                    .to_string()
            }
            _ => format!("for example `{prev_text}_`"),
        };
        return Some(cannot_name(prev?, prev_text, "a value").help(help));
    }
    let in_name_or_value = wanted("a name") || wanted("an expression") || wanted("an argument");
    let whole_word =
        !source[..found.start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    // After `)`, `]`, a name or a number a value is complete: the keyword
    // starts the next statement, and what went wrong is elsewhere.
    let after_value = matches!(prev_text, ")" | "]")
        || prev_text.starts_with(|c: char| c.is_ascii_digit())
        || is_word(prev_text) && !KEYWORDS.contains(&prev_text) && prev_text != "return";
    if !KEYWORDS.contains(&text) || !whole_word || !in_name_or_value || after_value {
        return None;
    }
    let next = text_of(token_after(source, found.end));
    let assigns = next == "=" && !source[found.end..].trim_start().starts_with("==");
    let (what, help) = match prev_text {
        "network" if next == "{" => {
            let name = text[..1].to_ascii_uppercase() + &text[1..];
            let d = cannot_name(found, text, "a network");
            return Some(d.help(format!("for example `{name}`")));
        }
        "input" | "target" | "param" if next == ":" => {
            let d = cannot_name(found, text, "a value");
            return Some(d.help(format!("for example `{text}_`")));
        }
        "output" if next == "=" => {
            let d = cannot_name(found, text, "a value");
            return Some(d.help(format!("for example `{text}_`")));
        }
        "network" | "input" | "target" | "param" | "output" => ("a name", None),
        "dtype" => ("a dtype", Some("write `dtype f32` or `dtype f64`")),
        "train" => ("an optimizer", Some(MISSING_OPTIMIZER)),
        _ if next == "(" => {
            let message = format!("`{text}` is a keyword and cannot name a function");
            return Some(Diagnostic::error(found, message).label("not a function"));
        }
        "(" | "," if assigns => {
            let message = format!("`{text}` is a keyword and cannot name an argument");
            return Some(Diagnostic::error(found, message).label("not an argument"));
        }
        // `param W: [2, 2] =`: only a parameter's initializer follows `] =`.
        "=" if text_of(before) == "]" => ("an initializer", Some(MISSING_INITIALIZER)),
        _ => ("an expression", None),
    };
    let noun = if what == "an expression" {
        "a value"
    } else {
        what
    };
    let message = match prev {
        Some(_) => format!("expected {what} after `{prev_text}`, found keyword `{text}`"),
        None => format!("expected {what}, found keyword `{text}`"),
    };
    let mut d = Diagnostic::error(found, message).label(format!("a keyword, not {noun}"));
    // A keyword at the start of a later line most likely starts the next
    // statement: show what it left unfinished.
    if let Some(p) = prev.filter(|p| source[p.end..found.start].contains('\n')) {
        d = d.also(p, format!("{what} must follow this `{prev_text}`"));
    }
    Some(match help {
        Some(h) => d.help(h),
        None => d,
    })
}

pub(super) const MISSING_INITIALIZER: &str =
    "write one, as in `= normal(0, 0.1)`, or leave out the `=` for the default initializer";
pub(super) const MISSING_OPTIMIZER: &str =
    "write one, as in `train sgd(lr = 0.1)`, or leave out `train` for the default optimizer";

/// "`param` is a keyword and cannot name a value", in the words of `check`.
pub(super) fn cannot_name(span: Span, keyword: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("`{keyword}` is a keyword and cannot name {what}"),
    )
    .label("choose another name")
}

/// The spans of the two tokens (words, numbers, symbols) that end at or
/// before `pos`, past whitespace and comments, the nearer last.
pub(super) fn tokens_before(source: &str, pos: usize) -> [Option<Span>; 2] {
    let mut last = [None, None];
    let mut at = 0;
    while let Some(t) = token_after(source, at).filter(|t| t.end <= pos) {
        last = [last[1], Some(t)];
        at = t.end;
    }
    last
}

/// The span of the first token at or after `from`, past whitespace and
/// comments: a word or number (letters, digits, `_`), or one other character.
pub(super) fn token_after(source: &str, from: usize) -> Option<Span> {
    let bytes = source.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let len = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .unwrap_or(bytes.len() - i);
                return Some(Span::new(i, i + len));
            }
            _ => {
                let len = source[i..].chars().next().map_or(1, char::len_utf8);
                return Some(Span::new(i, i + len));
            }
        }
    }
    None
}

pub(super) fn error_position(error: &pest::error::Error<Rule>) -> usize {
    match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

/// What stands at `pos`: a word, a number, one symbol, or the end.
pub(super) fn token_at(source: &str, pos: usize) -> (String, Span) {
    let pos = pos.min(source.len());
    let rest = &source[pos..];
    let Some(first) = rest.chars().next() else {
        return ("end of input".to_string(), Span::new(pos, pos));
    };
    if rest.starts_with("///") && !rest.starts_with("////") {
        let len = rest.find('\n').unwrap_or(rest.len());
        return (
            "a doc comment".to_string(),
            Span::new(pos, pos + rest[..len].trim_end().len()),
        );
    }
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    let text = &rest[..len];
    let shown = if first.is_control() || first.is_whitespace() {
        format!("{:?}", first)
    } else {
        format!("`{text}`")
    };
    (shown, Span::new(pos, pos + len))
}

/// The literal tokens worth naming in "expected ...": punctuation, not the
/// starts of whitespace or comments, nor character ranges.
pub(super) fn is_punctuation(token: &str) -> bool {
    matches!(
        token,
        ":" | "=" | "," | ";" | "(" | ")" | "[" | "]" | "{" | "}" | ".."
    )
}

pub(super) fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of input",
        Rule::network | Rule::kw_network => "`network`",
        Rule::block | Rule::kw_block => "`block`",
        Rule::block_params => "the block's arguments",
        Rule::block_item => "a `param` or a binding `name = ...`",
        Rule::return_decl | Rule::kw_return => "`return`",
        Rule::item => "a statement (`input`, `target`, `param`, `output`, `loss`, `train`, `dtype` or `name = ...`)",
        Rule::input_decl | Rule::kw_input => "`input`",
        Rule::target_decl | Rule::kw_target => "`target`",
        Rule::param_decl | Rule::kw_param => "`param`",
        Rule::output_decl | Rule::kw_output => "`output`",
        Rule::loss_decl | Rule::kw_loss => "`loss`",
        Rule::train_decl | Rule::kw_train => "`train`",
        Rule::dtype_decl | Rule::kw_dtype => "`dtype`",
        Rule::binding => "a binding `name = ...`",
        Rule::doc => "a doc comment",
        Rule::ident => "a name",
        Rule::number => "a number",
        Rule::shape => "a shape like `[2, 3]`",
        Rule::expr | Rule::operand | Rule::primary | Rule::call | Rule::paren | Rule::array => "an expression",
        Rule::arg => "an argument",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul => "an operator",
        Rule::neg => "`-`",
        Rule::range | Rule::kw_in => "a range of indices like `in 0..27`",
        Rule::index => "an index like `[0]`",
        _ => return None,
    })
}
