//! Expressions: what each one means once names are resolved, its per-sample
//! shape, and whether it varies per sample (it depends on an input or a
//! target). Operators follow the broadcasting and `@` rules of the language.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Span};
use crate::lang::Type;
use crate::syntax::ast::{BinOp, ExprId, ExprKind, ItemKind};

use super::{builtins, Builtin, Checker, Meaning, Symbol};

impl Checker<'_> {
    /// Types the expression `root` and everything below it. Operands have
    /// smaller ids, so one loop over the id range suffices.
    pub(super) fn value(&mut self, root: ExprId) {
        let first = self.network.exprs.first_id(root);
        for i in first.0..=root.0 {
            let id = ExprId(i);
            if self.types[i as usize].is_some() {
                continue;
            }
            let (meaning, ty, target) = match self.type_of(id) {
                Some(t) => t,
                None => (Meaning::None, None, false),
            };
            self.meanings[i as usize] = meaning;
            self.types[i as usize] = ty;
            self.uses_target[i as usize] = target;
        }
    }

    pub(super) fn ty(&self, id: ExprId) -> Option<(Type, bool)> {
        self.types[id.0 as usize]
            .clone()
            .map(|t| (t, self.uses_target[id.0 as usize]))
    }

    pub(super) fn type_of(&mut self, id: ExprId) -> Option<(Meaning, Option<Type>, bool)> {
        let expr = self.network.exprs.get(id);
        let span = expr.span;
        match &expr.kind {
            ExprKind::Number(n) => {
                if !n.value.is_finite() {
                    self.error(
                        Diagnostic::error(span, format!("the number `{}` is too large", n.text))
                            .label("beyond the largest f64, about 1.8e308"),
                    );
                    return None;
                }
                Some((Meaning::Number(n.value), Some(Type::scalar()), false))
            }
            ExprKind::Name(name) => {
                if self.poisoned.contains(&name.name) {
                    // Its declaration is wrong and already reported.
                    return None;
                }
                let Some((symbol, _)) = self.names.get(&name.name).copied() else {
                    let network = self.network;
                    let later = self
                        .binding_spans
                        .get_or_insert_with(|| {
                            let mut first = BTreeMap::new();
                            for item in &network.items {
                                if let ItemKind::Binding { name: n, .. } = &item.kind {
                                    first.entry(n.name.as_str()).or_insert(n.span);
                                }
                            }
                            first
                        })
                        .get(name.name.as_str())
                        .copied();
                    let d = match later {
                        Some(def) => Diagnostic::error(span, format!("`{}` is used before it is defined", name.name))
                            .label("used here")
                            .also(def, "defined here")
                            .help("move the binding above its first use"),
                        None if builtins::is_builtin_name(&name.name) => {
                            Diagnostic::error(span, format!("`{}` is a function and needs an argument", name.name))
                                .help(format!("write `{}(x)`", name.name))
                        }
                        None => Diagnostic::error(span, format!("unknown name `{}`", name.name))
                            .label("not declared in this network")
                            .help("declare it with `input`, `target`, `param`, or a binding `name = ...`"),
                    };
                    self.error(d);
                    return None;
                };
                let (ty, target) = match symbol {
                    Symbol::Input(i) => (self.inputs[i].ty(), false),
                    Symbol::Target(i) => (self.targets[i].ty(), true),
                    Symbol::Param(i) => (Type::new(self.params[i].shape.clone(), false), false),
                    Symbol::Binding(i) => self.ty(self.bindings[i].value)?,
                    Symbol::Statistic(i) => {
                        (Type::new(self.statistics[i].shape.clone(), false), false)
                    }
                };
                Some((Meaning::Symbol(symbol), Some(ty), target))
            }
            ExprKind::Neg(a) => {
                let (t, target) = self.ty(*a)?;
                self.numbers(&[*a], "`-`")?;
                Some((Meaning::Neg(*a), Some(t), target))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, lt) = self.ty(*lhs)?;
                let (r, rt) = self.ty(*rhs)?;
                self.numbers(&[*lhs, *rhs], &format!("`{}`", op.symbol()))?;
                let shape = self.binary_shape(*op, *lhs, &l, *rhs, &r)?;
                let batched = l.batched || r.batched;
                Some((
                    Meaning::Binary(*op, *lhs, *rhs),
                    Some(Type::new(shape, batched)),
                    lt || rt,
                ))
            }
            ExprKind::Index { value, index } => self.index(span, *value, index),
            ExprKind::Call { func, args } if func.name == "dense" => self.dense(span, func, args),
            ExprKind::Call { func, args } if func.name == "conv" => self.conv(span, func, args),
            ExprKind::Call { func, args } if func.name == "batch_norm" => {
                self.batch_norm(span, func, args)
            }
            ExprKind::Call { func, args } => {
                let (builtin, arg_ids, numbers) = self.call(span, func, args)?;
                let mut types = Vec::new();
                let mut target = false;
                for a in &arg_ids {
                    let (t, at) = self.ty(*a)?;
                    target |= at;
                    types.push(t);
                }
                // Only a loss's target may be an index (its one-hot vector).
                let as_numbers = match builtin {
                    Builtin::Loss(kind) if kind.takes_indices() => &arg_ids[..1],
                    _ => &arg_ids[..],
                };
                self.numbers(as_numbers, &format!("`{}`", func.name))?;
                let exprs = &self.network.exprs;
                let ty = self.report(|d| {
                    builtins::result_type(builtin, &types, &arg_ids, &numbers, span, exprs, d)
                })?;
                Some((Meaning::Call(builtin, arg_ids), Some(ty), target))
            }
            ExprKind::Array(_) => {
                self.error(
                    Diagnostic::error(span, "an array literal can only initialize a parameter")
                        .help("write it after `param W: [...] =`"),
                );
                None
            }
        }
    }

    pub(super) fn binary_shape(
        &mut self,
        op: BinOp,
        lhs: ExprId,
        l: &Type,
        rhs: ExprId,
        r: &Type,
    ) -> Option<Vec<usize>> {
        let ls = self.network.exprs.get(lhs).span;
        let rs = self.network.exprs.get(rhs).span;
        let sym = op.symbol();
        let (a, b) = (
            self.operand_name(lhs, "the left side"),
            self.operand_name(rhs, "the right side"),
        );
        let why = if op == BinOp::MatMul {
            let out = match (l.shape.as_slice(), r.shape.as_slice()) {
                ([n], [k, m]) if n == k => Some(vec![*m]),
                ([n, k], [m]) if k == m => Some(vec![*n]),
                ([n], [m]) if n == m => Some(vec![]),
                ([n, k], [k2, m]) if k == k2 => Some(vec![*n, *m]),
                _ => None,
            };
            if out.is_some() {
                return out;
            }
            match (l.shape.as_slice(), r.shape.as_slice()) {
                (x, y) if x.len() > 2 || y.len() > 2 => {
                    let (side, t) = if x.len() > 2 { (&a, l) } else { (&b, r) };
                    format!("`@` multiplies vectors and matrices, and {side} is {}: write `flatten(x)` to make an image a vector", t.shape_text())
                }
                ([], _) | (_, []) => {
                    "`@` multiplies vectors and matrices; use `*` to scale by a scalar".to_string()
                }
                ([n], [k, _]) => format!("{a} has {n} elements, {b} has {k} rows"),
                ([_, k], [m]) => format!("{a} has {k} columns, {b} has {m} elements"),
                ([n], [m]) => {
                    format!("a dot product needs equal lengths: {a} has {n} elements, {b} has {m}")
                }
                ([_, k], [k2, _]) => format!("{a} has {k} columns, {b} has {k2} rows"),
                _ => "these shapes cannot be multiplied".to_string(),
            }
        } else if let Some(shape) = crate::lang::broadcast(&l.shape, &r.shape) {
            return Some(shape);
        } else {
            broadcast_failure(&a, &l.shape, &b, &r.shape)
        };
        let mut d = Diagnostic::error(
            ls.to(rs),
            format!(
                "shape mismatch in `{sym}`: {} {sym} {}",
                l.shape_text(),
                r.shape_text()
            ),
        )
        .label(why);
        for (e, t) in [(lhs, l), (rhs, r)] {
            if let Some((span, note)) = self.shape_origin(e, t) {
                d = d.also(span, note);
            }
        }
        if op != BinOp::MatMul {
            let image = l.shape.len() == 3 || r.shape.len() == 3;
            d = d.help(if image {
                "elementwise operations broadcast as NumPy does (aligned at the last axis, \
                 each pair of dimensions equal or one of them 1), and a vector [c] beside \
                 an image [c, h, w] applies per channel"
            } else {
                "elementwise operations need equal shapes, a scalar on one side, or shapes \
                 that broadcast as NumPy's do (aligned at the last axis, each pair of \
                 dimensions equal or one of them 1)"
            });
        }
        self.error(d);
        None
    }

    /// How an operand is called in a message: its name, or a description.
    pub(super) fn operand_name(&self, id: ExprId, otherwise: &str) -> String {
        match &self.network.exprs.get(id).kind {
            ExprKind::Name(n) => format!("`{}`", n.name),
            _ => otherwise.to_string(),
        }
    }

    /// Where an operand's shape comes from: the declaration of a name, or the
    /// binding that computed it. `None` for an operand written in place.
    pub(super) fn shape_origin(&self, id: ExprId, ty: &Type) -> Option<(Span, String)> {
        let ExprKind::Name(name) = &self.network.exprs.get(id).kind else {
            return None;
        };
        let (symbol, _) = self.names.get(&name.name)?;
        let shape = match ty.range {
            Some(range) => format!("{} in 0..{range}", ty.shape_text()),
            None => ty.shape_text(),
        };
        let n = &name.name;
        Some(match *symbol {
            Symbol::Input(i) => (
                self.inputs[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Target(i) => (
                self.targets[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Param(i) => (
                self.params[i].span,
                format!("`{n}` is declared {shape} here"),
            ),
            Symbol::Binding(i) => (
                self.bindings[i].span,
                format!("`{n}` gets shape {shape} here"),
            ),
            Symbol::Statistic(i) => (
                self.statistics[i].span,
                format!("`{n}` is declared {shape} here, by `batch_norm`"),
            ),
        })
    }
}

/// Why two shapes do not broadcast, in the user's terms.
fn broadcast_failure(a: &str, l: &[usize], b: &str, r: &[usize]) -> String {
    let rank = l.len().max(r.len());
    if rank <= 1 {
        return format!(
            "{a} is {}, {b} is {}",
            crate::lang::shape_text(l),
            crate::lang::shape_text(r)
        );
    }
    let (x, y) = (crate::lang::aligned(l, rank), crate::lang::aligned(r, rank));
    if rank == 3 && l.len() + r.len() == 4 && (l.len() == 1 || r.len() == 1) {
        let (c, v) = if l.len() == 3 {
            (l[0], r[0])
        } else {
            (r[0], l[0])
        };
        return format!(
            "a vector beside an image applies per channel: it needs {c} elements, one per channel, not {v}"
        );
    }
    for (i, (p, q)) in x.iter().zip(&y).enumerate().rev() {
        if p != q && *p != 1 && *q != 1 {
            let from_end = rank - i;
            let which = if from_end == 1 {
                "last axis".to_string()
            } else {
                format!("axis {} from the end", from_end)
            };
            return format!("{a} has {p} along its {which}, {b} has {q}");
        }
    }
    let joint: Vec<usize> = x.iter().zip(&y).map(|(p, q)| *p.max(q)).collect();
    format!(
        "both sides would be stretched: the result {} would be larger than {a} and {b}",
        crate::lang::shape_text(&joint)
    )
}
