//! Each request's answer, from an [`Analysis`]: diagnostics, hover, go to
//! definition, references, the outline, completion and formatting.

use lsp_types::{
    CompletionItem, CompletionItemKind, Diagnostic, DiagnosticRelatedInformation,
    DiagnosticSeverity, DocumentSymbol, Documentation, Hover, HoverContents, InsertTextFormat,
    Location, MarkupContent, MarkupKind, NumberOrString, SymbolKind, TextEdit, Url,
};

use super::analysis::{is_known_function, Analysis, Kind, Target};
use super::position::LineMap;
use crate::check::{self, Net};
use crate::diagnostics::{Severity, Span};
use crate::syntax::ast::ExprKind;

/// The words that start a statement or an item, for completion.
const KEYWORDS: &[&str] = &[
    "network", "block", "input", "target", "param", "output", "loss", "train", "dtype", "return",
];

/// The diagnostics of a document, as `denpa check` finds them. A
/// diagnostic inside a block is also shown at each call that led there.
pub fn diagnostics(analysis: &Analysis, uri: &Url, map: &LineMap) -> Vec<Diagnostic> {
    let text = &analysis.text;
    let mut out = Vec::new();
    for d in analysis.diagnostics.iter() {
        let severity = match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        };
        let mut message = d.message.clone();
        if !d.primary.message.is_empty() {
            message.push_str(&format!("\n{}", d.primary.message));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .secondary
            .iter()
            .map(|l| DiagnosticRelatedInformation {
                location: Location::new(uri.clone(), map.range(text, l.span)),
                message: l.message.clone(),
            })
            .collect();
        let at_primary = DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), map.range(text, d.primary.span)),
            message: d.message.clone(),
        };
        for call in d
            .secondary
            .iter()
            .filter(|l| l.message.starts_with("in this call of"))
        {
            out.push(Diagnostic {
                range: map.range(text, call.span),
                severity: Some(severity),
                source: Some("denpa".into()),
                message: format!("{} (in the block this call writes out)", d.message),
                related_information: Some(vec![at_primary.clone()]),
                ..Diagnostic::default()
            });
        }
        out.push(Diagnostic {
            range: map.range(text, d.primary.span),
            severity: Some(severity),
            code: None::<NumberOrString>,
            source: Some("denpa".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..Diagnostic::default()
        });
    }
    out
}

/// The hover at a byte offset, as Markdown.
pub fn hover(analysis: &Analysis, offset: usize, map: &LineMap) -> Option<Hover> {
    let (span, target) = analysis.at(offset)?;
    let text = match target {
        Target::Symbol(id) => symbol_hover(analysis, *id),
        Target::Builtin(name) => builtin_hover(name)?,
        Target::KeywordArgument { function, name } => {
            let (signature, doc) = check::builtin_doc(function)?;
            format!("```denpa\n{signature}\n```\nargument `{name}` of `{function}`: {doc}")
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(map.range(&analysis.text, *span)),
    })
}

fn builtin_hover(name: &str) -> Option<String> {
    let (signature, doc) = check::builtin_doc(name)?;
    Some(format!("```denpa\n{signature}\n```\n{doc}"))
}

/// What a hover says of a declared name.
fn symbol_hover(analysis: &Analysis, id: usize) -> String {
    let symbol = &analysis.symbols[id];
    let net = analysis.net_of(id);
    let mut head = format!("{} {}", symbol.kind.word(), symbol.name);
    let mut body = Vec::new();
    match symbol.kind {
        Kind::Network => {
            if let Some(net) = net {
                let count: usize = net
                    .params
                    .iter()
                    .map(|p| p.shape.iter().product::<usize>())
                    .sum();
                body.push(format!(
                    "{} parameters in {} tensors; {} input(s), {} output(s)",
                    thousands(count),
                    net.params.len(),
                    net.inputs.len(),
                    net.bindings.iter().filter(|b| b.output).count()
                ));
            } else {
                body.push("does not check yet: shapes and gradients appear when it does".into());
            }
        }
        Kind::Block => {
            let args: Vec<&str> = analysis
                .symbols
                .iter()
                .filter(|s| s.container == Some(id) && s.kind == Kind::BlockArgument)
                .map(|s| s.name.as_str())
                .collect();
            head = format!("block {}({})", symbol.name, args.join(", "));
            body.extend(block_calls(analysis, &symbol.name));
        }
        Kind::BlockArgument => {
            let block = symbol
                .container
                .map_or("", |b| analysis.symbols[b].name.as_str());
            body.push(format!(
                "an argument of the block `{block}`: a value, or a number a shape may use"
            ));
        }
        _ if symbol
            .container
            .is_some_and(|c| analysis.symbols[c].kind == Kind::Block) =>
        {
            if let Some(shape) = &symbol.written {
                head.push_str(&format!(": {shape}"));
            }
            body.extend(block_instances(analysis, id));
        }
        Kind::Input | Kind::Target | Kind::Param | Kind::LayerParam => {
            let shape = net
                .and_then(|n| declared_shape(n, &symbol.name))
                .or_else(|| symbol.written.clone());
            if let Some(shape) = &shape {
                head.push_str(&format!(": {shape}"));
            }
            if matches!(symbol.kind, Kind::Param | Kind::LayerParam) {
                if let Some(p) = net.and_then(|n| n.params.iter().find(|p| p.name == symbol.name)) {
                    let count: usize = p.shape.iter().product();
                    body.push(format!("{} parameters", thousands(count)));
                }
                body.extend(param_gradient(analysis, id, &symbol.name));
            }
        }
        Kind::Binding | Kind::Output => {
            if let Some((shape, call)) = net.and_then(|n| binding_shape(n, &symbol.name)) {
                head.push_str(&format!(": {shape}"));
                if let Some(block) = call {
                    body.extend(block_params(net.expect("checked"), &symbol.name, &block));
                }
            }
            if let Some(net) = net {
                body.push(binding_gradient(analysis, id, net, &symbol.name));
            }
        }
    }
    let mut text = format!("```denpa\n{head}\n```");
    if !symbol.docs.is_empty() {
        text.push_str(&format!("\n{}", symbol.docs.join("\n")));
    }
    for part in body {
        text.push_str(&format!("\n\n{part}"));
    }
    text
}

/// An input's, target's or parameter's shape as checked (`[16] in 0..27`).
fn declared_shape(net: &Net, name: &str) -> Option<String> {
    let decl = net
        .inputs
        .iter()
        .chain(&net.targets)
        .find(|d| d.name == name);
    if let Some(d) = decl {
        return Some(d.ty().text());
    }
    let p = net.params.iter().find(|p| p.name == name)?;
    Some(crate::lang::shape_text(&p.shape))
}

/// A binding's inferred shape, and the block it calls, if it does.
pub(super) fn binding_shape(net: &Net, name: &str) -> Option<(String, Option<String>)> {
    let b = net.bindings.iter().find(|b| b.name == name)?;
    let shape = net.types[b.value.0 as usize].text();
    let block = net
        .bindings
        .iter()
        .filter_map(|other| other.calls.first())
        .find(|c| c.binding == name)
        .map(|c| c.block.clone());
    Some((shape, block))
}

/// The parameters a block call declares (`b1 = transformer(x, 64)`:
/// `b1_h1_Wq`, …).
fn block_params(net: &Net, binding: &str, block: &str) -> Vec<String> {
    let prefix = format!("{binding}_");
    let declared: Vec<_> = net
        .params
        .iter()
        .filter(|p| p.name.starts_with(&prefix))
        .collect();
    if declared.is_empty() {
        return vec![format!(
            "a call of the block `{block}`, which declares no parameters"
        )];
    }
    let count: usize = declared
        .iter()
        .map(|p| p.shape.iter().product::<usize>())
        .sum();
    let params: Vec<String> = declared
        .iter()
        .map(|p| format!("- `{}`: {}", p.name, crate::lang::shape_text(&p.shape)))
        .collect();
    vec![format!(
        "a call of the block `{block}`, which declares {} parameters:\n{}",
        thousands(count),
        params.join("\n")
    )]
}

/// What a name of a block's body is in each call of the block: `c` of
/// `conv_relu_pool` is `b1_c: [16, 8, 8]` in `b1 = conv_relu_pool(img, 16)`.
fn block_instances(analysis: &Analysis, id: usize) -> Vec<String> {
    let symbol = &analysis.symbols[id];
    let Some(block) = symbol.container.map(|b| &analysis.symbols[b].name) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for net in analysis.nets.values() {
        let mut prefixes: Vec<&str> = net
            .bindings
            .iter()
            .flat_map(|b| &b.calls)
            .filter(|c| c.block == *block)
            .map(|c| c.binding.as_str())
            .collect();
        prefixes.dedup();
        for prefix in prefixes {
            let name = format!("{prefix}_{}", symbol.name);
            let shape = match net.bindings.iter().find(|b| b.name == name) {
                Some(b) => net.types[b.value.0 as usize].text(),
                None => match net.params.iter().find(|p| p.name == name) {
                    Some(p) => crate::lang::shape_text(&p.shape),
                    None => continue,
                },
            };
            lines.push(format!("- `{name}` in `{}`: {shape}", net.name));
        }
    }
    if lines.is_empty() {
        return vec!["in a block: its shape is known at each call".into()];
    }
    vec![format!("in each call of the block:\n{}", lines.join("\n"))]
}

/// The calls of a block in the file's checked networks.
fn block_calls(analysis: &Analysis, block: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for net in analysis.nets.values() {
        for b in &net.bindings {
            if let Some(c) = b
                .calls
                .first()
                .filter(|c| c.block == block && c.binding == b.name)
            {
                let shape = net.types[b.value.0 as usize].shape_text();
                calls.push(format!("- `{}` in `{}`: {shape}", c.binding, net.name));
            }
        }
    }
    if calls.is_empty() {
        return Vec::new();
    }
    vec![format!("called as:\n{}", calls.join("\n"))]
}

/// A parameter's chain rule and the shared products it uses.
fn param_gradient(analysis: &Analysis, id: usize, name: &str) -> Vec<String> {
    let Some(derivation) = analysis.derivation_of(id) else {
        return Vec::new();
    };
    let Some(line) = derivation.param(name) else {
        return vec![format!(
            "`{name}` gets no gradient: the loss does not depend on it"
        )];
    };
    let last = line.rsplit(" = ").next().unwrap_or(line);
    let mut text = format!("derived gradient:\n```text\n{line}\n");
    let shared = derivation.named_in(last);
    for s in &shared {
        text.push_str(&format!("{}   used by {}\n", s.equation, s.used_by));
    }
    text.push_str("```");
    if !shared.is_empty() {
        let letters: Vec<&str> = shared.iter().map(|s| s.letter.as_str()).collect();
        text.push_str(&format!(
            "\nshared products: {} (computed once, used by several gradients)",
            letters.join(", ")
        ));
    }
    vec![text]
}

/// A binding's δ: a shared product, or one that a single gradient uses. A
/// block call's value is the block's returned value (`b1_o` of `b1 =
/// transformer(…)` when the block returns `o`).
fn binding_gradient(analysis: &Analysis, id: usize, net: &Net, name: &str) -> String {
    let Some(derivation) = analysis.derivation_of(id) else {
        return String::new();
    };
    let returned = binding_shape(net, name)
        .and_then(|(_, block)| block)
        .and_then(|block| analysis.file.blocks.iter().find(|b| b.name.name == block))
        .and_then(|b| match &b.exprs.get(b.ret).kind {
            ExprKind::Name(i) => Some(format!("{name}_{}", i.name)),
            _ => None,
        });
    let found = derivation
        .of_binding(name)
        .or_else(|| returned.and_then(|r| derivation.of_binding(&r)));
    match found {
        Some(s) => format!(
            "derived gradient:\n```text\n{}\n```\nthe shared product {}: computed once, used by {}",
            s.equation, s.letter, s.used_by
        ),
        None => format!(
            "∂ℓ/∂{name} is not a shared product: no more than one gradient uses it, so it is computed inside that gradient's chain rule"
        ),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A declaration's kind and shape, checked where the network checks
/// (`binding [16, 64]`, `input [16] in 0..27`), else as written.
fn detail(analysis: &Analysis, id: usize) -> String {
    let s = &analysis.symbols[id];
    let checked = analysis.net_of(id).and_then(|net| match s.kind {
        Kind::Binding | Kind::Output => binding_shape(net, &s.name).map(|(shape, _)| shape),
        Kind::Input | Kind::Target | Kind::Param | Kind::LayerParam => declared_shape(net, &s.name),
        _ => None,
    });
    match checked.or_else(|| s.written.clone()) {
        Some(shape) => format!("{} {shape}", s.kind.word()),
        None => s.kind.word().to_string(),
    }
}

/// Where the name at an offset is declared.
pub fn definition(analysis: &Analysis, offset: usize) -> Option<Span> {
    match analysis.at(offset)? {
        (_, Target::Symbol(id)) => Some(analysis.symbols[*id].name_span),
        _ => None,
    }
}

/// Every place the name at an offset is written.
pub fn references(analysis: &Analysis, offset: usize, declaration: bool) -> Vec<Span> {
    let Some((_, Target::Symbol(id))) = analysis.at(offset) else {
        return Vec::new();
    };
    let mut spans = analysis.references(*id);
    if !declaration {
        spans.remove(0);
    }
    spans
}

/// The outline: networks and blocks, each with its declarations.
pub fn symbols(analysis: &Analysis, map: &LineMap) -> Vec<DocumentSymbol> {
    let text = &analysis.text;
    let symbol = |id: usize, children: Option<Vec<DocumentSymbol>>| {
        let s = &analysis.symbols[id];
        let kind = match s.kind {
            Kind::Network => SymbolKind::CLASS,
            Kind::Block => SymbolKind::FUNCTION,
            Kind::BlockArgument => SymbolKind::VARIABLE,
            Kind::Input | Kind::Target => SymbolKind::FIELD,
            Kind::Param | Kind::LayerParam => SymbolKind::PROPERTY,
            Kind::Binding => SymbolKind::VARIABLE,
            Kind::Output => SymbolKind::EVENT,
        };
        let detail = match s.kind {
            Kind::Network | Kind::Block => None,
            _ => Some(detail(analysis, id)),
        };
        // A declaration's range holds its name (a layer's parameter is
        // named at its call, inside the binding's statement).
        let span = s.span.to(s.name_span);
        #[allow(deprecated)] // `deprecated` is a field of the protocol's type
        DocumentSymbol {
            name: s.name.clone(),
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: map.range(text, span),
            selection_range: map.range(text, s.name_span),
            children,
        }
    };
    let mut out = Vec::new();
    for (id, s) in analysis.symbols.iter().enumerate() {
        if !matches!(s.kind, Kind::Network | Kind::Block) {
            continue;
        }
        let mut children: Vec<DocumentSymbol> = analysis
            .symbols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.container == Some(id))
            // A block's parameters, declared in the block's text, are the
            // call's: the outline nests only what the network holds.
            .filter(|(_, c)| s.span.start <= c.name_span.start && c.name_span.end <= s.span.end)
            .map(|(c, _)| symbol(c, None))
            .collect();
        children.sort_by_key(|s| (s.range.start.line, s.range.start.character));
        out.push(symbol(id, Some(children)));
    }
    out.sort_by_key(|s| (s.range.start.line, s.range.start.character));
    out
}

/// Completion at an offset: keyword arguments inside a call, names in scope,
/// built-ins, initializers, optimizers and keywords.
pub fn completion(analysis: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let text = &analysis.text;
    let offset = offset.min(text.len());
    let mut items = Vec::new();
    if let Some(function) = open_call(text, offset) {
        if let Some((signature, _)) = check::builtin_doc(&function) {
            for name in check::builtin_parameters(signature) {
                items.push(CompletionItem {
                    label: format!("{name} ="),
                    kind: Some(CompletionItemKind::FIELD),
                    detail: Some(signature.to_string()),
                    insert_text: Some(format!("{name} = ")),
                    sort_text: Some(format!("0{name}")),
                    ..CompletionItem::default()
                });
            }
        }
    }
    if let Some(container) = analysis.container_at(offset) {
        let in_scope = analysis.symbols.iter().enumerate();
        for (id, s) in in_scope.filter(|(_, s)| s.container == Some(container)) {
            items.push(CompletionItem {
                label: s.name.clone(),
                kind: Some(CompletionItemKind::VARIABLE),
                detail: Some(detail(analysis, id)),
                sort_text: Some(format!("1{}", s.name)),
                ..CompletionItem::default()
            });
        }
    }
    for s in analysis.symbols.iter().filter(|s| s.kind == Kind::Block) {
        items.push(CompletionItem {
            label: s.name.clone(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some("block".into()),
            sort_text: Some(format!("2{}", s.name)),
            ..CompletionItem::default()
        });
    }
    for &(name, signature, doc) in check::DOCS {
        let (kind, insert) = match signature.split_once('(') {
            Some(_) => (CompletionItemKind::FUNCTION, format!("{name}($0)")),
            None => (CompletionItemKind::CONSTANT, name.to_string()),
        };
        items.push(CompletionItem {
            label: name.to_string(),
            kind: Some(kind),
            detail: Some(signature.to_string()),
            documentation: Some(Documentation::String(doc.to_string())),
            insert_text: Some(insert),
            insert_text_format: Some(InsertTextFormat::SNIPPET),
            sort_text: Some(format!("3{name}")),
            ..CompletionItem::default()
        });
    }
    for &k in KEYWORDS {
        items.push(CompletionItem {
            label: k.to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            sort_text: Some(format!("4{k}")),
            ..CompletionItem::default()
        });
    }
    for dtype in ["f32", "f64"] {
        items.push(CompletionItem {
            label: dtype.to_string(),
            kind: Some(CompletionItemKind::TYPE_PARAMETER),
            detail: Some("dtype".into()),
            sort_text: Some(format!("5{dtype}")),
            ..CompletionItem::default()
        });
    }
    items
}

/// The function whose argument list holds `offset`: the name before the
/// innermost `(` not yet closed on the way back (a half-written call does
/// not parse, so this reads the text).
fn open_call(text: &str, offset: usize) -> Option<String> {
    let before = &text[..offset];
    let mut depth = 0usize;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '[' if depth > 0 => depth -= 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let name: String = before[..i]
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return is_known_function(&name).then_some(name);
            }
            '{' | '}' | '[' => return None,
            _ => {}
        }
    }
    None
}

/// The whole document in the canonical layout, or nothing when it does not
/// parse (its diagnostics say why).
pub fn formatting(analysis: &Analysis, map: &LineMap) -> Option<Vec<TextEdit>> {
    let text = &analysis.text;
    let formatted = crate::syntax::format(text).ok()?;
    if formatted == *text {
        return Some(Vec::new());
    }
    let range = map.range(text, Span::new(0, text.len()));
    Some(vec![TextEdit::new(range, formatted)])
}
