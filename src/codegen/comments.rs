//! The comment above each `let` of a body: what it computes in math
//! notation, in terms of the names in scope; which derivative it is; what a
//! fused kernel does instead; and which later statements share it.

use super::plan::{is_leaf, Emitter};
use crate::ir::math::{self, Notation};
use crate::ir::{NodeId, Op, Role};

impl Emitter<'_> {
    /// The comment above a bound node: what it is, in math notation, in terms
    /// of the names in scope; and which statements share it.
    pub(super) fn comment(&self, id: NodeId, readers: &[NodeId]) -> Vec<String> {
        let n = self.g.node(id);
        let name = self.name(id);
        let math = self.math(id);
        let mut lines = vec![match n.role {
            Role::Adjoint(of) => match self.g.node(of).op {
                Op::Param(_) => format!("{name} = Σ_b ∂ℓ_b/∂{} = {math}", self.name(of)),
                _ => format!("{name} = ∂ℓ/∂{} = {math}", self.name(of)),
            },
            Role::Gradient(p) => format!("{name} = ∂E/∂{} = {math}", self.net.params[p].name),
            _ => format!("{name} = {math}"),
        }];
        let named = |m: NodeId| self.name(m).to_owned();
        lines.extend(math::index_form(self.g, id, &named));
        match n.op {
            Op::SoftmaxCrossEntropy => {
                lines.push("cross-entropy of softmax, fused: computed by log-sum-exp".into())
            }
            Op::SigmoidBinaryCrossEntropy => lines.push(
                "binary cross-entropy of sigmoid, fused: Σ softplus(z) − t·z, finite for any z"
                    .into(),
            ),
            Op::BatchMean => {
                lines.push("the loss E: the mean over the batch of the per-sample loss ℓ".into())
            }
            _ => {}
        }
        if self.fused_user(id, Op::SoftmaxCrossEntropy) {
            lines
                .push("softmax + cross-entropy, fused: softmax(z)·Σt − t, no division by y".into());
        }
        if self.fused_user(id, Op::SigmoidBinaryCrossEntropy) {
            lines.push(
                "sigmoid + binary cross-entropy, fused: σ(z) − t, no division by y(1 − y)".into(),
            );
        }
        if readers.len() > 1 {
            let users: Vec<&str> = readers.iter().map(|r| self.name(*r)).collect();
            lines.push(format!("shared by {}", users.join(", ")));
        }
        lines
    }

    /// A node in math notation: bound nodes by their names, inlined ones
    /// written out.
    fn math(&self, id: NodeId) -> String {
        let label = |n: NodeId| {
            let node = self.g.node(n);
            let named = is_leaf(node.op) || !(self.is_inlined(n) || self.is_absorbed(n));
            (named && !matches!(node.op, Op::Const(_) | Op::BatchSize))
                .then(|| self.name(n).to_owned())
        };
        math::Writer::new(self.g, Notation::Unicode, &label).formula(id)
    }
}
