//! `h = batch_norm(x, momentum = 0.1, eps = 1e-5)` (LANGUAGE.md §13): sugar
//! like `dense`, once per binding (beside a `dense` or `conv` if the binding
//! has one). It declares the parameters `h_gain` (ones) and `h_bias` (zeros)
//! and the running statistics `h_mean` (zeros) and `h_var` (ones), one
//! number per feature: the n of `[n]`, the d of `[T, d]`, the c of
//! `[c, h, w]`.

use super::net::{Init, Meaning, Statistic, Symbol};
use super::Checker;
use crate::diagnostics::{Diagnostic, Span};
use crate::lang::Type;
use crate::syntax::ast;

impl Checker<'_> {
    /// Checks a `batch_norm` call and declares what it declares.
    pub(super) fn batch_norm(
        &mut self,
        span: Span,
        func: &ast::Ident,
        args: &[ast::Arg],
    ) -> Option<(Meaning, Option<Type>, bool)> {
        let slots = self.match_args(func, args, &["x", "momentum", "eps"])?;
        let Some(x) = slots[0] else {
            self.error(
                Diagnostic::error(span, "`batch_norm` needs the value it normalizes")
                    .help("`h = batch_norm(dense(x, 64))`"),
            );
            return None;
        };
        let number =
            |this: &mut Self, slot: Option<ast::ExprId>, what: &str, default: f64| match slot {
                Some(id) => this
                    .expect_constant(id, what)
                    .map(|v| (v, this.network.exprs.get(id).span)),
                None => Some((default, span)),
            };
        let (momentum, momentum_span) = number(self, slots[1], "`momentum`", 0.1)?;
        let (eps, eps_span) = number(self, slots[2], "`eps`", 1e-5)?;
        if !(0.0..=1.0).contains(&momentum) {
            self.error(
                Diagnostic::error(momentum_span, format!("`momentum` is a fraction, 0 ≤ m ≤ 1: this is {momentum}"))
                    .label("outside [0, 1]")
                    .help("PyTorch's convention: running ← (1 − m)·running + m·batch, 0.1 by default (Keras's 0.99 is m = 0.01)"),
            );
            return None;
        }
        if eps <= 0.0 {
            self.error(
                Diagnostic::error(
                    eps_span,
                    format!("`eps` keeps the division finite and must be positive: this is {eps}"),
                )
                .label("not positive")
                .help("1e-5 by default"),
            );
            return None;
        }
        let (xt, target) = self.ty(x)?;
        self.numbers(&[x], "`batch_norm`")?;
        let features = match (xt.shape.as_slice(), xt.batched) {
            ([n], true) | ([_, n], true) => *n,
            ([c, _, _], true) => *c,
            _ => {
                let what = if xt.batched {
                    format!("this has shape {}", xt.shape_text())
                } else {
                    "the same for every sample: no batch to normalize over".to_string()
                };
                self.error(
                    Diagnostic::error(
                        self.network.exprs.get(x).span,
                        "`batch_norm` normalizes a vector, rows `[T, d]` or an image `[c, h, w]` of each sample",
                    )
                    .label(what)
                    .help("each feature is normalized over the batch (and the rows or pixels)"),
                );
                return None;
            }
        };
        let Some((binding, _)) = self.binding.clone() else {
            self.error(
                Diagnostic::error(span, "`batch_norm` can only be used in a binding (`h = ...` or `output h = ...`)")
                    .label("not in a binding")
                    .help("the binding names what it declares (`h_gain`, `h_bias`, `h_mean`, `h_var`): write `h = batch_norm(x)` and use `h`"),
            );
            return None;
        };
        if let Some(first) = self.batch_norm {
            self.error(
                Diagnostic::error(
                    func.span,
                    format!("a second `batch_norm` in the binding `{binding}`"),
                )
                .label("second `batch_norm`")
                .also(first, "the first one")
                .help("give each its own binding: `h1 = batch_norm(a)`, then `h2 = batch_norm(b)`"),
            );
            return None;
        }
        self.batch_norm = Some(span);
        if let Some((name, first)) = self.taken(&binding, &["gain", "bias", "mean", "var"]) {
            self.error(
                Diagnostic::error(
                    func.span,
                    format!("`batch_norm` in `{binding}` declares `{name}`, which is already defined"),
                )
                .label(format!(
                    "declares `{binding}_gain`, `{binding}_bias`, `{binding}_mean` and `{binding}_var`"
                ))
                .also(first, format!("`{name}` is defined here"))
                .help("rename it or the binding"),
            );
            return None;
        }
        let param = |this: &mut Self, suffix: &str, init: Init, doc: String| {
            this.layer_param(
                format!("{binding}_{suffix}"),
                vec![features],
                init,
                doc,
                span,
            )
        };
        let gain = param(
            self,
            "gain",
            Init::Ones,
            format!("The gain of the batch normalization `{binding}`, per feature."),
        );
        let bias = param(
            self,
            "bias",
            Init::Zeros,
            format!("The bias of the batch normalization `{binding}`, per feature."),
        );
        let statistic = |this: &mut Self, variance: bool| {
            let (suffix, init, what) = if variance {
                ("var", Init::Ones, "variance")
            } else {
                ("mean", Init::Zeros, "mean")
            };
            let name = format!("{binding}_{suffix}");
            this.statistics.push(Statistic {
                name: name.clone(),
                layer: binding.clone(),
                shape: vec![features],
                init,
                variance,
                momentum,
                docs: vec![format!(
                    "The running {what} of the batch normalization `{binding}`, per feature: updated by each `train_step` (momentum {momentum}), used in inference. Not a parameter: no gradient."
                )],
                span,
            });
            let index = this.statistics.len() - 1;
            this.declare(&ast::Ident { name, span }, Symbol::Statistic(index));
            index
        };
        let mean = statistic(self, false);
        let var = statistic(self, true);
        Some((
            Meaning::BatchNorm {
                x,
                gain,
                bias,
                mean,
                var,
                eps,
            },
            Some(xt.clone()),
            target,
        ))
    }
}
