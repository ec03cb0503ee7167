//! Blocks written out. Every call of a block — the whole right-hand side of a
//! binding — becomes the block's statements in the calling network: its
//! names prefixed by the binding's (`b1 = conv_relu_pool(img, 16)` declares
//! `b1_c`, and `conv`'s `b1_c_w`), its arguments copied where its parameters
//! are used, and its `return` value bound to the caller's name. A block called
//! inside a block nests the prefixes (`b1_inner_c_w`).
//!
//! What comes out is a version-1 network, so everything after this pass —
//! shapes, the graph, the derived backward pass, sharing — is the same as if
//! the body had been written out by hand. Each written-out statement keeps
//! the spans of the block's text and lists the calls that led to it, so that
//! an error inside a block names the block line and the call.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::syntax::ast::{
    Arg, Block, BlockCall, Expr, ExprId, ExprKind, Exprs, File, Ident, Item, ItemKind, Network,
    Number, Shape,
};

use super::builtins;
use super::numbers::INITS;

/// How deeply block calls may nest: each call is a frame of the writer.
const MOST_NESTED: usize = 64;
/// Most statements a network may have once its blocks are written out (a
/// block calling another twice, ten deep, is a thousand calls; the largest
/// network of the scale test has 20,000).
const MOST_STATEMENTS: usize = 100_000;

/// The networks of `file` with every block call written out. A network
/// whose calls are wrong is left out, its errors in `diagnostics`.
pub(super) fn expand(file: &File, diagnostics: &mut Diagnostics) -> Vec<Network> {
    let Some(blocks) = declared(file, diagnostics) else {
        // A wrong block is reported once, at its declaration, not at each call.
        return Vec::new();
    };
    let mut out = Vec::with_capacity(file.networks.len());
    for network in &file.networks {
        let calls_broken = network.exprs.iter().any(|(_, e)| {
            matches!(&e.kind, ExprKind::Call { func, .. } if file.broken_blocks.contains(&func.name))
        });
        if calls_broken {
            continue; // the block's syntax error is the one to fix
        }
        let mut errors = Diagnostics::new();
        let _ = not_inside_expressions(&network.exprs, &network.items, None, &blocks, &mut errors);
        let calls_blocks = network
            .items
            .iter()
            .any(|item| block_call(&network.exprs, item, &blocks).is_some());
        if !calls_blocks || errors.has_errors() {
            let failed = errors.has_errors();
            diagnostics.extend(errors);
            if !failed {
                out.push(network.clone());
            }
            continue;
        }
        // A fresh arena in statement order: a binding's value comes before
        // its uses, as in a network written out by hand.
        let mut writer = Writer {
            blocks: &blocks,
            exprs: Exprs::default(),
            items: Vec::with_capacity(network.items.len()),
            errors,
        };
        let none = BTreeMap::new();
        for item in &network.items {
            if let Some(call) = block_call(&network.exprs, item, &blocks) {
                if let Some(args) =
                    writer.arguments(&call, |w, id| w.copy_from(&network.exprs, id, "", &none))
                {
                    writer.call(&call, item, call.name.clone(), &args, &[]);
                }
                continue;
            }
            let copy = |w: &mut Writer<'_>, id: ExprId| w.copy_from(&network.exprs, id, "", &none);
            let kind = match &item.kind {
                ItemKind::Param { name, shape, init } => ItemKind::Param {
                    name: name.clone(),
                    shape: shape.clone(),
                    init: init.map(|i| copy(&mut writer, i)),
                },
                ItemKind::Binding {
                    name,
                    value,
                    output,
                } => ItemKind::Binding {
                    name: name.clone(),
                    value: copy(&mut writer, *value),
                    output: *output,
                },
                ItemKind::Loss { value } => ItemKind::Loss {
                    value: copy(&mut writer, *value),
                },
                ItemKind::Train { optimizer } => ItemKind::Train {
                    optimizer: copy(&mut writer, *optimizer),
                },
                other => other.clone(),
            };
            writer.items.push(Item {
                kind,
                ..item.clone()
            });
        }
        let failed = writer.errors.has_errors();
        diagnostics.extend(writer.errors);
        if !failed {
            out.push(Network {
                items: writer.items,
                exprs: writer.exprs,
                ..network.clone()
            });
        }
    }
    out
}

/// The blocks that can be called, by name, after checking each declaration
/// on its own: a name that is not a built-in, unique arguments, every name
/// it uses its own, and calls only of blocks declared before it (so writing
/// them out ends). `None` when a declaration is wrong.
fn declared<'a>(
    file: &'a File,
    diagnostics: &mut Diagnostics,
) -> Option<BTreeMap<&'a str, &'a Block>> {
    let mut blocks: BTreeMap<&str, &Block> = BTreeMap::new();
    let mut ok = true;
    for block in &file.blocks {
        let name = block.name.name.as_str();
        if builtins::signature(name).is_some() {
            diagnostics.push(
                Diagnostic::error(
                    block.name.span,
                    format!("the block `{name}` has the name of a built-in function"),
                )
                .label("choose another name"),
            );
            ok = false;
            continue;
        }
        if let Some(first) = blocks.get(name) {
            diagnostics.push(
                Diagnostic::error(
                    block.name.span,
                    format!("the block `{name}` is defined twice"),
                )
                .label("second definition")
                .also(first.name.span, "first defined here"),
            );
            ok = false;
            continue;
        }
        let mut locals: BTreeMap<String, Span> = BTreeMap::new();
        for p in &block.params {
            if let Some(first) = locals.insert(p.name.clone(), p.span) {
                diagnostics.push(
                    Diagnostic::error(
                        p.span,
                        format!("the block `{name}` has two arguments named `{}`", p.name),
                    )
                    .also(first, "first here"),
                );
                ok = false;
            }
        }
        for item in &block.items {
            let (local, value) = match &item.kind {
                ItemKind::Param {
                    name: local, shape, ..
                } => {
                    for (_, dim) in &shape.names {
                        if !block.params.iter().any(|p| p.name == dim.name) {
                            diagnostics.push(
                                Diagnostic::error(
                                    dim.span,
                                    format!(
                                        "`{}` is not an argument of the block `{name}`",
                                        dim.name
                                    ),
                                )
                                .label("a dimension is a number or an argument of the block")
                                .also(block.name.span, "in this block"),
                            );
                            ok = false;
                        }
                    }
                    (local, None)
                }
                ItemKind::Binding { name, value, .. } => (name, Some(*value)),
                _ => continue,
            };
            if let Some(p) = block.params.iter().find(|p| p.name == local.name) {
                diagnostics.push(
                    Diagnostic::error(
                        local.span,
                        format!("`{}` is an argument of the block `{name}`", local.name),
                    )
                    .label("declared again here")
                    .also(p.span, "the argument")
                    .help("choose another name for the value"),
                );
                ok = false;
            }
            locals.entry(local.name.clone()).or_insert(local.span);
            for suffix in value.map_or(Vec::new(), |v| declared_suffixes(&block.exprs, v)) {
                locals
                    .entry(format!("{}{suffix}", local.name))
                    .or_insert(local.span);
            }
        }
        for (_, expr) in block.exprs.iter() {
            match &expr.kind {
                ExprKind::Name(n)
                    if !locals.contains_key(n.name.as_str()) && !is_global(&n.name) =>
                {
                    diagnostics.push(
                        Diagnostic::error(
                            n.span,
                            format!("`{}` is not defined in the block `{name}`", n.name),
                        )
                        .label("not an argument or a name of the block")
                        .also(block.name.span, "in this block")
                        .help("a block sees only its arguments and what it declares: pass it as an argument"),
                    );
                    ok = false;
                }
                ExprKind::Call { func, .. } if func.name == name => {
                    diagnostics.push(
                        Diagnostic::error(func.span, format!("the block `{name}` calls itself"))
                            .label("a block cannot call itself")
                            .also(block.name.span, "in this block")
                            .help("write out the repetition: call the block once per layer"),
                    );
                    ok = false;
                }
                ExprKind::Call { func, .. }
                    if !blocks.contains_key(func.name.as_str())
                        && file.blocks.iter().any(|b| b.name.name == func.name) =>
                {
                    diagnostics.push(
                        Diagnostic::error(
                            func.span,
                            format!(
                                "the block `{name}` calls `{}`, which is declared after it",
                                func.name
                            ),
                        )
                        .label("declared later in the file")
                        .help("a block may call the blocks declared before it: move it up"),
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        ok &= !not_inside_expressions(
            &block.exprs,
            &block.items,
            Some(block),
            &blocks,
            diagnostics,
        );
        blocks.insert(name, block);
    }
    ok.then_some(blocks)
}

/// Whether a name means the same everywhere: a built-in function or an
/// initializer written without parentheses (`relu`, `glorot`).
fn is_global(name: &str) -> bool {
    builtins::signature(name).is_some() || INITS.iter().any(|(n, _)| *n == name)
}

/// The names a binding's value declares after the binding: `_w` and `_b`
/// for `dense` or `conv`, `_gain`, `_bias`, `_mean`, `_var` for
/// `batch_norm`.
fn declared_suffixes(exprs: &Exprs, root: ExprId) -> Vec<&'static str> {
    let first = exprs.first_id(root);
    let calls = |names: &[&str]| {
        (first.0..=root.0).any(|i| {
            matches!(&exprs.get(ExprId(i)).kind,
                ExprKind::Call { func, .. } if names.contains(&func.name.as_str()))
        })
    };
    let mut suffixes = Vec::new();
    if calls(&["dense", "conv"]) {
        suffixes.extend(["_w", "_b"]);
    }
    if calls(&["batch_norm"]) {
        suffixes.extend(["_gain", "_bias", "_mean", "_var"]);
    }
    suffixes
}

/// A statement `name = BLOCK(args)`: the block, the binding and the call.
struct Call<'b> {
    block: &'b Block,
    name: &'b Ident,
    output: bool,
    args: &'b [Arg],
    span: Span,
}

/// The block call `item` is, if it is `name = BLOCK(...)`.
fn block_call<'b>(
    exprs: &'b Exprs,
    item: &'b Item,
    blocks: &BTreeMap<&str, &'b Block>,
) -> Option<Call<'b>> {
    let ItemKind::Binding {
        name,
        value,
        output,
    } = &item.kind
    else {
        return None;
    };
    let expr = exprs.get(*value);
    match &expr.kind {
        ExprKind::Call { func, args } => Some(Call {
            block: blocks.get(func.name.as_str())?,
            name,
            output: *output,
            args,
            span: expr.span,
        }),
        _ => None,
    }
}

/// `name` with a call's prefix: `c` in `b1 = block(...)` is `b1_c`.
fn prefixed(prefix: &str, name: &Ident) -> Ident {
    Ident {
        name: format!("{prefix}{}", name.name),
        span: name.span,
    }
}

/// Reports every call of a block that is not the whole right-hand side of a
/// binding (inside an expression, as the loss, as an initializer); whether
/// there was one.
fn not_inside_expressions(
    exprs: &Exprs,
    items: &[Item],
    within: Option<&Block>,
    blocks: &BTreeMap<&str, &Block>,
    diagnostics: &mut Diagnostics,
) -> bool {
    let mut found = false;
    let mut whole = vec![false; exprs.len()];
    for item in items {
        if let ItemKind::Binding { value, .. } = &item.kind {
            whole[value.0 as usize] = true;
        }
    }
    for (id, expr) in exprs.iter() {
        if let ExprKind::Call { func, .. } = &expr.kind {
            if blocks.contains_key(func.name.as_str()) && !whole[id.0 as usize] {
                let mut d = Diagnostic::error(
                    expr.span,
                    format!("the block `{}` is called inside an expression", func.name),
                )
                .label("a block call must be the whole right-hand side of a binding")
                .help(format!(
                    "bind it first, `name = {}(...)`: its parameters are named after the binding",
                    func.name
                ));
                if let Some(block) = within {
                    d = d.also(block.name.span, "in this block");
                }
                diagnostics.push(d);
                found = true;
            }
        }
    }
    found
}

/// Writes one network's statements, block calls written out.
struct Writer<'a> {
    blocks: &'a BTreeMap<&'a str, &'a Block>,
    exprs: Exprs,
    items: Vec<Item>,
    errors: Diagnostics,
}

impl Writer<'_> {
    /// Each of the block's arguments, in its order, as the root of a subtree
    /// in the network's arena; `place` puts one argument value there.
    fn arguments(
        &mut self,
        call: &Call<'_>,
        mut place: impl FnMut(&mut Self, ExprId) -> ExprId,
    ) -> Option<Vec<ExprId>> {
        let Call {
            block, args, span, ..
        } = *call;
        let name = &block.name.name;
        let mut slots: Vec<Option<ExprId>> = vec![None; block.params.len()];
        let mut failed = false;
        let mut positional = 0;
        for arg in args {
            let index = match &arg.name {
                None => {
                    positional += 1;
                    positional - 1
                }
                Some(key) => match block.params.iter().position(|p| p.name == key.name) {
                    Some(i) => i,
                    None => {
                        self.errors.push(
                            Diagnostic::error(
                                key.span,
                                format!("the block `{name}` has no argument `{}`", key.name),
                            )
                            .also(block.name.span, "the block is declared here"),
                        );
                        failed = true;
                        continue;
                    }
                },
            };
            if index >= slots.len() {
                continue; // counted below
            }
            if slots[index].is_some() {
                self.errors.push(Diagnostic::error(
                    arg.name.as_ref().map_or(span, |k| k.span),
                    format!(
                        "the argument `{}` of the block `{name}` is given twice",
                        block.params[index].name
                    ),
                ));
                failed = true;
                continue;
            }
            slots[index] = Some(place(self, arg.value));
        }
        if positional > block.params.len() || slots.iter().any(Option::is_none) && !failed {
            let given = args.len();
            let takes = block.params.len();
            let names: Vec<String> = block
                .params
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect();
            self.errors.push(
                Diagnostic::error(
                    span,
                    format!(
                        "the block `{name}` takes {takes} argument{}, but {given} {} given",
                        if takes == 1 { "" } else { "s" },
                        if given == 1 { "was" } else { "were" }
                    ),
                )
                .also(block.name.span, "the block is declared here")
                .help(if names.is_empty() {
                    "call it with no arguments".to_string()
                } else {
                    format!("its arguments are {}", names.join(", "))
                }),
            );
            return None;
        }
        if failed {
            return None;
        }
        slots.into_iter().collect()
    }

    /// Writes out the block of `call`, made by `item`, as `name`: its
    /// statements with `name`'s prefix, then `name = ` its return value.
    fn call(
        &mut self,
        call: &Call<'_>,
        item: &Item,
        name: Ident,
        args: &[ExprId],
        outer: &[BlockCall],
    ) {
        let block = call.block;
        if outer.len() >= MOST_NESTED || self.items.len() >= MOST_STATEMENTS {
            if !self.errors.has_errors() {
                let what = if outer.len() >= MOST_NESTED {
                    format!("block calls nest more than {MOST_NESTED} deep here")
                } else {
                    format!("the blocks written out make more than {MOST_STATEMENTS} statements")
                };
                self.errors.push(
                    Diagnostic::error(call.span, what)
                        .label(format!("in this call of `{}`", block.name.name)),
                );
            }
            return;
        }
        let mut calls = outer.to_vec();
        calls.push(BlockCall {
            block: block.name.name.clone(),
            binding: name.name.clone(),
            span: call.span,
        });
        let prefix = format!("{}_", name.name);
        let params: BTreeMap<&str, ExprId> = block
            .params
            .iter()
            .map(|p| p.name.as_str())
            .zip(args.iter().copied())
            .collect();
        for inner in &block.items {
            if let Some(nested) = block_call(&block.exprs, inner, self.blocks) {
                if let Some(nested_args) = self.arguments(&nested, |w, id| {
                    w.copy_from(&block.exprs, id, &prefix, &params)
                }) {
                    let renamed = prefixed(&prefix, nested.name);
                    self.call(&nested, inner, renamed, &nested_args, &calls);
                }
                continue;
            }
            let kind = match &inner.kind {
                ItemKind::Binding {
                    name: local, value, ..
                } => ItemKind::Binding {
                    name: prefixed(&prefix, local),
                    value: self.copy_from(&block.exprs, *value, &prefix, &params),
                    output: false,
                },
                ItemKind::Param {
                    name: local,
                    shape,
                    init,
                } => {
                    let init = init.map(|i| self.copy_from(&block.exprs, i, &prefix, &params));
                    let Some(shape) = self.shape(block, shape, &params) else {
                        continue;
                    };
                    ItemKind::Param {
                        name: prefixed(&prefix, local),
                        shape,
                        init,
                    }
                }
                _ => continue,
            };
            self.items.push(Item {
                docs: inner.docs.clone(),
                kind,
                span: inner.span,
                calls: calls.clone(),
            });
        }
        let value = self.copy_from(&block.exprs, block.ret, &prefix, &params);
        self.items.push(Item {
            docs: item.docs.clone(),
            kind: ItemKind::Binding {
                name,
                value,
                output: call.output,
            },
            span: block.ret_span,
            calls,
        });
    }

    /// A shape of the block with its arguments' names replaced by the numbers
    /// the call gives; `None`, with the error, for an argument that is not a
    /// number literal.
    fn shape(
        &mut self,
        block: &Block,
        shape: &Shape,
        params: &BTreeMap<&str, ExprId>,
    ) -> Option<Shape> {
        let mut out = shape.clone();
        out.names.clear();
        for (i, name) in &shape.names {
            let Some(arg) = params.get(name.name.as_str()) else {
                out.names.push((*i, name.clone()));
                continue;
            };
            let given = self.exprs.get(*arg);
            match &given.kind {
                ExprKind::Number(n) => {
                    out.dims[*i] = Number {
                        text: n.text.clone(),
                        value: n.value,
                        span: name.span,
                    };
                }
                _ => {
                    self.errors.push(
                        Diagnostic::error(
                            given.span,
                            format!(
                                "the argument `{}` of the block `{}` is a dimension",
                                name.name, block.name.name
                            ),
                        )
                        .label("expected a whole number")
                        .also(name.span, "used in a shape here"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Copies the subtree at `root` of a block's arena into the network's:
    /// names get `prefix`, and an argument's name becomes a copy of the
    /// argument's value.
    fn copy_from(
        &mut self,
        from: &Exprs,
        root: ExprId,
        prefix: &str,
        params: &BTreeMap<&str, ExprId>,
    ) -> ExprId {
        let first = from.first_id(root);
        let mut map: BTreeMap<u32, ExprId> = BTreeMap::new();
        for i in first.0..=root.0 {
            let expr = from.get(ExprId(i));
            let new = match &expr.kind {
                ExprKind::Name(n) => match params.get(n.name.as_str()) {
                    // The argument's value, placed where the block uses it.
                    Some(arg) => self.copy_within(*arg, Some(expr.span)),
                    None if is_global(&n.name) => self.exprs.push(expr.clone()),
                    None => self.exprs.push(Expr {
                        kind: ExprKind::Name(prefixed(prefix, n)),
                        span: expr.span,
                    }),
                },
                other => {
                    let kind = remap(other, &map);
                    self.exprs.push(Expr {
                        kind,
                        span: expr.span,
                    })
                }
            };
            map.insert(i, new);
        }
        map[&root.0]
    }

    /// Copies a subtree of the network's own arena to its end, so that every
    /// use of an argument has operands just before it; with `at`, every
    /// copied node stands there (errors about it point into the block).
    fn copy_within(&mut self, root: ExprId, at: Option<Span>) -> ExprId {
        let first = self.exprs.first_id(root);
        let nodes: Vec<Expr> = (first.0..=root.0)
            .map(|i| self.exprs.get(ExprId(i)).clone())
            .collect();
        let mut map: BTreeMap<u32, ExprId> = BTreeMap::new();
        for (offset, expr) in nodes.into_iter().enumerate() {
            let kind = remap(&expr.kind, &map);
            let new = self.exprs.push(Expr {
                kind,
                span: at.unwrap_or(expr.span),
            });
            map.insert(first.0 + offset as u32, new);
        }
        map[&root.0]
    }
}

/// An expression's kind with its operands' ids mapped.
fn remap(kind: &ExprKind, map: &BTreeMap<u32, ExprId>) -> ExprKind {
    let m = |id: &ExprId| map[&id.0];
    match kind {
        ExprKind::Number(n) => ExprKind::Number(n.clone()),
        ExprKind::Name(n) => ExprKind::Name(n.clone()),
        ExprKind::Neg(a) => ExprKind::Neg(m(a)),
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: m(lhs),
            rhs: m(rhs),
        },
        ExprKind::Call { func, args } => ExprKind::Call {
            func: func.clone(),
            args: args
                .iter()
                .map(|a| Arg {
                    name: a.name.clone(),
                    value: m(&a.value),
                })
                .collect(),
        },
        ExprKind::Array(items) => ExprKind::Array(items.iter().map(m).collect()),
        ExprKind::Index { value, index } => ExprKind::Index {
            value: m(value),
            index: index.iter().map(m).collect(),
        },
    }
}
