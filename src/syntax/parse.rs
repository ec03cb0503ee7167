//! Source text → [`ast::File`], by the pest grammar in `grammar/nn.pest`.
//!
//! After this stage every expression is in its network's arena with operator
//! precedence applied, numbers have values, and doc comments are attached to
//! what they document. Names are not resolved yet.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::delimiters;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/nn.pest"]
struct NnParser;

/// How deeply parentheses, calls and arrays may nest. pest guards its own
/// recursion; this keeps the conversion below well inside any thread's stack.
pub const MAX_NESTING: usize = 256;

/// Parses a whole `.nn` text.
pub fn parse(source: &str) -> Result<File, Diagnostics> {
    let (file, diagnostics) = parse_recovering(source);
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok(file)
    }
}

/// Parses a whole `.nn` text, going on past a syntax error: when the file
/// does not parse, each network is parsed on its own (the rest of the text
/// blanked out, so positions stay true), so that one network's typo does not
/// hide the others' errors. Returns the networks that parsed, and the errors.
pub fn parse_recovering(source: &str) -> (File, Diagnostics) {
    match parse_file(source) {
        Ok(parsed) => parsed,
        Err(error) => {
            let starts = delimiters::network_starts(source);
            if starts.len() < 2 {
                return (
                    File {
                        networks: Vec::new(),
                    },
                    error.into(),
                );
            }
            let mut networks = Vec::new();
            let mut diagnostics = Diagnostics::new();
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(source.len());
                let masked = delimiters::mask(source, start, end);
                match parse_file(&masked) {
                    Ok((file, d)) => {
                        networks.extend(file.networks);
                        diagnostics.extend(d);
                    }
                    Err(e) => diagnostics.push(e),
                }
            }
            (File { networks }, diagnostics)
        }
    }
}

fn parse_file(source: &str) -> Result<(File, Diagnostics), Diagnostic> {
    // Ask pest to record the literal tokens it tried too (`:`, `=`, `]`),
    // so that an error can say which one was expected.
    pest::set_error_detail(true);
    let mut pairs = NnParser::parse(Rule::file, source).map_err(|e| syntax_error(source, e))?;
    let file = pairs.next().expect("the file rule matched");
    let mut diagnostics = Diagnostics::new();
    let mut networks = Vec::new();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::network => match network(pair) {
                Ok(n) => networks.push(n),
                Err(d) => diagnostics.push(d),
            },
            Rule::dangling_doc => diagnostics.push(dangling(&pair)),
            _ => {}
        }
    }
    Ok((File { networks }, diagnostics))
}

fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// A doc comment with nothing after it to document.
fn dangling(pair: &Pair<'_, Rule>) -> Diagnostic {
    let s = pair.as_span();
    let text = s.as_str().trim_end();
    Diagnostic::error(Span::new(s.start(), s.start() + text.len()), "this doc comment documents nothing")
        .label("nothing follows it")
        .help("a `///` comment goes right before `network` or a declaration; use `//` for a plain comment")
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn doc(pair: Pair<'_, Rule>) -> String {
    let text = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
    let text = text.strip_suffix('\r').unwrap_or(text);
    text.strip_prefix(' ').unwrap_or(text).to_string()
}

fn number(pair: Pair<'_, Rule>) -> Number {
    let text = pair.as_str().to_string();
    let value = text
        .replace('_', "")
        .parse::<f64>()
        .unwrap_or(f64::INFINITY);
    Number {
        text,
        value,
        span: span(&pair),
    }
}

fn network(pair: Pair<'_, Rule>) -> Result<Network, Diagnostic> {
    let whole = span(&pair);
    let mut docs = Vec::new();
    let mut name = None;
    let mut items = Vec::new();
    let mut exprs = Exprs::default();
    let mut start = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::doc => docs.push(doc(p)),
            Rule::kw_network => start = Some(span(&p).start),
            Rule::ident => name = Some(ident(p)),
            Rule::item => items.push(item(p, &mut exprs)?),
            Rule::dangling_doc => return Err(dangling(&p)),
            _ => {}
        }
    }
    Ok(Network {
        docs,
        name: name.expect("a network has a name"),
        items,
        exprs,
        span: Span::new(start.unwrap_or(whole.start), whole.end),
    })
}

fn item(pair: Pair<'_, Rule>, exprs: &mut Exprs) -> Result<Item, Diagnostic> {
    let mut docs = Vec::new();
    let mut statement = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::doc => docs.push(doc(p)),
            _ => statement = Some(p),
        }
    }
    let statement = statement.expect("an item has a statement");
    let start = statement.as_span().start();
    let rule = statement.as_rule();
    let mut inner = statement.into_inner().filter(|p| !is_keyword(p.as_rule()));
    let mut next = || inner.next().expect("the grammar guarantees this part");
    let kind = match rule {
        Rule::input_decl => ItemKind::Input {
            name: ident(next()),
            shape: shape(next()),
        },
        Rule::target_decl => ItemKind::Target {
            name: ident(next()),
            shape: shape(next()),
        },
        Rule::param_decl => {
            let name = ident(next());
            let shape = shape(next());
            let init = match inner.next() {
                Some(p) => Some(expr(p, exprs, 0)?),
                None => None,
            };
            ItemKind::Param { name, shape, init }
        }
        Rule::output_decl | Rule::binding => ItemKind::Binding {
            name: ident(next()),
            value: expr(next(), exprs, 0)?,
            output: rule == Rule::output_decl,
        },
        Rule::loss_decl => ItemKind::Loss {
            value: expr(next(), exprs, 0)?,
        },
        Rule::train_decl => ItemKind::Train {
            optimizer: expr(next(), exprs, 0)?,
        },
        Rule::dtype_decl => ItemKind::Dtype { ty: ident(next()) },
        other => unreachable!("not a statement rule: {other:?}"),
    };
    // End at the last part as parsed: pest's own span may run on over the
    // whitespace it skipped while looking for more.
    let end = match &kind {
        ItemKind::Input { shape, .. } | ItemKind::Target { shape, .. } => shape.span.end,
        ItemKind::Param { init: Some(e), .. } => exprs.get(*e).span.end,
        ItemKind::Param { shape, .. } => shape.span.end,
        ItemKind::Binding { value: e, .. }
        | ItemKind::Loss { value: e }
        | ItemKind::Train { optimizer: e } => exprs.get(*e).span.end,
        ItemKind::Dtype { ty } => ty.span.end,
    };
    Ok(Item {
        docs,
        kind,
        span: Span::new(start, end),
    })
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_network
            | Rule::kw_input
            | Rule::kw_target
            | Rule::kw_param
            | Rule::kw_output
            | Rule::kw_loss
            | Rule::kw_train
            | Rule::kw_dtype
    )
}

fn shape(pair: Pair<'_, Rule>) -> Shape {
    Shape {
        span: span(&pair),
        dims: pair.into_inner().map(number).collect(),
    }
}

/// Converts an `expr` pair: operands and infix operators, combined by
/// precedence with two explicit stacks (no recursion on chain length).
fn expr(pair: Pair<'_, Rule>, exprs: &mut Exprs, depth: usize) -> Result<ExprId, Diagnostic> {
    if depth >= MAX_NESTING {
        return Err(Diagnostic::error(
            span(&pair),
            format!("expression nested more than {MAX_NESTING} levels deep"),
        )
        .label("nesting limit reached here")
        .help("give parts of the expression names with bindings (`h = ...`)"));
    }
    let mut operands: Vec<ExprId> = Vec::new();
    let mut operators: Vec<BinOp> = Vec::new();
    fn reduce(exprs: &mut Exprs, operands: &mut Vec<ExprId>, op: BinOp) {
        let rhs = operands.pop().expect("an operand on the stack");
        let lhs = operands.pop().expect("an operand on the stack");
        let span = exprs.get(lhs).span.to(exprs.get(rhs).span);
        operands.push(exprs.push(Expr {
            kind: ExprKind::Binary { op, lhs, rhs },
            span,
        }));
    }
    for p in pair.into_inner() {
        let op = match p.as_rule() {
            Rule::operand => {
                operands.push(operand(p, exprs, depth)?);
                continue;
            }
            Rule::add => BinOp::Add,
            Rule::sub => BinOp::Sub,
            Rule::mul => BinOp::Mul,
            Rule::div => BinOp::Div,
            Rule::matmul => BinOp::MatMul,
            other => unreachable!("not part of an expression: {other:?}"),
        };
        while let Some(&top) = operators.last() {
            if top.precedence() < op.precedence() {
                break;
            }
            operators.pop();
            reduce(exprs, &mut operands, top);
        }
        operators.push(op);
    }
    while let Some(op) = operators.pop() {
        reduce(exprs, &mut operands, op);
    }
    Ok(operands.pop().expect("an expression has an operand"))
}

fn operand(pair: Pair<'_, Rule>, exprs: &mut Exprs, depth: usize) -> Result<ExprId, Diagnostic> {
    let mut negs = Vec::new();
    let mut id = None;
    for p in pair.into_inner() {
        if p.as_rule() == Rule::neg {
            negs.push(span(&p).start);
        } else {
            id = Some(primary(p, exprs, depth)?);
        }
    }
    let mut id = id.expect("an operand has a primary");
    for start in negs.into_iter().rev() {
        let end = exprs.get(id).span.end;
        id = exprs.push(Expr {
            kind: ExprKind::Neg(id),
            span: Span::new(start, end),
        });
    }
    Ok(id)
}

fn primary(pair: Pair<'_, Rule>, exprs: &mut Exprs, depth: usize) -> Result<ExprId, Diagnostic> {
    let whole = span(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ExprKind::Number(number(pair)),
        Rule::ident => ExprKind::Name(ident(pair)),
        Rule::paren => {
            let inner = pair
                .into_inner()
                .next()
                .expect("a parenthesized expression");
            let id = expr(inner, exprs, depth + 1)?;
            // The parentheses belong to the expression's span.
            exprs.set_span(id, whole);
            return Ok(id);
        }
        Rule::bad_number => {
            let text = pair.as_str();
            let (message, help) = if text.starts_with('.') {
                (
                    format!("`{text}` is not a number"),
                    format!("write `0{text}`"),
                )
            } else {
                (
                    format!("`{text}` is not a number: the exponent has no digits"),
                    format!(
                        "write the exponent, as in `{}3`",
                        text.trim_end_matches(['+', '-'])
                    ),
                )
            };
            return Err(Diagnostic::error(whole, message).help(help));
        }
        Rule::array => {
            let mut items = Vec::new();
            for p in pair.into_inner() {
                items.push(expr(p, exprs, depth + 1)?);
            }
            ExprKind::Array(items)
        }
        Rule::call => {
            let mut inner = pair.into_inner();
            let func = ident(inner.next().expect("a function name"));
            let mut args = Vec::new();
            for arg in inner {
                let mut parts: Vec<_> = arg.into_inner().collect();
                let value = expr(parts.pop().expect("an argument value"), exprs, depth + 1)?;
                let name = parts.pop().map(ident);
                args.push(Arg { name, value });
            }
            ExprKind::Call { func, args }
        }
        other => unreachable!("not a primary: {other:?}"),
    };
    Ok(exprs.push(Expr { kind, span: whole }))
}

/// Turns pest's error into one sentence: what was expected, what was found.
fn syntax_error(source: &str, error: pest::error::Error<Rule>) -> Diagnostic {
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
        let at = scan.too_deep.unwrap_or_else(|| error_position(&error));
        return Diagnostic::error(
            delimiters::at(at),
            format!("expression nested more than {MAX_NESTING} levels deep"),
        )
        .label("nesting limit reached here")
        .help("give parts of the expression names with bindings (`h = ...`)");
    }
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // With error detail on, pest also knows the furthest position it reached
    // and the literal tokens it tried there (`input x [2]` stops at `[`,
    // wanting `:`), which says more than the rule that failed further back.
    let mut literals: Vec<String> = Vec::new();
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
    let open = delimiters::open_at(source, pos);
    if found == "end of input" {
        if let Some(&(o, c)) = open.last() {
            return Diagnostic::error(delimiters::at(o), format!("unclosed `{c}`"))
                .label(format!("this `{c}` is never closed"))
                .help(format!("add `{}` where it ends", delimiters::closing(c)));
        }
    }
    if let Some(d) = keyword_error(source, pos, found_span, &expected) {
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
    let first = source[pos.min(source.len())..].chars().next();
    if let Some(ch) = first.filter(|c| !c.is_ascii()) {
        return Diagnostic::error(found_span, format!("unexpected character `{ch}`"))
            .label("not allowed here")
            .help("names use ASCII letters, digits and `_`");
    }
    let expected = match expected.as_slice() {
        [] => "something else".to_string(),
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

/// The grammar's `keyword` rule: words that are never names.
pub(super) const KEYWORDS: [&str; 8] = [
    "network", "input", "target", "param", "output", "loss", "train", "dtype",
];

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
    if !KEYWORDS.contains(&text) || !whole_word || !in_name_or_value {
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
        ":" | "=" | "," | ";" | "(" | ")" | "[" | "]" | "{" | "}"
    )
}

fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of input",
        Rule::network | Rule::kw_network => "`network`",
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
        _ => return None,
    })
}
