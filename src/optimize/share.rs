//! Shared products: structurally identical nodes become one.
//!
//! Two nodes with the same op, the same (already shared) arguments and the
//! same type compute the same value; every use of the later one is pointed at
//! the earlier. Sound because ops are pure. `sigmoid(x @ W1 + b1)` written
//! twice is computed once; `softmax(z)` needed by the fused cross-entropy's
//! derivative is the forward `y = softmax(z)`.
//!
//! After this pass no two live nodes have equal (op, args, type).

use std::collections::BTreeMap;

use crate::ir::{Graph, NodeId, Role};

/// Merges identical nodes.
pub fn share(mut g: Graph) -> Graph {
    let mut seen: BTreeMap<String, NodeId> = BTreeMap::new();
    let mut replace: Vec<NodeId> = g.ids().collect();
    for id in g.ids() {
        let node = &mut g.nodes[id.index()];
        for a in node.args.iter_mut() {
            *a = replace[a.index()];
        }
        let key = format!("{:?} {:?} {:?}", node.op, node.args, node.ty);
        match seen.get(&key) {
            Some(&first) => {
                replace[id.index()] = first;
                let dup = g.nodes[id.index()].clone();
                let keep = &mut g.nodes[first.index()];
                if keep.name.is_none() {
                    keep.name = dup.name;
                }
                if keep.hint.is_none() {
                    keep.hint = dup.hint;
                }
                if keep.role == Role::Backward {
                    keep.role = dup.role;
                }
            }
            None => {
                seen.insert(key, id);
            }
        }
    }
    let r = |id: NodeId| replace[id.index()];
    for o in &mut g.outputs {
        o.1 = r(o.1);
    }
    g.loss = r(g.loss);
    g.sample_loss = r(g.sample_loss);
    g.adjoints = g.adjoints.iter().map(|(v, d)| (r(*v), r(*d))).collect();
    for gr in &mut g.gradients {
        *gr = r(*gr);
    }
    g
}
