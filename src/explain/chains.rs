//! Who uses what: each shared product's users (through unnamed partial sums),
//! and each parameter's chain rule, the paths from the loss down to it, found
//! from the parameter upwards within a fixed budget.

use super::Labels;
use crate::ir::math::Notation;
use crate::ir::{Graph, NodeId, Op, Role};

/// The users of each node, each once, in id order.
pub(super) fn users(g: &Graph) -> Vec<Vec<NodeId>> {
    let mut users = vec![Vec::new(); g.nodes.len()];
    for id in g.ids() {
        for a in &g.node(id).args {
            // Users come in id order: a repeat is the last one pushed.
            if users[a.index()].last() != Some(&id) {
                users[a.index()].push(id);
            }
        }
    }
    users
}

/// What uses each shared product, seen through unnamed intermediate nodes:
/// the gradients ∂ℓ/∂W it feeds and the other shared products. One sweep
/// from the last node back: an unnamed backward node passes on the named
/// users of its own users (a chain of partial sums is walked once, not once
/// per product that feeds it).
pub(super) struct UsedBy {
    users: Vec<Vec<NodeId>>,
    /// The name of each node that `used by` lists.
    names: Vec<Option<String>>,
    /// The named nodes each backward node feeds, itself included.
    feeds: Vec<Vec<NodeId>>,
}

impl UsedBy {
    pub(super) fn new(g: &Graph, labels: &Labels, nt: Notation) -> Self {
        let users = users(g);
        let names: Vec<Option<String>> = g
            .ids()
            .map(|u| {
                if let Some(l) = &labels.letters[u.index()] {
                    return Some(l.clone());
                }
                match g.node(u).role {
                    Role::Adjoint(of) if matches!(g.node(of).op, Op::Param(_)) => {
                        Some(nt.partial(&nt.pick_ell(), &nt.name(&labels.names[of.index()])))
                    }
                    _ => None,
                }
            })
            .collect();
        let mut feeds: Vec<Vec<NodeId>> = vec![Vec::new(); g.nodes.len()];
        for u in g.ids().rev() {
            let n = g.node(u);
            if matches!(n.role, Role::Forward { .. }) {
                continue;
            }
            if names[u.index()].is_some() {
                feeds[u.index()] = vec![u];
            } else if !matches!(n.role, Role::Gradient(_)) {
                let mut f: Vec<NodeId> = users[u.index()]
                    .iter()
                    .flat_map(|v| feeds[v.index()].iter().copied())
                    .collect();
                f.sort_unstable();
                f.dedup();
                feeds[u.index()] = f;
            }
        }
        UsedBy {
            users,
            names,
            feeds,
        }
    }

    /// The names of what uses `id`, sorted.
    pub(super) fn of(&self, id: NodeId) -> Vec<String> {
        let mut found: Vec<String> = self.users[id.index()]
            .iter()
            .flat_map(|u| self.feeds[u.index()].iter())
            .filter_map(|v| self.names[v.index()].clone())
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// Chains longer than this many factors start at a shared product.
pub(super) const LONGEST_CHAIN: usize = 12;

/// What every parameter's chain rule is read from, computed once.
pub(super) struct Chains<'a> {
    g: &'a Graph,
    labels: &'a Labels,
    /// Each node's users, once per argument position that reads it.
    users: Vec<Vec<(NodeId, usize)>>,
    /// Whether the per-sample loss depends on the node.
    reach: Vec<bool>,
}

impl<'a> Chains<'a> {
    pub(super) fn new(g: &'a Graph, labels: &'a Labels) -> Self {
        let mut users = vec![Vec::new(); g.nodes.len()];
        for id in g.ids() {
            for (k, a) in g.node(id).args.iter().enumerate() {
                users[a.index()].push((id, k));
            }
        }
        Chains {
            g,
            labels,
            users,
            reach: g.live(&[g.sample_loss]),
        }
    }

    /// ∂ℓ/∂y · ∂y/∂z · ∂z/∂W along the named values from the loss to a
    /// parameter; a sum of such products where several paths lead there.
    /// A chain of more than [`LONGEST_CHAIN`] factors starts instead at the
    /// shared product nearest the parameter (∂ℓ/∂z_h1 · ∂z_h1/∂W, with
    /// ∂ℓ/∂z_h1 a lettered product above), so that a deep network's chains
    /// stay a line each. Found from the parameter upwards, within a fixed
    /// number of steps: none (the line shows only the result) where there
    /// are more than four paths or the search does not end.
    pub(super) fn chain_rule(&self, param: NodeId, nt: Notation) -> Option<(String, bool)> {
        const MOST: usize = 4;
        const STEPS: usize = 10_000;
        let (g, labels) = (self.g, self.labels);
        if !self.reach[param.index()] {
            return None;
        }
        let lettered = |id: NodeId| {
            g.adjoints
                .get(&id)
                .is_some_and(|a| labels.letters[a.index()].is_some())
        };
        // The search tree: each step (node, argument position in it, parent
        // step), so that a path is read back by following parents.
        struct Step {
            node: NodeId,
            position: usize,
            parent: Option<usize>,
            /// Named values on the path from the parameter up to here.
            factors: usize,
            /// The nearest shared product on the way, as a step.
            shared: Option<usize>,
        }
        let mut steps = vec![Step {
            node: param,
            position: 0,
            parent: None,
            factors: 0,
            shared: None,
        }];
        let mut stack = vec![0usize];
        let mut ends: Vec<usize> = Vec::new();
        while let Some(i) = stack.pop() {
            if steps.len() > STEPS || ends.len() > MOST {
                return None;
            }
            let (node, factors, shared) = (steps[i].node, steps[i].factors, steps[i].shared);
            if node == g.sample_loss {
                ends.push(i);
                continue;
            }
            if let Some(s) = shared.filter(|_| factors >= LONGEST_CHAIN) {
                ends.push(s);
                continue;
            }
            for &(u, k) in &self.users[node.index()] {
                if !self.reach[u.index()] || !matches!(g.node(u).role, Role::Forward { .. }) {
                    continue;
                }
                let named = labels.equations[u.index()] || u == g.sample_loss;
                let next = steps.len();
                steps.push(Step {
                    node: u,
                    position: k,
                    parent: Some(i),
                    factors: factors + usize::from(named),
                    shared: match shared {
                        None if labels.equations[u.index()] && lettered(u) => Some(next),
                        s => s,
                    },
                });
                stack.push(next);
            }
        }
        // Several paths cut at the same shared product are one chain.
        ends.sort_unstable();
        ends.dedup();
        if ends.is_empty() || ends.len() > MOST {
            return None;
        }
        let cut = ends.iter().any(|&end| steps[end].node != g.sample_loss);
        // Each path from its top (the loss, or the shared product) down to
        // the parameter: the nodes, and the argument positions taken.
        let mut paths: Vec<(Vec<usize>, Vec<NodeId>)> = ends
            .iter()
            .map(|&end| {
                let mut positions = Vec::new();
                let mut nodes = Vec::new();
                if steps[end].node != g.sample_loss {
                    nodes.push(g.sample_loss);
                }
                let mut at = Some(end);
                while let Some(i) = at {
                    let step = &steps[i];
                    let node = step.node;
                    if node == param || node == g.sample_loss || labels.equations[node.index()] {
                        nodes.push(node);
                    }
                    if step.parent.is_some() {
                        positions.push(step.position);
                    }
                    at = step.parent;
                }
                positions.reverse();
                (positions, nodes)
            })
            .collect();
        // Loss side first, and where a node reads the parameter through
        // several arguments, the last argument first.
        paths.sort_by(|a, b| b.0.cmp(&a.0));
        let name = |id: NodeId| {
            if id == g.sample_loss {
                nt.pick_ell()
            } else {
                nt.name(&labels.names[id.index()])
            }
        };
        let dot = match nt {
            Notation::Unicode => " · ",
            Notation::Latex => r" \cdot ",
        };
        let products: Vec<String> = paths
            .iter()
            .map(|(_, path)| {
                path.windows(2)
                    .map(|w| nt.partial(&name(w[0]), &name(w[1])))
                    .collect::<Vec<_>>()
                    .join(dot)
            })
            .collect();
        // Paths through different unnamed values read the same: one each.
        let mut products = products;
        products.sort();
        products.dedup();
        Some((products.join(" + "), cut))
    }
}
