//! Indices (version 3): values that hold whole numbers in `0..V` rather than
//! numbers, and the two ways of indexing with brackets — rows of a table by an
//! index value (`C[ctx]`), and one row known at compile time (`x[-1]`).
//!
//! An index is never a number: it can select rows of a table, have a literal
//! row taken, be passed to a block, and be the target of `cross_entropy` or
//! `nll`. Every other use is refused here, at the index.

use crate::diagnostics::{Diagnostic, Span};
use crate::lang::Type;
use crate::syntax::ast::{ExprId, ExprKind};

use super::{Checker, Meaning};

impl Checker<'_> {
    /// Refuses indices among `operands`, which `what` (an operator, a
    /// function) uses as numbers. `None` after an error.
    pub(super) fn numbers(&mut self, operands: &[ExprId], what: &str) -> Option<()> {
        let mut ok = true;
        for &id in operands {
            let Some((ty, _)) = self.ty(id) else { continue };
            let Some(range) = ty.range else { continue };
            let span = self.network.exprs.get(id).span;
            let name = self.operand_name(id, "this value");
            self.error(
                Diagnostic::error(span, format!("{name} holds indices, not numbers"))
                    .label(format!("indices in 0..{range}, used by {what} as numbers"))
                    .help(format!(
                        "an index selects rows of a table (`E[{}]`, an embedding) or is the target of `cross_entropy` or `nll`",
                        self.short_name(id)
                    )),
            );
            ok = false;
        }
        ok.then_some(())
    }

    /// A name to write in a hint: the operand's own name, else `i`.
    fn short_name(&self, id: ExprId) -> String {
        match &self.network.exprs.get(id).kind {
            ExprKind::Name(n) => n.name.clone(),
            _ => "i".into(),
        }
    }

    /// `value[index]`: the rows of a table selected by an index value, or
    /// one row known at compile time.
    pub(super) fn index(
        &mut self,
        span: Span,
        value: ExprId,
        index: &[ExprId],
    ) -> Option<(Meaning, Option<Type>, bool)> {
        let (vt, vtarget) = self.ty(value)?;
        let bracket = match index {
            [] => {
                self.error(
                    Diagnostic::error(span, "an empty index `[]`")
                        .help("write a row `x[0]` or an index value `E[ctx]`"),
                );
                return None;
            }
            [one] => *one,
            [_, second, ..] => {
                let second_span = self.network.exprs.get(*second).span;
                let shown: Vec<String> = index
                    .iter()
                    .map(|i| format!("[{}]", self.text_of(*i)))
                    .collect();
                self.error(
                    Diagnostic::error(second_span, "one index per pair of brackets")
                        .label("a second index")
                        .help(format!(
                            "write `{}{}` to take a row, then an element of it",
                            self.text_of(value),
                            shown.join("")
                        )),
                );
                return None;
            }
        };
        // An index whose own declaration was wrong is reported there.
        self.ty(bracket)?;
        let bracket_span = self.network.exprs.get(bracket).span;
        let value_span = self.network.exprs.get(value).span;
        let name = self.operand_name(value, "the value");
        // Rows of a table, chosen by an index value: `C[ctx]`.
        if let Some((it, itarget)) = self.ty(bracket).filter(|(t, _)| t.is_index()) {
            let range = it.range.unwrap_or(0);
            if vt.is_index() {
                self.numbers(&[value], "a table")?;
            }
            let Some(&rows) = vt.shape.first() else {
                self.error(
                    Diagnostic::error(value_span, format!("{name} is a scalar, not a table"))
                        .label("a table has rank 1 or 2: one row per index")
                        .help(format!(
                            "declare a table with a row for each of the {range} indices, e.g. `param E: [{range}, 16]`"
                        )),
                );
                return None;
            };
            if vt.shape.len() > 2 {
                self.error(
                    Diagnostic::error(
                        value_span,
                        format!(
                            "{name} has rank {}: a table has rank 1 or 2",
                            vt.shape.len()
                        ),
                    )
                    .label(format!("shape {}", vt.shape_text())),
                );
                return None;
            }
            if rows != range {
                let mut d = Diagnostic::error(
                    bracket_span,
                    format!(
                        "indices in 0..{range} select rows of a table with {rows} row{}",
                        if rows == 1 { "" } else { "s" }
                    ),
                )
                .label(format!("in 0..{range}"))
                .also(
                    value_span,
                    format!("{name} has {rows} rows, shape {}", vt.shape_text()),
                )
                .help(format!(
                    "the table needs one row per index: {range} rows, or indices in 0..{rows}"
                ));
                if let Some((s, note)) = self.shape_origin(bracket, &it) {
                    d = d.also(s, note);
                }
                self.error(d);
                return None;
            }
            let mut shape = it.shape.clone();
            shape.extend_from_slice(&vt.shape[1..]);
            let ty = Type::new(shape, vt.batched || it.batched);
            return Some((
                Meaning::Gather(value, bracket),
                Some(ty),
                vtarget || itarget,
            ));
        }
        // One row known at compile time: `x[-1]`.
        let Some(k) = self.constant(bracket) else {
            let label = match self.ty(bracket) {
                Some(_) => "neither a whole number known at compile time nor an index value",
                None => "not a row",
            };
            self.error(
                Diagnostic::error(bracket_span, format!("cannot index {name} by this"))
                    .label(label)
                    .help("take a row with a whole number, `x[0]` or `x[-1]`, or rows of a table with indices, `E[ctx]`"),
            );
            return None;
        };
        if k.fract() != 0.0 || !k.is_finite() {
            self.error(
                Diagnostic::error(
                    bracket_span,
                    format!("a row is a whole number, not `{}`", self.text_of(bracket)),
                )
                .label("not whole"),
            );
            return None;
        }
        let Some(&n) = vt.shape.first() else {
            self.error(
                Diagnostic::error(value_span, format!("{name} is a scalar: it has no rows"))
                    .label("shape []")
                    .also(bracket_span, "row taken here"),
            );
            return None;
        };
        if k < -(n as f64) || k >= n as f64 {
            self.error(
                Diagnostic::error(
                    bracket_span,
                    format!(
                        "row {} of a value with {n} row{}",
                        self.text_of(bracket),
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .label(format!(
                    "out of range: the rows are 0 to {}, or −{n} to −1 from the end",
                    n - 1
                ))
                .also(value_span, format!("{name} has shape {}", vt.shape_text())),
            );
            return None;
        }
        let row = if k < 0.0 {
            n - (-k) as usize
        } else {
            k as usize
        };
        let ty = Type {
            shape: vt.shape[1..].to_vec(),
            batched: vt.batched,
            range: vt.range,
        };
        Some((Meaning::Row(value, row), Some(ty), vtarget))
    }

    /// A short expression as written (a number, a name, `-1`); `…` for
    /// anything longer.
    fn text_of(&self, id: ExprId) -> String {
        match &self.network.exprs.get(id).kind {
            ExprKind::Number(n) => n.text.clone(),
            ExprKind::Name(n) => n.name.clone(),
            ExprKind::Neg(a) => format!("-{}", self.text_of(*a)),
            _ => "…".into(),
        }
    }
}
