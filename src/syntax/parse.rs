//! Source text → [`ast::File`], by the pest grammar in `grammar/nn.pest`.
//!
//! After this stage every expression is in its network's arena with operator
//! precedence applied, numbers have values, and doc comments are attached to
//! what they document. Names are not resolved yet.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::delimiters;
use super::errors::syntax_error;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/nn.pest"]
pub(super) struct NnParser;

/// How deeply parentheses, calls and arrays may nest. pest guards its own
/// recursion; this keeps the conversion below well inside any thread's stack.
pub const MAX_NESTING: usize = 256;

/// The grammar's `keyword` rule: words that are never names.
pub(super) const KEYWORDS: [&str; 8] = [
    "network", "input", "target", "param", "output", "loss", "train", "dtype",
];

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
                return (File::default(), error.into());
            }
            let mut parsed = File::default();
            let mut diagnostics = Diagnostics::new();
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(source.len());
                let masked = delimiters::mask(source, start, end);
                match parse_file(&masked) {
                    Ok((file, d)) => {
                        parsed.networks.extend(file.networks);
                        parsed.blocks.extend(file.blocks);
                        diagnostics.extend(d);
                    }
                    Err(e) => {
                        parsed.broken_blocks.extend(block_name(&source[start..end]));
                        diagnostics.push(e);
                    }
                }
            }
            (parsed, diagnostics)
        }
    }
}

/// The name after `block` at the start of a piece of text (after its doc
/// comments), for a block that does not parse.
fn block_name(text: &str) -> Option<String> {
    let rest = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty() || l.starts_with("//"))
        .collect::<Vec<_>>()
        .join(" ");
    let rest = rest.strip_prefix("block")?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && rest.starts_with(char::is_whitespace)).then_some(name)
}

/// A statement of a body parsed on its own, for a syntax error that needs
/// to know where the statements before it end: the statement's rule and
/// name (if it declares or binds one) and the length of its text (without
/// the whitespace after it), when `text` starts with a whole statement of a
/// network's body, or of a block's when `in_block`.
pub(super) fn statement_at(text: &str, in_block: bool) -> Option<(Rule, Option<String>, usize)> {
    let rules: &[Rule] = if in_block {
        &[Rule::block_item, Rule::return_decl]
    } else {
        &[Rule::item]
    };
    let pair = rules
        .iter()
        .find_map(|&rule| NnParser::parse(rule, text).ok())?
        .next()?;
    let statement = match pair.as_rule() {
        Rule::item | Rule::block_item => pair.into_inner().find(|p| p.as_rule() != Rule::doc)?,
        _ => pair,
    };
    let rule = statement.as_rule();
    let name = statement
        .clone()
        .into_inner()
        .find(|p| p.as_rule() == Rule::ident)
        .map(|p| p.as_str().to_string());
    let len = statement.as_str().trim_end().len() + statement.as_span().start();
    Some((rule, name, len))
}

fn parse_file(source: &str) -> Result<(File, Diagnostics), Diagnostic> {
    // Ask pest to record the literal tokens it tried too (`:`, `=`, `]`),
    // so that an error can say which one was expected.
    pest::set_error_detail(true);
    // Nesting past the limit is refused before pest recurses into it: its
    // recursion per level is deep, and a test thread's stack is small.
    if let Some(at) = delimiters::scan(source, MAX_NESTING + 1).too_deep {
        return Err(super::errors::too_deep(at));
    }
    let mut pairs = NnParser::parse(Rule::file, source).map_err(|e| syntax_error(source, e))?;
    let file = pairs.next().expect("the file rule matched");
    let mut diagnostics = Diagnostics::new();
    let mut parsed = File::default();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::network => match network(pair) {
                Ok(n) => parsed.networks.push(n),
                Err(d) => diagnostics.push(d),
            },
            Rule::block => {
                let name = pair
                    .clone()
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::ident);
                let name = name.map(|p| p.as_str().to_string());
                match block(pair) {
                    Ok(b) => parsed.blocks.push(b),
                    Err(d) => {
                        // Its calls are not checked: the error is in the block.
                        parsed.broken_blocks.extend(name);
                        diagnostics.push(d);
                    }
                }
            }
            Rule::dangling_doc => diagnostics.push(dangling(&pair)),
            _ => {}
        }
    }
    Ok((parsed, diagnostics))
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

fn block(pair: Pair<'_, Rule>) -> Result<Block, Diagnostic> {
    let whole = span(&pair);
    let mut docs = Vec::new();
    let mut name = None;
    let mut params = Vec::new();
    let mut items = Vec::new();
    let mut exprs = Exprs::default();
    let mut start = None;
    let mut ret = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::doc => docs.push(doc(p)),
            Rule::kw_block => start = Some(span(&p).start),
            Rule::ident => name = Some(ident(p)),
            Rule::block_params => params.extend(p.into_inner().map(ident)),
            Rule::block_item => items.push(item(p, &mut exprs)?),
            Rule::return_decl => {
                let begin = span(&p).start;
                let value = p.into_inner().find(|q| q.as_rule() == Rule::expr);
                let value = expr(value.expect("`return` has a value"), &mut exprs, 0)?;
                ret = Some((value, Span::new(begin, exprs.get(value).span.end)));
            }
            Rule::dangling_doc => return Err(dangling(&p)),
            _ => {}
        }
    }
    let (ret, ret_span) = ret.expect("a block ends with `return`");
    Ok(Block {
        docs,
        name: name.expect("a block has a name"),
        params,
        items,
        ret,
        ret_span,
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
            range: inner.next().map(range),
        },
        Rule::target_decl => ItemKind::Target {
            name: ident(next()),
            shape: shape(next()),
            range: inner.next().map(range),
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
        ItemKind::Input { range: Some(r), .. } | ItemKind::Target { range: Some(r), .. } => {
            r.span.end
        }
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
        calls: Vec::new(),
    })
}

/// `in 0..V`
fn range(pair: Pair<'_, Rule>) -> Range {
    let whole = span(&pair);
    let mut numbers = pair.into_inner().filter(|p| p.as_rule() == Rule::number);
    let mut next = || number(numbers.next().expect("a range has two numbers"));
    let start = next();
    let end = next();
    Range {
        start,
        end,
        span: whole,
    }
}

/// Whether a rule is one of the keywords (`kw_network`, … `kw_in`).
pub(super) fn is_keyword(rule: Rule) -> bool {
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
            | Rule::kw_block
            | Rule::kw_return
            | Rule::kw_in
    )
}

fn shape(pair: Pair<'_, Rule>) -> Shape {
    let whole = span(&pair);
    let mut dims = Vec::new();
    let mut names = Vec::new();
    for (i, p) in pair.into_inner().enumerate() {
        if p.as_rule() == Rule::ident {
            let name = ident(p);
            dims.push(Number {
                text: name.name.clone(),
                value: f64::NAN,
                span: name.span,
            });
            names.push((i, name));
        } else {
            dims.push(number(p));
        }
    }
    Shape {
        span: whole,
        dims,
        names,
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
        match p.as_rule() {
            Rule::neg => negs.push(span(&p).start),
            // `x[0]`, `E[ctx]`: binds tighter than the minus signs before it.
            Rule::index => {
                let value = id.expect("an index follows a primary");
                let end = span(&p).end;
                let mut index = Vec::new();
                for e in p.into_inner() {
                    index.push(expr(e, exprs, depth + 1)?);
                }
                let start = exprs.get(value).span.start;
                id = Some(exprs.push(Expr {
                    kind: ExprKind::Index { value, index },
                    span: Span::new(start, end),
                }));
            }
            _ => id = Some(primary(p, exprs, depth)?),
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
