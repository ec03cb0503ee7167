//! The chain-rule products that several gradients need are computed once.

use denpa::ir::{Graph, Op, Role};

const TWO_LAYER: &str = "
network TwoLayer {
    input  x: [4]
    target t: [3]
    param W1: [4, 5]
    param b1: [5]
    param W2: [5, 3]
    param b2: [3]
    h = sigmoid(x @ W1 + b1)
    output y = softmax(h @ W2 + b2)
    loss = cross_entropy(y, t)
}";

fn graph(source: &str) -> Graph {
    denpa::graphs(source).unwrap().remove(0)
}

fn is_backward(g: &Graph, i: usize) -> bool {
    !matches!(g.nodes[i].role, Role::Forward { .. })
}

#[test]
fn the_backward_pass_has_one_matrix_product_per_gradient_and_delta() {
    let g = graph(TWO_LAYER);
    let forward = (0..g.nodes.len())
        .filter(|&i| !is_backward(&g, i) && matches!(g.nodes[i].op, Op::MatMul { .. }));
    let backward = (0..g.nodes.len())
        .filter(|&i| is_backward(&g, i) && matches!(g.nodes[i].op, Op::MatMul { .. }));
    // x·W1 and h·W2 forward; hᵀ·δ2 (∂E/∂W2), δ2·W2ᵀ (δ for h), xᵀ·δ1 (∂E/∂W1)
    // backward, and no product for ∂E/∂x: nothing needs it.
    assert_eq!(forward.count(), 2, "{g}");
    assert_eq!(backward.count(), 3, "{g}");
}

#[test]
fn each_value_has_one_adjoint_and_each_delta_is_computed_once() {
    let g = graph(TWO_LAYER);
    let mut adjoints = vec![0; g.nodes.len()];
    for n in &g.nodes {
        if let Role::Adjoint(of) = n.role {
            adjoints[of.index()] += 1;
        }
    }
    assert!(adjoints.iter().all(|&n| n <= 1), "{g}");
    // The delta of the output layer (∂ℓ/∂z2) feeds ∂E/∂W2, ∂E/∂b2 and the
    // delta of h: one node, three users.
    let z2 = g
        .nodes
        .iter()
        .position(|n| n.hint.as_deref() == Some("z_y"))
        .expect("z_y");
    let delta2 = g
        .nodes
        .iter()
        .position(|n| n.role == Role::Adjoint(denpa::ir::NodeId(z2 as u32)))
        .expect("δ2");
    let users = g
        .nodes
        .iter()
        .filter(|n| n.args.iter().any(|a| a.index() == delta2))
        .count();
    assert_eq!(users, 3, "{g}");
    // No adjoint for the input or the target.
    for (i, n) in g.nodes.iter().enumerate() {
        if matches!(n.op, Op::Input(_) | Op::Target(_)) {
            assert_eq!(adjoints[i], 0);
        }
    }
}

#[test]
fn the_fused_cross_entropy_reuses_the_forward_softmax() {
    let g = graph(TWO_LAYER);
    let softmaxes = g.nodes.iter().filter(|n| n.op == Op::Softmax).count();
    assert_eq!(softmaxes, 1, "{g}");
    assert!(
        g.nodes.iter().any(|n| n.op == Op::SoftmaxCrossEntropy),
        "{g}"
    );
    assert!(!g.nodes.iter().any(|n| matches!(n.op, Op::Loss(_))), "{g}");
}

#[test]
fn the_emitted_gradients_compute_each_delta_once() {
    let (outputs, _) = denpa::compile(TWO_LAYER).unwrap();
    let code = outputs[0].tokens.to_string();
    let gradients = code
        .split("fn gradients")
        .nth(1)
        .unwrap()
        .split("fn train_step")
        .next()
        .unwrap();
    assert_eq!(gradients.matches(". dot (").count(), 5, "{gradients}");
    assert_eq!(gradients.matches("let delta_z_y =").count(), 1);
    assert_eq!(gradients.matches("let delta_z_h =").count(), 1);
}

#[test]
fn identical_expressions_are_computed_once() {
    let source = "
network Twice {
    input x: [2]
    target t: [2]
    param W: [2, 2]
    a = sigmoid(x @ W)
    b = sigmoid(x @ W)
    output y = a + b
    loss = sse(y, t)
}";
    let g = graph(source);
    let matmuls = g
        .nodes
        .iter()
        .filter(|n| {
            n.op == Op::MatMul {
                ta: false,
                tb: false,
            } && !matches!(n.role, Role::Adjoint(_))
        })
        .count();
    let sigmoids = g
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::Map(_)))
        .count();
    assert_eq!(sigmoids, 1, "{g}");
    assert!(matmuls <= 2, "{g}");
}
