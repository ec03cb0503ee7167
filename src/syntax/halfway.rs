//! What a syntax error says in a half-written file, where pest's own guess
//! says little (the editor shows these on every keystroke): a misspelt
//! keyword ("unknown keyword `parm`", with a did-you-mean), a stray word
//! after a complete statement (named, and pointed at), a statement cut short
//! ("expected an expression after `=`"), a character the language never
//! uses, something at the top level that is neither a network nor a block.

use super::delimiters;
use super::errors::*;
use super::parse::{statement_at, Rule, KEYWORDS};
use crate::diagnostics::{closest_of, Diagnostic, Span};

/// Which body a position is in, for what may start a statement there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
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

pub(super) const NETWORK_STATEMENTS: &str = "a statement starts with a keyword (`input`, `target`, `param`, `output`, `loss`, `train`, `dtype`) or `name =`";
pub(super) const BLOCK_STATEMENTS: &str =
    "a block's body holds `param` declarations and bindings `name = ...`, and ends with `return`";
pub(super) const FILE_ITEMS: &str =
    "a file holds networks, `network Name { ... }`, and blocks, `block name(x) { ... }`";
pub(super) const STRAY: &str = "a statement ends where its expression ends; go on with an operator (`+`, `-`, `*`, `/`, `@`), or start a new statement with a keyword or `name =`";

/// A word: a name or a keyword, not a number.
pub(super) fn is_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// "the network `Xor`": the network or block whose body the brace at
/// `brace` opens or closes.
pub(super) fn owner_of(source: &str, brace: usize) -> Option<String> {
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
pub(super) fn unknown_character(source: &str, pos: usize, found: Span) -> Option<Diagnostic> {
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
pub(super) fn top_level_error(source: &str, pos: usize) -> Option<Diagnostic> {
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
pub(super) fn a_statement(keyword: &str) -> String {
    let article = if keyword.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{keyword}` statement")
}

/// The keyword a word was most likely meant to be: a misspelt one (`parm`),
/// or one half typed (`netw`).
pub(super) fn meant_keyword(text: &str, keywords: &[&'static str]) -> Option<&'static str> {
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
pub(super) fn unknown_keyword(span: Span, text: &str, keyword: &str) -> Diagnostic {
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
pub(super) fn statement_error(source: &str, pos: usize, found: &str) -> Option<Diagnostic> {
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
pub(super) fn doc_inside_statement(
    source: &str,
    pos: usize,
    furthest: usize,
) -> Option<Diagnostic> {
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
pub(super) fn value_swallowed(
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
pub(super) fn unfinished_error(
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
pub(super) fn value_after(
    prev: &str,
    before: &str,
) -> Option<(&'static str, Option<&'static str>)> {
    Some(match prev {
        "dtype" => ("a dtype", Some("write `dtype f32` or `dtype f64`")),
        "train" => ("an optimizer", Some(MISSING_OPTIMIZER)),
        // `param W: [2, 2] =`: only a parameter's initializer follows `] =`.
        "=" if before == "]" => ("an initializer", Some(MISSING_INITIALIZER)),
        "=" | "+" | "-" | "*" | "/" | "@" | "(" | "," | "return" => ("an expression", None),
        _ => return None,
    })
}
