//! What a syntax error says: pest's "expected …" turned into one sentence
//! naming what was expected and what was found, with the bracket and comment
//! scan first (an unclosed bracket says more than the grammar's guess), the
//! keyword cases ("`train` is a keyword and cannot name a value"), and the
//! cases of a half-written file, where pest's own guess says little: a
//! misspelt keyword ("unknown keyword `parm`", with a did-you-mean), a stray
//! word after a complete statement (named, and pointed at), a statement cut
//! short ("expected an expression after `=`"). When nothing can be said of
//! what was expected, the error says what was found.

use pest::error::{ErrorVariant, InputLocation};

use super::delimiters;
use super::parse::{statement_at, Rule, KEYWORDS, MAX_NESTING};
use crate::diagnostics::{closest_of, Diagnostic, Span};

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
fn keyword_error(source: &str, pos: usize, found: Span, expected: &[&str]) -> Option<Diagnostic> {
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

/// Which body a position is in, for what may start a statement there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Between networks and blocks.
    Top,
    /// In a network's body, its `{` at this byte.
    Network(usize),
    /// In a block's body, its `{` at this byte.
    Block(usize),
    /// Inside parentheses or square brackets.
    Brackets,
}

impl Body {
    fn at(source: &str, pos: usize) -> Body {
        match delimiters::open_at(source, pos).last() {
            None => Body::Top,
            Some(&(open, '{')) => {
                // `block name(x, n) {` against `network Name {`.
                let [_, prev] = tokens_before(source, open);
                if prev.is_some_and(|p| &source[p.range()] == ")") {
                    Body::Block(open)
                } else {
                    Body::Network(open)
                }
            }
            Some(_) => Body::Brackets,
        }
    }

    /// The keywords that start what may stand here.
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Body::Top => &["network", "block"],
            Body::Network(_) => &KEYWORDS[1..],
            Body::Block(_) => &["param", "return"],
            Body::Brackets => &[],
        }
    }

    /// What a statement here starts with.
    fn help(self) -> &'static str {
        match self {
            Body::Block(_) => BLOCK_STATEMENTS,
            _ => NETWORK_STATEMENTS,
        }
    }
}

const NETWORK_STATEMENTS: &str = "a statement starts with a keyword (`input`, `target`, `param`, `output`, `loss`, `train`, `dtype`) or `name =`";
const BLOCK_STATEMENTS: &str =
    "a block's body holds `param` declarations and bindings `name = ...`, and ends with `return`";
const FILE_ITEMS: &str =
    "a file holds networks, `network Name { ... }`, and blocks, `block name(x) { ... }`";
const STRAY: &str = "a statement ends where its expression ends; go on with an operator (`+`, `-`, `*`, `/`, `@`), or start a new statement with a keyword or `name =`";

/// A word: a name or a keyword, not a number.
fn is_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// "the network `Xor`": the network or block whose body the brace at
/// `brace` opens or closes.
fn owner_of(source: &str, brace: usize) -> Option<String> {
    let start = delimiters::network_starts(source)
        .into_iter()
        .rfind(|&s| s < brace)?;
    let keyword = token_after(source, start)?;
    let name = token_after(source, keyword.end)?;
    let (keyword, name) = (&source[keyword.range()], &source[name.range()]);
    (matches!(keyword, "network" | "block") && is_word(name))
        .then(|| format!("the {keyword} `{name}`"))
}

/// A character the language never uses, where pest stopped: `%`, `^`, `"`,
/// `é`.
fn unknown_character(source: &str, pos: usize, found: Span) -> Option<Diagnostic> {
    let ch = source.get(pos..)?.chars().next()?;
    if !ch.is_ascii() {
        return Some(
            Diagnostic::error(found, format!("unexpected character `{ch}`"))
                .label("not allowed here")
                .help("names use ASCII letters, digits and `_`"),
        );
    }
    if ch.is_ascii_alphanumeric() || ch.is_ascii_whitespace() || "_()[]{},;:=+-*/@.".contains(ch) {
        return None;
    }
    let shown = if ch.is_ascii_control() {
        format!("{ch:?}")
    } else {
        format!("`{ch}`")
    };
    let d = Diagnostic::error(found, format!("unexpected character {shown}"));
    let [_, prev] = tokens_before(source, pos);
    let after_operand = prev.is_some_and(|p| {
        let t = &source[p.range()];
        matches!(t, ")" | "]")
            || t.starts_with(|c: char| c.is_ascii_digit())
            || is_word(t) && !KEYWORDS.contains(&t)
    });
    Some(match ch {
        '#' => d.label("not a comment").help("comments start with `//`"),
        '"' | '\'' => d
            .label("not allowed here")
            .help("names and numbers are written without quotes"),
        _ if after_operand && Body::at(source, pos) != Body::Top => d
            .label("not an operator")
            .help("the operators are `+`, `-`, `*`, `/` and `@`"),
        _ => d.label("not allowed here"),
    })
}

/// The error where something at the top level is neither a network nor a
/// block: a misspelt keyword (`netwrk Xor {`), a statement after the
/// network's closing brace, a stray word.
fn top_level_error(source: &str, pos: usize) -> Option<Diagnostic> {
    if Body::at(source, pos) != Body::Top {
        return None;
    }
    // At the start of the file or right after a network's or block's `}`.
    let [_, prev] = tokens_before(source, pos);
    let close = prev.filter(|p| &source[p.range()] == "}");
    if prev.is_some() && close.is_none() {
        return None;
    }
    // Past the doc comments that would document it.
    let found = token_after(source, pos)?;
    let text = &source[found.range()];
    if text == "network" {
        // `network Mlp /// doc`: pest gives up at the keyword, not at the doc
        // comment where the `{` should be.
        let name = token_after(source, found.end)?;
        let name_text = &source[name.range()];
        let brace = token_after(source, name.end);
        let brace_text = brace.map_or("", |b| &source[b.range()]);
        if !is_word(name_text) || KEYWORDS.contains(&name_text) || brace_text == "{" {
            return None;
        }
        let (at, shown) = match brace {
            Some(b) => (b, format!("`{brace_text}`")),
            None => (
                Span::new(source.len(), source.len()),
                "end of input".to_string(),
            ),
        };
        return Some(
            Diagnostic::error(
                at,
                format!("expected `{{` after `{name_text}`, found {shown}"),
            )
            .label("expected `{`")
            .also(name, format!("`{{` must follow this `{name_text}`")),
        );
    }
    if text == "block" {
        return None;
    }
    let owner = close.and_then(|c| owner_of(source, c.start));
    let owner = owner.as_deref().unwrap_or("the network");
    let ends_here = |d: Diagnostic| match close {
        Some(c) => d.also(c, format!("{owner} ends here")),
        None => d,
    };
    if KEYWORDS.contains(&text) || text == "return" {
        let (what, inside) = match text {
            "return" => ("`return`".to_string(), "block"),
            _ => (a_statement(text), "network"),
        };
        let d = Diagnostic::error(found, format!("{what} outside any {inside}"))
            .label(format!("not inside a {inside}"));
        return Some(match close {
            Some(_) => ends_here(d).help("move it into the body, before the closing `}`"),
            None => d.help(format!("statements go inside a {inside}; {FILE_ITEMS}")),
        });
    }
    if is_word(text) {
        if let Some(keyword) = meant_keyword(text, Body::Top.keywords()) {
            return Some(unknown_keyword(found, text, keyword));
        }
    }
    let d = match close {
        Some(_) => ends_here(
            Diagnostic::error(
                found,
                format!("unexpected `{text}` after the end of {owner}"),
            )
            .label("not inside a network or block"),
        ),
        None => Diagnostic::error(
            found,
            format!("expected `network` or `block`, found `{text}`"),
        )
        .label("expected `network` or `block`"),
    };
    Some(d.help(FILE_ITEMS))
}

/// "a `loss` statement", "an `input` statement".
fn a_statement(keyword: &str) -> String {
    let article = if keyword.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{keyword}` statement")
}

/// The keyword a word was most likely meant to be: a misspelt one (`parm`),
/// or one half typed (`netw`).
fn meant_keyword(text: &str, keywords: &[&'static str]) -> Option<&'static str> {
    closest_of(text, keywords.iter().copied()).or_else(|| {
        let mut started = keywords
            .iter()
            .filter(|k| text.len() >= 2 && k.starts_with(text));
        match (started.next(), started.next()) {
            (Some(k), None) => Some(*k),
            _ => None,
        }
    })
}

/// "unknown keyword `parm`", with the keyword it is closest to.
fn unknown_keyword(span: Span, text: &str, keyword: &str) -> Diagnostic {
    Diagnostic::error(span, format!("unknown keyword `{text}`"))
        .label("not a keyword")
        .help(format!("did you mean `{keyword}`?"))
}

/// The error at the start of a statement in a body: a misspelt keyword
/// (`parm W: [2, 3]`, read as a binding's name until `W`), a stray word or
/// symbol after a complete statement (`loss = sse(y, t) extra`), a statement
/// that does not belong in this body. The body's statements are read one by
/// one up to the error, so that the stray token is known, and the statement
/// it follows.
fn statement_error(source: &str, pos: usize, found: &str) -> Option<Diagnostic> {
    let body = Body::at(source, pos);
    let (Body::Network(open) | Body::Block(open)) = body else {
        return None;
    };
    let in_block = matches!(body, Body::Block(_));
    let mut at = open + 1;
    let mut last = None;
    let stray = loop {
        let next = token_after(source, at)?;
        if &source[next.range()] == ";" && next.start < pos {
            at = next.end;
            continue;
        }
        if next.start >= pos {
            break next;
        }
        match statement_at(&source[next.start..], in_block) {
            Some((rule, name, len)) if len > 0 && next.start + len <= pos => {
                last = Some((Span::new(next.start, next.start + len), rule, name));
                at = next.start + len;
            }
            Some(_) => return None,
            None => break next,
        }
    };
    let text = &source[stray.range()];
    let word = is_word(text);
    // `parm W1: [2, 3]`: the word was read as a binding's name, and the
    // parse stopped right after it.
    let mut then = token_after(source, stray.end);
    let mut found = found.to_string();
    let name_like = word && !KEYWORDS.contains(&text) && !(in_block && text == "return");
    // `d` and, on the next line, a doc comment: pest gives up at the word.
    let doc_next = source[stray.end..].trim_start().starts_with("///");
    if name_like && stray.start == pos && doc_next {
        let doc = source.len() - source[stray.end..].trim_start().len();
        let (shown, span) = token_at(source, doc);
        (then, found) = (Some(span), shown);
    }
    let read_as_name = name_like
        && (stray.start < pos && then.map_or(source.len(), |t| t.start) == pos
            || stray.start == pos && doc_next);
    if stray.start != pos && !read_as_name {
        return None;
    }
    let [_, before] = tokens_before(source, stray.start);
    let starts_line = before.is_none_or(|b| {
        source[b.end..stray.start].contains('\n') || matches!(&source[b.range()], "{" | ";")
    });
    let then_text = then.map_or("", |t| &source[t.range()]);
    let owner = || owner_of(source, open).unwrap_or_else(|| "the network".to_string());
    // `network B {` inside `network A {`: most likely A's `}` is missing.
    if matches!(text, "network" | "block") && (text == "network" || is_word(then_text)) {
        let what = if text == "network" {
            "a network cannot be inside another"
        } else {
            "a block cannot be inside a network"
        };
        let owner = owner();
        return Some(
            Diagnostic::error(stray, format!("expected `}}` before `{text}`"))
                .label(what)
                .also(delimiters::at(open), format!("{owner} is still open"))
                .help(format!("close {owner} with `}}` before it")),
        );
    }
    if text == "return" && !in_block && read_as_name {
        return Some(
            Diagnostic::error(stray, "`return` in a network")
                .label("only a block returns a value")
                .help("mark what the network computes with `output name = ...`"),
        );
    }
    // `param` fails further on, if anywhere.
    if KEYWORDS.contains(&text) && text != "param" && in_block {
        return Some(
            Diagnostic::error(stray, format!("{} cannot be in a block", a_statement(text)))
                .label("not a statement of a block")
                .help(format!("{BLOCK_STATEMENTS}; its inputs are its arguments")),
        );
    }
    // A statement that starts right and goes wrong further on (before a
    // doc comment, where pest gives up at its start).
    if stray.start == pos && (body.keywords().contains(&text) || text == "network") {
        return None;
    }
    // `M =` at the end of its line: the next line's `N = ...` was read as
    // its value, up to the `=`.
    if let Some(d) = value_swallowed(source, stray, before, in_block) {
        return Some(d);
    }
    // `y == x`
    if word && source[stray.end..].trim_start().starts_with("==") {
        let eq = then?;
        return Some(
            Diagnostic::error(
                Span::new(eq.start, eq.start + 2),
                "expected `=`, found `==`",
            )
            .label("a binding has one `=`")
            .help("there are no comparisons: bind a value with `name = ...`"),
        );
    }
    let reserved = KEYWORDS.contains(&text) || matches!(text, "block" | "return");
    if word && starts_line && !reserved {
        if let Some(keyword) = meant_keyword(text, body.keywords()) {
            return Some(unknown_keyword(stray, text, keyword));
        }
    }
    // `input x: [5] in` and the end of the line: the range is not finished.
    if text == "in" && read_as_name {
        if let Some((_, Rule::input_decl | Rule::target_decl, _)) = last {
            let at = then.unwrap_or(Span::new(pos, pos));
            return Some(
                Diagnostic::error(at, format!("expected a number after `in`, found {found}"))
                    .label("expected a number")
                    .also(stray, "a range must follow this `in`")
                    .help("a range of indices is written `in 0..N`, as in `in 0..27`"),
            );
        }
    }
    if text == ";" {
        return Some(
            Diagnostic::error(stray, "unexpected `;`")
                .label("no statement before it")
                .help("a `;` may end a statement, once; it is never needed"),
        );
    }
    let shown = format!("`{text}`");
    if let (Some((span, rule, name)), false) = (&last, starts_line) {
        let name = name.as_deref().unwrap_or("");
        let statement = match rule {
            Rule::binding => format!("the binding of `{name}`"),
            Rule::output_decl => format!("the output `{name}`"),
            Rule::input_decl | Rule::target_decl | Rule::param_decl => {
                format!("the declaration of `{name}`")
            }
            Rule::loss_decl => "the `loss` statement".to_string(),
            Rule::train_decl => "the `train` statement".to_string(),
            Rule::dtype_decl => "the `dtype` statement".to_string(),
            Rule::return_decl => "the `return` statement".to_string(),
            _ => "a statement".to_string(),
        };
        return Some(
            Diagnostic::error(
                stray,
                format!("unexpected {shown} after the end of {statement}"),
            )
            .label("not part of the statement")
            .also(*span, "a complete statement")
            .help(STRAY),
        );
    }
    if let Some((span, Rule::return_decl, _)) = last {
        return Some(
            Diagnostic::error(
                stray,
                format!("expected `}}` after `return`, found {shown}"),
            )
            .label("after the `return` statement")
            .also(span, "the block ends with this")
            .help("`return` is the last statement of a block: move it after the others"),
        );
    }
    if read_as_name {
        let help = match (then_text, in_block) {
            (":", false) => format!("to declare `{text}`, start with `input`, `target` or `param`: `param {text}: [...]`"),
            (":", true) => format!("to declare `{text}`, start with `param`: `param {text}: [...]`"),
            _ => body.help().to_string(),
        };
        let at = then.unwrap_or(Span::new(pos, pos));
        return Some(
            Diagnostic::error(at, format!("expected `=` after `{text}`, found {found}"))
                .label("expected `=`")
                .also(stray, "not a keyword, so this starts a binding")
                .help(help),
        );
    }
    let label = if then_text == "=" && text.starts_with(|c: char| c.is_ascii_digit()) {
        "a name starts with a letter or `_`"
    } else {
        "not the start of a statement"
    };
    Some(
        Diagnostic::error(stray, format!("expected a statement, found {shown}"))
            .label(label)
            .help(body.help()),
    )
}

/// The error where a statement that starts at `pos` is cut short by a doc
/// comment at `furthest` (`param b` and, on the next line, `/// ...`): pest
/// gives up at the statement's start.
fn doc_inside_statement(source: &str, pos: usize, furthest: usize) -> Option<Diagnostic> {
    // pest's furthest attempt is a few bytes into the `///`.
    let at = (0..=3)
        .filter_map(|back| furthest.checked_sub(back))
        .find(|&at| {
            source.get(at..).is_some_and(|r| r.starts_with("///")) && !source[..at].ends_with('/')
        })?;
    let (found, doc) = token_at(source, at);
    if at <= pos || found != "a doc comment" {
        return None;
    }
    let start = token_after(source, pos)?;
    Some(
        Diagnostic::error(doc, "a doc comment inside an unfinished statement")
            .label("the statement before it is not finished")
            .also(start, "the unfinished statement")
            .help("finish the statement first: a `///` comment documents the statement after it"),
    )
}

/// The error at the `=` of `M =` with nothing after it on its line: the
/// next line's binding `N = ...` was read as `M`'s value, up to its `=`.
fn value_swallowed(
    source: &str,
    stray: Span,
    name: Option<Span>,
    in_block: bool,
) -> Option<Diagnostic> {
    let name = name.filter(|n| is_word(&source[n.range()]))?;
    let name_text = &source[name.range()];
    // In a block, `return` is a name in an expression: `h =` and then
    // `return tanh(h)` reads as `h = return`, up to `tanh`.
    let returns = in_block && name_text == "return";
    let binds = &source[stray.range()] == "=" && !source[stray.end..].starts_with('=');
    if !returns && !binds {
        return None;
    }
    let [before, prev] = tokens_before(source, name.start);
    let prev = prev.filter(|p| source[p.end..name.start].contains('\n'))?;
    let prev_text = &source[prev.range()];
    let before_text = before.map_or("", |b| &source[b.range()]);
    let (what, help) = value_after(prev_text, before_text)?;
    let next = if returns {
        "the block's `return`".to_string()
    } else {
        format!("the binding `{name_text} = ...`")
    };
    let d = Diagnostic::error(
        name,
        format!("expected {what} after `{prev_text}`, found {next}"),
    )
    .label("the next statement")
    .also(prev, format!("{what} must follow this `{prev_text}`"));
    Some(match help {
        Some(h) => d.help(h),
        None => d,
    })
}

/// The error where a statement stops short: nothing, or not what it needs,
/// after `=`, an operator or a keyword (`h =` before `}`, `network {`,
/// `dtype` at the end). Keywords found there are [`keyword_error`]'s.
fn unfinished_error(
    source: &str,
    pos: usize,
    found: &str,
    found_span: Span,
    expected: &[&str],
) -> Option<Diagnostic> {
    let wanted = |what: &str| expected.contains(&what);
    let [before, prev] = tokens_before(source, pos);
    let mut prev = prev?;
    if &source[prev.range()] == "." && source[..prev.start].ends_with('.') {
        prev.start -= 1; // `0..`: the tokens are characters
    }
    let prev_text = &source[prev.range()];
    // `x ** 2`
    if found == "`*`" && prev_text == "*" && prev.end == pos {
        return Some(
            Diagnostic::error(
                Span::new(prev.start, found_span.end),
                "`**` is not an operator",
            )
            .label("no power operator")
            .help("for a square, multiply: `x * x`"),
        );
    }
    let before_text = before.map_or("", |b| &source[b.range()]);
    let (what, help) = match prev_text {
        "network" | "block" | "input" | "target" | "param" | "output" if wanted("a name") => {
            ("a name", None)
        }
        "dtype" if wanted("a name") => value_after("dtype", "")?,
        "train" | "=" | "+" | "-" | "*" | "/" | "@" | "(" | "," | "return"
            if wanted("an expression") =>
        {
            value_after(prev_text, before_text)?
        }
        "in" | ".." if wanted("a number") => ("a number", None),
        // `network Mlp` and the end of the line.
        _ if wanted("`{`") && before.is_some_and(|b| &source[b.range()] == "network") => {
            ("`{`", None)
        }
        "loss" if wanted("`=`") => ("`=`", Some("write `loss = ...`, as in `loss = sse(y, t)`")),
        _ => return None,
    };
    let help = match help {
        None if what == "a name"
            && found.starts_with("`")
            && found[1..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Some("a name starts with a letter or `_`")
        }
        other => other,
    };
    let mut d = Diagnostic::error(
        found_span,
        format!("expected {what} after `{prev_text}`, found {found}"),
    )
    .label(format!("expected {what}"));
    if source[prev.end..found_span.start.max(prev.end)].contains('\n') {
        d = d.also(prev, format!("{what} must follow this `{prev_text}`"));
    }
    Some(match help {
        Some(h) => d.help(h),
        None => d,
    })
}

/// What must follow `prev` (after `before`) where a value goes, and how to
/// write it.
fn value_after(prev: &str, before: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match prev {
        "dtype" => ("a dtype", Some("write `dtype f32` or `dtype f64`")),
        "train" => ("an optimizer", Some(MISSING_OPTIMIZER)),
        // `param W: [2, 2] =`: only a parameter's initializer follows `] =`.
        "=" if before == "]" => ("an initializer", Some(MISSING_INITIALIZER)),
        "=" | "+" | "-" | "*" | "/" | "@" | "(" | "," | "return" => ("an expression", None),
        _ => return None,
    })
}

const MISSING_INITIALIZER: &str =
    "write one, as in `= normal(0, 0.1)`, or leave out the `=` for the default initializer";
const MISSING_OPTIMIZER: &str =
    "write one, as in `train sgd(lr = 0.1)`, or leave out `train` for the default optimizer";

/// "`param` is a keyword and cannot name a value", in the words of `check`.
fn cannot_name(span: Span, keyword: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("`{keyword}` is a keyword and cannot name {what}"),
    )
    .label("choose another name")
}

/// The spans of the two tokens (words, numbers, symbols) that end at or
/// before `pos`, past whitespace and comments, the nearer last.
fn tokens_before(source: &str, pos: usize) -> [Option<Span>; 2] {
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
fn token_after(source: &str, from: usize) -> Option<Span> {
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

fn error_position(error: &pest::error::Error<Rule>) -> usize {
    match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

/// What stands at `pos`: a word, a number, one symbol, or the end.
fn token_at(source: &str, pos: usize) -> (String, Span) {
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
fn is_punctuation(token: &str) -> bool {
    matches!(
        token,
        ":" | "=" | "," | ";" | "(" | ")" | "[" | "]" | "{" | "}" | ".."
    )
}

fn describe(rule: Rule) -> Option<&'static str> {
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
