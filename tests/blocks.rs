//! Blocks are written out where they are called: a network that calls blocks
//! compiles to the same code as the network written out by hand, with each
//! call's parameters named after its binding.

use denpa::Network;

denpa_macros::net!("tests/fixtures/pass/blocks_nested.nn");

const WITH_BLOCKS: &str = "
/// A layer.
block layer(x, n) {
    h = relu(dense(x, n))
    return h
}

block pair(x, n) {
    a = layer(x, n)
    b = layer(a, n)
    return a + b
}

network Same {
    input x: [4]
    target t: [3]
    l1 = layer(x, 8)
    p = pair(l1, 6)
    output y = softmax(dense(p, 3))
    loss = cross_entropy(y, t)
    train adam(lr = 0.01)
}
";

const BY_HAND: &str = "
network Same {
    input x: [4]
    target t: [3]
    l1_h = relu(dense(x, 8))
    l1 = l1_h
    p_a_h = relu(dense(l1, 6))
    p_a = p_a_h
    p_b_h = relu(dense(p_a, 6))
    p_b = p_b_h
    p = p_a + p_b
    output y = softmax(dense(p, 3))
    loss = cross_entropy(y, t)
    train adam(lr = 0.01)
}
";

/// The generated Rust without the `SOURCE` constant (the text differs).
fn expanded(source: &str) -> String {
    denpa::expand(source, None)
        .unwrap_or_else(|d| panic!("{}", d.render("test.nn", source, false)))
        .lines()
        .filter(|line| !line.contains("pub const SOURCE"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_network_with_blocks_compiles_to_the_network_written_out() {
    let with_blocks = expanded(WITH_BLOCKS);
    let by_hand = expanded(BY_HAND);
    assert!(with_blocks.contains("pub p_b_h_w:"), "{with_blocks}");
    assert_eq!(with_blocks, by_hand);
}

#[test]
fn every_call_has_its_own_parameters_named_after_its_binding() {
    let net = Blocks::new();
    let names: Vec<&str> = net.parameters().iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        ["l1_h_w", "l1_h_b", "p_a_h_w", "p_a_h_b", "p_b_h_w", "p_b_h_b", "y_w", "y_b"]
    );
    let shapes: Vec<Vec<usize>> = net
        .parameters()
        .iter()
        .map(|(_, p)| p.shape().to_vec())
        .collect();
    assert_eq!(shapes[0], [4, 8]);
    assert_eq!(shapes[2], [8, 6]);
    assert_eq!(shapes[4], [6, 6]);
}

#[test]
fn a_block_that_is_never_called_changes_nothing() {
    let unused = format!("block unused(x) {{\n    return relu(x)\n}}\n{BY_HAND}");
    assert_eq!(expanded(&unused), expanded(BY_HAND));
}

#[test]
fn deep_and_wide_calls_are_refused_not_overflowed() {
    // Each block calls the one before twice: 2^40 statements written out.
    let mut source = String::from("block b0(x) {\n    return relu(x)\n}\n");
    for i in 1..=40 {
        source.push_str(&format!(
            "block b{i}(x) {{\n    l = b{}(x)\n    r = b{}(l)\n    return r\n}}\n",
            i - 1,
            i - 1
        ));
    }
    source.push_str(
        "network Huge {\n    input x: [2]\n    target t: [2]\n    output y = b40(x)\n    loss = sse(y, t)\n}\n",
    );
    let errors = denpa::check_source(&source).expect_err("too many statements");
    let text = errors.render("huge.nn", &source, false);
    assert!(text.contains("more than"), "{text}");
}
