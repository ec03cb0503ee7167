//! Name resolution and shape inference: AST → [`Net`].
//!
//! After this pass every name is resolved to a declaration, every expression
//! has a per-sample shape and knows whether it varies per sample (it depends
//! on an input or a target), calls are matched to built-in functions with
//! their arguments in declaration order, and initializers and the optimizer
//! are known. All errors of a network are reported together.
//!
//! One `Checker` walks a network; its work is divided by what each part
//! decides:
//!
//! - `blocks.rs`: first, every block call written out in the network, so
//!   that what follows sees a network without blocks;
//! - `items.rs`: the items in order, names declared once, the rules about
//!   the network as a whole, declared shapes;
//! - `shapes.rs`: what each expression means and its per-sample shape;
//! - `calls.rs`: calls of built-in functions (arguments to parameters) and
//!   `dense`, which declares its parameters;
//! - `builtins.rs`: the table of built-in functions and their shape rules;
//! - `numbers.rs`: compile-time numbers, initializers and optimizers;
//! - `net.rs`: the result, a [`Net`].

mod blocks;
mod builtins;
mod calls;
mod docs;
mod indices;
mod items;
mod net;
mod norm;
mod numbers;
mod sequences;
mod shapes;

use std::collections::BTreeMap;

pub use builtins::{callable, signature, Builtin, ParamSig, Signature};
pub use docs::{builtin_doc, parameters as builtin_parameters, DOCS};
pub use net::{Binding, Decl, Init, Meaning, Net, Optimizer, Param, Statistic, Symbol};
pub use numbers::{NumberSignature, INITS as INITIALIZERS, OPTIMIZERS};

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::lang::Type;
use crate::syntax::ast;

/// The largest number of elements a parameter or value may have.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Names that cannot name a value: the language's keywords and Rust's.
const RESERVED: &[&str] = &[
    "network", "input", "target", "param", "output", "loss", "train", "dtype", "as", "break",
    "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl",
    "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "batch",
];

/// Checks every network of a file. Warnings come back with the networks.
pub fn check(file: &ast::File) -> Result<(Vec<Net>, Diagnostics), Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let mut nets = Vec::new();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for network in &file.networks {
        if let Some(first) = seen.insert(&network.name.name, network.name.span) {
            diagnostics.push(
                Diagnostic::error(
                    network.name.span,
                    format!("the network `{}` is defined twice", network.name.name),
                )
                .label("second definition")
                .also(first, "first defined here"),
            );
        }
    }
    let networks = blocks::expand(file, &mut diagnostics);
    for network in &networks {
        let mut checker = Checker::new(network, &mut diagnostics);
        if let Some(net) = checker.run() {
            nets.push(net);
        }
    }
    if file.networks.is_empty() {
        diagnostics.push(
            Diagnostic::error(Span::new(0, 0), "no network in this file")
                .help("a file holds one or more `network Name { ... }`"),
        );
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok((nets, diagnostics))
    }
}

/// The state of checking one network: what is declared so far, and the
/// meaning and type of each expression.
struct Checker<'a> {
    network: &'a ast::Network,
    diagnostics: &'a mut Diagnostics,
    errors_before: usize,
    names: BTreeMap<String, (Symbol, Span)>,
    inputs: Vec<Decl>,
    targets: Vec<Decl>,
    params: Vec<Param>,
    statistics: Vec<net::Statistic>,
    bindings: Vec<Binding>,
    meanings: Vec<Meaning>,
    types: Vec<Option<Type>>,
    /// Whether each expression depends on a target.
    uses_target: Vec<bool>,
    /// The binding being checked (where `dense` declares its parameters),
    /// and the first `dense` in it.
    binding: Option<(String, Option<Span>)>,
    /// The binding's `batch_norm`, once it has one.
    batch_norm: Option<Span>,
    /// Names whose declaration was wrong (a bad shape, a second
    /// definition): uses of them report nothing more.
    poisoned: std::collections::BTreeSet<String>,
    /// Where each binding name is first bound, for "used before it is
    /// defined": made at the first unknown name.
    binding_spans: Option<BTreeMap<&'a str, Span>>,
    /// The block calls the statement being checked was written out from:
    /// every error in it names them.
    calls: &'a [ast::BlockCall],
}

impl<'a> Checker<'a> {
    fn new(network: &'a ast::Network, diagnostics: &'a mut Diagnostics) -> Self {
        let n = network.exprs.len();
        let errors_before = diagnostics.iter().filter(|d| d.is_error()).count();
        Checker {
            network,
            diagnostics,
            errors_before,
            names: BTreeMap::new(),
            inputs: Vec::new(),
            targets: Vec::new(),
            params: Vec::new(),
            statistics: Vec::new(),
            bindings: Vec::new(),
            meanings: vec![Meaning::None; n],
            types: vec![None; n],
            uses_target: vec![false; n],
            binding: None,
            batch_norm: None,
            poisoned: Default::default(),
            binding_spans: None,
            calls: &[],
        }
    }

    fn error(&mut self, mut d: Diagnostic) {
        // Innermost call first, as rustc lists macro invocations.
        for call in self.calls.iter().rev() {
            d = d.also(
                call.span,
                format!("in this call of the block `{}`", call.block),
            );
        }
        self.diagnostics.push(d);
    }

    /// Runs a rule that reports into a collection of its own (the shape
    /// rules of `builtins`), then reports what it found as [`Self::error`]
    /// does: with the block calls that led there.
    fn report<R>(&mut self, rule: impl FnOnce(&mut Diagnostics) -> R) -> R {
        let mut found = Diagnostics::new();
        let result = rule(&mut found);
        for d in found {
            self.error(d);
        }
        result
    }

    fn failed(&self) -> bool {
        self.diagnostics.iter().filter(|d| d.is_error()).count() > self.errors_before
    }
}

#[cfg(test)]
mod tests;
