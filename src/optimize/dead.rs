//! Dead code: drops nodes that no output, loss or gradient needs.
//!
//! After this pass every node is used by a root or by another node, and the
//! arena is compact and still in topological order.

use crate::ir::{Graph, NodeId, Role};

/// Drops unused nodes and renumbers the rest.
pub fn dead(g: Graph) -> Graph {
    let mut roots = g.roots();
    roots.push(g.sample_loss);
    let live = g.live(&roots);
    let mut new_id = vec![NodeId(u32::MAX); g.nodes.len()];
    let mut nodes = Vec::new();
    for (i, node) in g.nodes.into_iter().enumerate() {
        if !live[i] {
            continue;
        }
        let mut node = node;
        for a in node.args.iter_mut() {
            *a = new_id[a.index()];
        }
        node.from = node
            .from
            .filter(|f| live[f.index()])
            .map(|f| new_id[f.index()]);
        if let Role::Adjoint(of) = node.role {
            node.role = if live[of.index()] {
                Role::Adjoint(new_id[of.index()])
            } else {
                Role::Backward
            };
        }
        new_id[i] = NodeId(nodes.len() as u32);
        nodes.push(node);
    }
    let r = |id: NodeId| new_id[id.index()];
    Graph {
        name: g.name,
        dtype: g.dtype,
        nodes,
        outputs: g.outputs.into_iter().map(|(n, id)| (n, r(id))).collect(),
        loss: r(g.loss),
        sample_loss: r(g.sample_loss),
        gradients: g.gradients.into_iter().map(r).collect(),
        adjoints: g
            .adjoints
            .into_iter()
            .filter(|(v, d)| live[v.index()] && live[d.index()])
            .map(|(v, d)| (r(v), r(d)))
            .collect(),
    }
}
