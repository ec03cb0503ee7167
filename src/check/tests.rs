//! Checker tests, written as data: a network body in, the messages out.

use crate::syntax::parse;

/// Checks `network N { BODY }` and returns every error message, in order.
fn errors(body: &str) -> Vec<String> {
    let source = format!("network N {{\n{body}\n}}");
    let file = parse(&source).unwrap_or_else(|d| panic!("parse error: {d}"));
    match super::check(&file) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect(),
    }
}

const OK: &str = "input x: [2]\ntarget t: [1]\nparam W: [2, 1]\noutput y = x @ W\nloss = sse(y, t)";

#[test]
fn a_correct_network_has_no_errors() {
    assert_eq!(errors(OK), Vec::<String>::new());
}

#[test]
fn each_mistake_gives_its_message() {
    let cases: &[(&str, &str)] = &[
        ("input x: [3]\ntarget t: [1]\nparam W: [2, 1]\noutput y = x @ W\nloss = sse(y, t)", "shape mismatch in `@`: [3] @ [2, 1]"),
        ("input x: [2]\ntarget t: [1]\noutput y = x @ V\nloss = sse(y, t)", "unknown name `V`"),
        ("input x: [2]\ninput x: [2]\ntarget t: [2]\noutput y = x\nloss = sse(y, t)", "the name `x` is defined twice"),
        ("input x: [2]\ntarget t: [2]\noutput y = z\nz = x\nloss = sse(y, t)", "`z` is used before it is defined"),
        ("input x: [2]\ntarget t: [2]\noutput y = sigmod(x)\nloss = sse(y, t)", "unknown function `sigmod`"),
        ("input x: [2]\ntarget t: [2]\noutput y = x\nloss = y", "the loss must be a scalar"),
        ("input x: [2]\ntarget t: [2]\noutput y = x", "the network `N` has no loss"),
        ("input x: [2]\ntarget t: [2]\nh = x\nloss = sse(h, t)", "the network `N` has no output"),
        ("input x: [2]\ntarget t: [2]\noutput y = x + t\nloss = sse(y, t)", "the output `y` depends on a target"),
        ("input x: [2]\ntarget t: [2]\nparam W: [2] = [1, 2, 3]\noutput y = x * W\nloss = sse(y, t)", "this array has 3 elements"),
        ("input x: [2]\ntarget t: [2]\nparam W: [2] = glorot\noutput y = x * W\nloss = sse(y, t)", "`glorot` initializes matrices"),
        ("input x: [0]\ntarget t: [0]\noutput y = x\nloss = sse(y, t)", "invalid dimension `0`"),
        ("input x: [99999999999]\ntarget t: [1]\noutput y = x\nloss = sse(y, t)", "invalid dimension `99999999999`"),
        ("input x: [2]\ntarget t: [3]\noutput y = x\nloss = sse(y, t)", "`sse` needs a prediction and a target of the same shape"),
        ("input x: [2]\ntarget t: [2]\noutput y = x\nloss = sse(y, t)\ntrain sgd()", "`sgd` needs the argument `lr`"),
        ("input x: [2]\ntarget t: [2]\noutput y = x\nloss = sse(y, t)\ntrain sgd(lr = 0.1, lr = 0.2)", "the argument `lr` is given twice"),
        ("input x: [2]\ntarget t: [2]\noutput y = leaky_relu(x, slop = 0.1)\nloss = sse(y, t)", "`leaky_relu` has no argument `slop`"),
        ("input x: [2]\ntarget t: [2]\noutput y = x\nloss = sse(y, t)\ndtype f16", "unknown dtype `f16`"),
        ("input type: [2]\ntarget t: [2]\noutput y = type\nloss = sse(y, t)", "`type` is a keyword and cannot name a value"),
        ("input x: [2]\ntarget t: [2]\noutput y = x + [1, 2]\nloss = sse(y, t)", "an array literal can only initialize a parameter"),
        ("input x: [2]\ntarget t: [2]\noutput y = x * 1e999\nloss = sse(y, t)", "the number `1e999` is too large"),
    ];
    for (body, message) in cases {
        let got = errors(body);
        assert!(
            got.iter().any(|m| m.starts_with(message)),
            "{body}\nexpected: {message}\ngot: {got:?}"
        );
    }
}

#[test]
fn every_error_of_a_network_is_reported_at_once() {
    let got = errors("input x: [2]\ntarget t: [2]\noutput y = a + b\nloss = sse(y, c)");
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn a_misspelt_loss_gets_a_suggestion() {
    // `los = ...` parses: it binds a value named `los`.
    let source = "network N { input x: [2] target t: [2] output y = x los = sse(y, t) }";
    let d = super::check(&parse(source).unwrap()).unwrap_err();
    let first = d.iter().next().unwrap();
    assert_eq!(first.message, "the network `N` has no loss");
    assert_eq!(
        first.help.as_deref(),
        Some("did you mean `loss`? write `loss = ...`, not `los = ...`")
    );
}

#[test]
fn a_misspelt_function_gets_a_suggestion() {
    let source = "network N { input x: [2] target t: [2] output y = sigmod(x) loss = sse(y, t) }";
    let d = super::check(&parse(source).unwrap()).unwrap_err();
    assert_eq!(
        d.iter().next().unwrap().help.as_deref(),
        Some("did you mean `sigmoid`?")
    );
}
