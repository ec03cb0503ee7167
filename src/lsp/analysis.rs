//! What the server knows of one version of a document: its diagnostics (the
//! same as `denpa check`), its names (where each is declared and used, read
//! off the parser's AST), and for each network that checks its `Net`, from
//! which shapes, parameter counts and the derived gradients come.
//!
//! A file that does not parse still has names: the statement at each syntax
//! error is blanked out and the rest parsed again (by the same parser), so
//! that one half-written line does not hide the rest of the file.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use super::derivation::{self, Derivation};
use crate::check::{self, Net};
use crate::diagnostics::{Diagnostics, Span};
use crate::syntax::ast::{self, ExprKind, Exprs, ItemKind};

/// How many syntax errors are blanked out before giving up on recovery.
const MAX_RECOVERY: usize = 32;

/// What a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `network Name { … }`
    Network,
    /// `block name(…) { … }`
    Block,
    /// An argument of a block.
    BlockArgument,
    /// `input x: …`
    Input,
    /// `target t: …`
    Target,
    /// `param W: …`
    Param,
    /// A parameter a layer declares (`h_w` of `h = dense(x, 50)`).
    LayerParam,
    /// `name = …`
    Binding,
    /// `output name = …`
    Output,
}

impl Kind {
    /// The word hovers and symbols use.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Network => "network",
            Kind::Block => "block",
            Kind::BlockArgument => "block argument",
            Kind::Input => "input",
            Kind::Target => "target",
            Kind::Param => "param",
            Kind::LayerParam => "param",
            Kind::Binding => "binding",
            Kind::Output => "output",
        }
    }
}

/// A declared name.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// The name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Where the name is written (for a layer's parameter: the layer's call).
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    /// The network or block it belongs to (its index in `symbols`), none for
    /// networks and blocks.
    pub container: Option<usize>,
    /// The `///` lines before it.
    pub docs: Vec<String>,
    /// The shape as written (`[784, 50]`, `[16] in 0..27`), if written.
    pub written: Option<String>,
}

/// What a name written somewhere stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A declared name (index into `symbols`).
    Symbol(usize),
    /// A built-in function, initializer or optimizer.
    Builtin(String),
    /// A keyword argument of a call (`axis` of `sum`).
    KeywordArgument {
        /// The function called.
        function: String,
        /// The argument's name.
        name: String,
    },
}

/// One version of a document, analysed.
#[derive(Debug)]
pub struct Analysis {
    /// The text.
    pub text: String,
    /// `denpa check`'s diagnostics.
    pub diagnostics: Diagnostics,
    /// The file as parsed (after recovery from syntax errors).
    pub file: ast::File,
    /// Whether recovery blanked anything out.
    pub recovered: bool,
    /// Every declared name.
    pub symbols: Vec<Symbol>,
    /// Every use of a name, and every declaration's own name, in order.
    pub occurrences: Vec<(Span, Target)>,
    /// The checked network of each network symbol that checks on its own.
    pub nets: BTreeMap<usize, Net>,
    /// Each checked network's derivation, made at its first hover.
    derivations: BTreeMap<usize, OnceCell<Derivation>>,
}

impl Analysis {
    /// Analyses a text.
    pub fn new(text: &str) -> Analysis {
        let diagnostics = match crate::check_source(text) {
            Ok(d) | Err(d) => d,
        };
        let (file, recovered) = recover(text);
        let mut analysis = Analysis {
            text: text.to_string(),
            diagnostics,
            file,
            recovered,
            symbols: Vec::new(),
            occurrences: Vec::new(),
            nets: BTreeMap::new(),
            derivations: BTreeMap::new(),
        };
        analysis.index();
        analysis.occurrences.sort_by_key(|(s, _)| (s.start, s.end));
        analysis
    }

    /// The name at a byte offset (a name ending there counts, as editors
    /// put the cursor after a word; a name starting there comes first).
    pub fn at(&self, offset: usize) -> Option<&(Span, Target)> {
        self.occurrences
            .iter()
            .filter(|(s, _)| s.start <= offset && offset <= s.end)
            .min_by_key(|(s, _)| (s.start != offset, s.end - s.start))
    }

    /// Every span where symbol `id` is written, its declaration first.
    pub fn references(&self, id: usize) -> Vec<Span> {
        let mut spans = vec![self.symbols[id].name_span];
        spans.extend(
            self.occurrences
                .iter()
                .filter(|(s, t)| *t == Target::Symbol(id) && *s != self.symbols[id].name_span)
                .map(|(s, _)| *s),
        );
        spans
    }

    /// The innermost network or block whose text holds `offset`.
    pub fn container_at(&self, offset: usize) -> Option<usize> {
        self.symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, Kind::Network | Kind::Block))
            .find(|(_, s)| s.span.start <= offset && offset <= s.span.end)
            .map(|(i, _)| i)
    }

    /// The checked network a symbol belongs to.
    pub fn net_of(&self, id: usize) -> Option<&Net> {
        let owner = self.symbols[id].container.unwrap_or(id);
        self.nets.get(&owner)
    }

    /// The derivation of the checked network a symbol belongs to, derived
    /// once per version of the document.
    pub fn derivation_of(&self, id: usize) -> Option<&Derivation> {
        let owner = self.symbols[id].container.unwrap_or(id);
        let net = self.nets.get(&owner)?;
        let cell = self.derivations.get(&owner)?;
        Some(cell.get_or_init(|| derivation::of(net)))
    }

    fn push(&mut self, symbol: Symbol) -> usize {
        // A layer's parameter is named at its call, which holds other names.
        if symbol.kind != Kind::LayerParam {
            self.occurrences
                .push((symbol.name_span, Target::Symbol(self.symbols.len())));
        }
        self.symbols.push(symbol);
        self.symbols.len() - 1
    }

    fn index(&mut self) {
        let file = std::mem::take(&mut self.file);
        let blocks: BTreeMap<String, usize> = file
            .blocks
            .iter()
            .map(|b| {
                let id = self.push(Symbol {
                    name: b.name.name.clone(),
                    kind: Kind::Block,
                    name_span: b.name.span,
                    span: b.span,
                    container: None,
                    docs: b.docs.clone(),
                    written: None,
                });
                (b.name.name.clone(), id)
            })
            .collect();
        for b in &file.blocks {
            let block = blocks[&b.name.name];
            let mut scope = BTreeMap::new();
            for arg in &b.params {
                let id = self.push(Symbol {
                    name: arg.name.clone(),
                    kind: Kind::BlockArgument,
                    name_span: arg.span,
                    span: arg.span,
                    container: Some(block),
                    docs: Vec::new(),
                    written: None,
                });
                scope.insert(arg.name.clone(), id);
            }
            self.items(&b.items, block, &mut scope);
            self.uses(&b.exprs, &b.items, &scope, &blocks);
        }
        for n in &file.networks {
            let network = self.push(Symbol {
                name: n.name.name.clone(),
                kind: Kind::Network,
                name_span: n.name.span,
                span: n.span,
                container: None,
                docs: n.docs.clone(),
                written: None,
            });
            let mut scope = BTreeMap::new();
            self.items(&n.items, network, &mut scope);
            // Each network checked on its own, with the file's blocks: one
            // network's errors do not hide another's shapes.
            let alone = ast::File {
                networks: vec![n.clone()],
                blocks: file.blocks.clone(),
                broken_blocks: file.broken_blocks.clone(),
            };
            if let Ok((mut nets, _)) = check::check(&alone) {
                let net = nets.remove(0);
                for p in &net.params {
                    if !scope.contains_key(&p.name) {
                        let id = self.push(Symbol {
                            name: p.name.clone(),
                            kind: Kind::LayerParam,
                            name_span: p.name_span,
                            span: p.span,
                            container: Some(network),
                            docs: p.docs.clone(),
                            written: None,
                        });
                        scope.insert(p.name.clone(), id);
                    }
                }
                self.nets.insert(network, net);
                self.derivations.insert(network, OnceCell::new());
            }
            self.uses(&n.exprs, &n.items, &scope, &blocks);
        }
        self.file = file;
    }

    /// The declarations of a body.
    fn items(
        &mut self,
        items: &[ast::Item],
        container: usize,
        scope: &mut BTreeMap<String, usize>,
    ) {
        for item in items {
            let shape_text = |shape: &ast::Shape, range: &Option<ast::Range>| {
                let end = range.as_ref().map_or(shape.span.end, |r| r.span.end);
                self.text[shape.span.start..end].to_string()
            };
            let (name, kind, written) = match &item.kind {
                ItemKind::Input { name, shape, range } => {
                    (name, Kind::Input, Some(shape_text(shape, range)))
                }
                ItemKind::Target { name, shape, range } => {
                    (name, Kind::Target, Some(shape_text(shape, range)))
                }
                ItemKind::Param { name, shape, .. } => {
                    (name, Kind::Param, Some(shape_text(shape, &None)))
                }
                ItemKind::Binding { name, output, .. } => {
                    let kind = if *output { Kind::Output } else { Kind::Binding };
                    (name, kind, None)
                }
                ItemKind::Loss { .. } | ItemKind::Train { .. } | ItemKind::Dtype { .. } => continue,
            };
            let id = self.push(Symbol {
                name: name.name.clone(),
                kind,
                name_span: name.span,
                span: item.span,
                container: Some(container),
                docs: item.docs.clone(),
                written,
            });
            scope.entry(name.name.clone()).or_insert(id);
        }
    }

    /// Every name an expression or a shape of a body uses.
    fn uses(
        &mut self,
        exprs: &Exprs,
        items: &[ast::Item],
        scope: &BTreeMap<String, usize>,
        blocks: &BTreeMap<String, usize>,
    ) {
        let mut found = Vec::new();
        for item in items {
            let shape = match &item.kind {
                ItemKind::Input { shape, .. }
                | ItemKind::Target { shape, .. }
                | ItemKind::Param { shape, .. } => shape,
                _ => continue,
            };
            for (_, ident) in &shape.names {
                if let Some(&id) = scope.get(&ident.name) {
                    found.push((ident.span, Target::Symbol(id)));
                }
            }
        }
        for (_, expr) in exprs.iter() {
            match &expr.kind {
                ExprKind::Name(ident) => {
                    if let Some(&id) = scope.get(&ident.name) {
                        found.push((ident.span, Target::Symbol(id)));
                    } else if is_known_function(&ident.name) {
                        // `zeros`, `glorot`: initializers written without `()`.
                        found.push((ident.span, Target::Builtin(ident.name.clone())));
                    }
                }
                ExprKind::Call { func, args } => {
                    if let Some(&id) = blocks.get(&func.name) {
                        found.push((func.span, Target::Symbol(id)));
                    } else if is_known_function(&func.name) {
                        found.push((func.span, Target::Builtin(func.name.clone())));
                    }
                    for arg in args {
                        if let Some(name) = &arg.name {
                            found.push((
                                name.span,
                                Target::KeywordArgument {
                                    function: func.name.clone(),
                                    name: name.name.clone(),
                                },
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        self.occurrences.extend(found);
    }
}

/// Whether a name is a built-in function, an initializer or an optimizer.
pub fn is_known_function(name: &str) -> bool {
    check::callable().any(|n| n == name)
        || check::INITIALIZERS.iter().any(|(n, _)| *n == name)
        || check::OPTIMIZERS.iter().any(|(n, _)| *n == name)
}

/// The file parsed, and whether syntax errors were blanked out to get it.
///
/// At each syntax error: an unclosed `{` at the end (the usual state of a
/// file being typed) is closed; a statement that stopped at the end of its
/// line (`y = x +`, then the next statement) is blanked out from its line
/// to the error; any other error's line is blanked out. Offsets stay true.
fn recover(text: &str) -> (ast::File, bool) {
    let mut text = text.to_string();
    for round in 0..MAX_RECOVERY {
        let (file, errors) = crate::syntax::parse_recovering(&text);
        let Some(error) = errors.iter().find(|d| d.is_error()) else {
            return (file, round > 0);
        };
        if error.message == "unclosed `{`" {
            text.push_str("\n}");
            continue;
        }
        let at = error.primary.span.start.min(text.len());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let first_on_line = text[line_start..at].trim().is_empty();
        let before = text[..line_start].trim_end();
        let (start, end) = if first_on_line && !before.is_empty() {
            // The statement before stopped short: blank it, keep this line.
            let from = before.rfind('\n').map_or(0, |i| i + 1);
            (from, before.len())
        } else {
            (
                line_start,
                text[at..].find('\n').map_or(text.len(), |i| at + i),
            )
        };
        if text[start..end].trim().is_empty() {
            return (file, round > 0);
        }
        let blank: String = text[start..end]
            .chars()
            .map(|c| {
                if c == '\n' {
                    "\n".to_string()
                } else {
                    " ".repeat(c.len_utf8())
                }
            })
            .collect();
        text.replace_range(start..end, &blank);
    }
    (crate::syntax::parse_recovering(&text).0, true)
}
