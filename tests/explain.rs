//! What `denpa explain`, `graph` and `summary` show, and the numbers behind
//! the ledger.

mod common;

fn denpa(args: &[&str]) -> String {
    common::stdout(args)
}

#[test]
fn explain_xor_text() {
    insta::assert_snapshot!(denpa(&["explain", "examples/xor.nn"]));
}

#[test]
fn explain_xor_markdown() {
    insta::assert_snapshot!(denpa(&[
        "explain",
        "--format",
        "markdown",
        "examples/xor.nn"
    ]));
}

#[test]
fn explain_and_gate() {
    insta::assert_snapshot!(denpa(&["explain", "examples/and_gate.nn"]));
}

/// An embedding: the lookup's scatter-add (the MLP of the names ladder).
#[test]
fn explain_names_mlp() {
    insta::assert_snapshot!(denpa(&["explain", "examples/names_mlp.nn"]));
}

/// Batch normalization of a vector: the two sums over the batch and the
/// closed form they add up to.
#[test]
fn explain_batch_norm_vector() {
    insta::assert_snapshot!(denpa(&[
        "explain",
        "tests/fixtures/pass/batch_norm_vector.nn"
    ]));
}

/// Batch normalization of images: over the batch and the pixels.
#[test]
fn explain_batch_norm_images() {
    insta::assert_snapshot!(denpa(&[
        "explain",
        "tests/fixtures/pass/batch_norm_images.nn"
    ]));
}

/// The running statistics and what changes with the mode, in `summary`.
#[test]
fn summary_batch_norm() {
    insta::assert_snapshot!(denpa(&[
        "summary",
        "tests/fixtures/pass/batch_norm_vector.nn"
    ]));
}

/// Dropout's masks in the forward pass and the δ through them.
#[test]
fn explain_dropout() {
    insta::assert_snapshot!(denpa(&["explain", "tests/fixtures/pass/dropout.nn"]));
}

/// A table read one entry row per sample (the bigram model).
#[test]
fn explain_names_bigram() {
    insta::assert_snapshot!(denpa(&["explain", "examples/names_bigram.nn"]));
}

/// One attention head and a layer norm (the tutorial's chapter 7): the
/// four products, the row softmax's shared sum, the two row sums.
#[test]
fn explain_one_head() {
    insta::assert_snapshot!(denpa(&["explain", "docs/nets/one_head.nn"]));
}

#[test]
fn graph_xor_dot() {
    insta::assert_snapshot!(denpa(&["graph", "examples/xor.nn"]));
}

#[test]
fn summary_xor() {
    insta::assert_snapshot!(denpa(&["summary", "examples/xor.nn"]));
}

#[test]
fn graph_svg_is_well_formed_svg() {
    let svg = denpa(&["graph", "--format", "svg", "examples/xor.nn"]);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let texts: String = doc.descendants().filter_map(|n| n.text()).collect();
    for label in ["∂ℓ/∂z_h", "h = σ(z_h)", "W1 [2, 3]"] {
        assert!(texts.contains(label), "the SVG has no `{label}`");
    }
}

/// The textbook's 2-2-1 network, small enough to count by hand:
/// forward x·W1 (4) + h·W2 (2) = 6 multiplications;
/// backward A = (y − t) ⊙ y(1 − y) (2), ∂W2 = hᵀ·A (2), A·W2ᵀ (2),
/// B = (A·W2ᵀ) ⊙ h(1 − h) (4), ∂W1 = xᵀ·B (4) = 14;
/// each weight on its own: W2 2 × 3, b2 1 × 2, W1 4 × 6, b1 2 × 5 = 42.
#[test]
fn the_ledger_of_the_textbook_network() {
    let source = "network Xor {
        input  x: [2]
        target t: [1]
        param W1: [2, 2] = normal(0, 1)
        param b1: [2]    = zeros
        param W2: [2, 1] = normal(0, 1)
        param b2: [1]    = zeros
        h = sigmoid(x @ W1 + b1)
        output y = sigmoid(h @ W2 + b2)
        loss = sse(y, t)
        train sgd(lr = 0.5)
    }";
    let graph = denpa::graphs(source).unwrap().remove(0);
    let ledger = denpa::explain::ledger(&graph);
    assert_eq!(
        ledger,
        denpa::explain::Ledger {
            forward: 6,
            backward: 14,
            naive: 42
        }
    );
    let text = denpa::explain(source, None, denpa::explain::Format::Text).unwrap();
    assert!(
        text.contains("backpropagation saves 28 of 42 (67%)"),
        "{text}"
    );
    assert!(text.contains("A = ∂ℓ/∂z_y = (y − t) ⊙ y(1 − y)"), "{text}");
    assert!(text.contains("B = ∂ℓ/∂z_h = (A·W2ᵀ) ⊙ h(1 − h)"), "{text}");
    assert!(
        text.contains("∂ℓ/∂W1 = ∂ℓ/∂y · ∂y/∂z_y · ∂z_y/∂h · ∂h/∂z_h · ∂z_h/∂W1 = xᵀ·B"),
        "{text}"
    );
}

/// A deeper, wider network saves more.
#[test]
fn the_saving_grows_with_depth() {
    let shallow = "network S { input x: [8] target t: [4] h = sigmoid(dense(x, 8)) output y = sigmoid(dense(h, 4)) loss = sse(y, t) }";
    let deep = "network D { input x: [8] target t: [4] h1 = sigmoid(dense(x, 8)) h2 = sigmoid(dense(h1, 8)) h3 = sigmoid(dense(h2, 8)) output y = sigmoid(dense(h3, 4)) loss = sse(y, t) }";
    let ratio = |s: &str| {
        let l = denpa::explain::ledger(&denpa::graphs(s).unwrap()[0]);
        l.backward as f64 / l.naive as f64
    };
    assert!(ratio(deep) < ratio(shallow));
}
