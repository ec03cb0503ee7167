//! `denpa lsp` in process: every feature, requested over
//! `Connection::memory()` as an editor requests it.

#[path = "lsp/client.rs"]
mod client;

use client::{find, uri, Client};
use serde_json::Value;

const XOR: &str = include_str!("../examples/xor.nn");
const GPT: &str = include_str!("../examples/names_gpt.nn");
const CNN: &str = include_str!("../examples/digits_cnn.nn");

/// A hover's Markdown text.
fn hover_text(client: &mut Client, url: &lsp_types::Url, (line, column): (u32, u32)) -> String {
    let hover = client.at("textDocument/hover", url, line, column);
    hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no hover at {line}:{column}: {hover}"))
        .to_string()
}

/// A location's line and column, for assertions.
fn start_of(location: &Value) -> (u64, u64) {
    let start = &location["range"]["start"];
    (
        start["line"].as_u64().unwrap(),
        start["character"].as_u64().unwrap(),
    )
}

#[test]
fn diagnostics_as_you_type_are_those_of_denpa_check() {
    let mut client = Client::start();
    let url = uri("xor.nn");
    assert!(client.open(&url, XOR).diagnostics.is_empty());
    // A half-written statement: the same error `denpa check` reports.
    let broken = XOR.replace("h = sigmoid(x @ W1 + b1)", "h = sigmoid(x @ W1 +");
    let published = client.change(&url, 2, &broken);
    assert_eq!(published.version, Some(2));
    let expected = denpa::check_source(&broken).unwrap_err();
    assert_eq!(published.diagnostics.len(), expected.iter().count());
    let first = &published.diagnostics[0];
    assert_eq!(first.severity, Some(lsp_types::DiagnosticSeverity::ERROR));
    assert!(first
        .message
        .starts_with(&expected.iter().next().unwrap().message));
    // A warning.
    let unused = XOR.replace("    h = sigmoid", "    param spare: [3]\n    h = sigmoid");
    let published = client.change(&url, 3, &unused);
    let warning = &published.diagnostics[0];
    assert_eq!(
        warning.severity,
        Some(lsp_types::DiagnosticSeverity::WARNING)
    );
    // Fixed: the diagnostics are cleared.
    assert!(client.change(&url, 4, XOR).diagnostics.is_empty());
    client.shutdown();
}

#[test]
fn a_block_error_is_also_shown_at_the_call_that_led_there() {
    let mut client = Client::start();
    let url = uri("block.nn");
    let text = include_str!("fixtures/fail/block_shape_error.nn");
    let published = client.open(&url, text);
    let at_calls: Vec<_> = published
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("in the block this call writes out"))
        .collect();
    assert_eq!(at_calls.len(), 2, "{:#?}", published.diagnostics);
    let call = find(text, "= add_bias(x)", 0, 2);
    assert_eq!(
        (
            at_calls[0].range.start.line,
            at_calls[0].range.start.character
        ),
        call
    );
    let main = published
        .diagnostics
        .iter()
        .find(|d| d.message.starts_with("shape mismatch") && !at_calls.contains(d))
        .unwrap();
    let related = main.related_information.as_ref().unwrap();
    assert!(related
        .iter()
        .any(|r| r.message.contains("in this call of the block `twice`")));
    assert!(main
        .message
        .contains("help: elementwise operations need equal shapes"));
    client.shutdown();
}

#[test]
fn hover_shows_shapes_counts_and_derived_gradients() {
    let mut client = Client::start();
    let url = uri("xor.nn");
    client.open(&url, XOR);
    let w1 = hover_text(&mut client, &url, find(XOR, "x @ W1", 0, 5));
    insta::assert_snapshot!("hover_xor_W1", w1);
    let h = hover_text(&mut client, &url, find(XOR, "h = sigmoid", 0, 0));
    insta::assert_snapshot!("hover_xor_h", h);
    assert!(h.contains("B = ∂ℓ/∂z_h = (A·W2ᵀ) ⊙ h(1 − h)"), "{h}");
    let x = hover_text(&mut client, &url, find(XOR, "x @ W1", 0, 0));
    assert!(x.starts_with("```denpa\ninput x: [2]\n```"), "{x}");
    let net = hover_text(&mut client, &url, find(XOR, "Xor", 0, 0));
    assert!(net.contains("13 parameters in 4 tensors"), "{net}");
    let sigmoid = hover_text(&mut client, &url, find(XOR, "sigmoid(h", 0, 0));
    assert!(
        sigmoid.contains("sigmoid(x)") && sigmoid.contains("σ′ = σ(1 − σ)"),
        "{sigmoid}"
    );
    let lr = hover_text(&mut client, &url, find(XOR, "lr = 0.5", 0, 0));
    assert!(lr.contains("argument `lr` of `sgd`"), "{lr}");
    // Between names: nothing.
    let (line, _) = find(XOR, "loss = sse", 0, 0);
    let blank = client.at("textDocument/hover", &url, line - 1, 0);
    assert!(blank.is_null(), "{blank}");
    client.shutdown();
}

#[test]
fn hover_in_a_gpt_shows_index_ranges_matrices_and_block_parameters() {
    let mut client = Client::start();
    let url = uri("names_gpt.nn");
    client.open(&url, GPT);
    let ctx = hover_text(&mut client, &url, find(GPT, "C[ctx]", 0, 2));
    assert!(
        ctx.starts_with("```denpa\ninput ctx: [16] in 0..27\n```"),
        "{ctx}"
    );
    let x = hover_text(&mut client, &url, find(GPT, "x = C[ctx]", 0, 0));
    assert!(x.starts_with("```denpa\nbinding x: [16, 64]\n```"), "{x}");
    let b1 = hover_text(&mut client, &url, find(GPT, "b1 = transformer", 0, 0));
    insta::assert_snapshot!("hover_gpt_b1", b1);
    let block = hover_text(&mut client, &url, find(GPT, "transformer(x, 64)", 0, 0));
    assert!(
        block.starts_with("```denpa\nblock transformer(x, d)\n```"),
        "{block}"
    );
    assert!(block.contains("- `b2` in `NamesGpt`: [16, 64]"), "{block}");
    let c = hover_text(&mut client, &url, find(GPT, "param  C", 0, 7));
    assert!(c.contains("1,728 parameters"), "{c}");
    assert!(c.contains("∂ℓ/∂C = Aᵀ·n + onehot(ctx)ᵀ·A36"), "{c}");
    let q = hover_text(&mut client, &url, find(GPT, "q = x @ Wq", 0, 0));
    assert!(q.starts_with("```denpa\nbinding q\n```"), "{q}");
    assert!(q.contains("- `b1_h1_q` in `NamesGpt`: [16, 16]"), "{q}");
    assert!(q.contains("- `b2_h4_q` in `NamesGpt`: [16, 16]"), "{q}");
    let g = hover_text(&mut client, &url, find(GPT, "param g", 0, 6));
    assert!(g.starts_with("```denpa\nparam g: [d]\n```"), "{g}");
    assert!(g.contains("- `b2_n2_g` in `NamesGpt`: [64]"), "{g}");
    let arg = hover_text(&mut client, &url, find(GPT, "block head(x, d, k)", 0, 17));
    assert!(arg.contains("argument of the block `head`"), "{arg}");
    client.shutdown();
}

#[test]
fn definitions_and_references_of_values_parameters_blocks_and_arguments() {
    let mut client = Client::start();
    let url = uri("digits_cnn.nn");
    client.open(&url, CNN);
    // A block's call → the block.
    let def = client.at(
        "textDocument/definition",
        &url,
        find(CNN, "conv_relu_pool(img", 0, 3).0,
        find(CNN, "conv_relu_pool(img", 0, 3).1,
    );
    assert_eq!(start_of(&def), {
        let (l, c) = find(CNN, "conv_relu_pool(x, k)", 0, 0);
        (u64::from(l), u64::from(c))
    });
    // A block argument used in the body → the argument.
    let (l, c) = find(CNN, "conv(x, k", 0, 8);
    let def = client.at("textDocument/definition", &url, l, c);
    let (dl, dc) = find(CNN, "conv_relu_pool(x, k)", 0, 18);
    assert_eq!(start_of(&def), (u64::from(dl), u64::from(dc)));
    // References of a value: its declaration and every use.
    let (l, c) = find(CNN, "b1 = conv_relu_pool", 0, 0);
    let refs = client.at("textDocument/references", &url, l, c);
    assert_eq!(refs.as_array().unwrap().len(), 2, "{refs}");
    client.shutdown();

    // A parameter that `dense` declares, used by name: defined at its call.
    let mut client = Client::start();
    let text = "network N {\n    input x: [2]\n    target t: [1]\n    h = tanh(dense(x, 3))\n    output y = dense(h, 1)\n    loss = sse(y, t) + 0.01 * sum(square(h_w))\n}\n";
    let url = uri("decay.nn");
    assert!(client.open(&url, text).diagnostics.is_empty());
    let (l, c) = find(text, "h_w", 0, 1);
    let def = client.at("textDocument/definition", &url, l, c);
    let (dl, dc) = find(text, "dense(x, 3)", 0, 0);
    assert_eq!(start_of(&def), (u64::from(dl), u64::from(dc)));
    let hover = hover_text(&mut client, &url, (l, c));
    assert!(
        hover.starts_with("```denpa\nparam h_w: [2, 3]\n```"),
        "{hover}"
    );
    assert!(
        hover.contains("The weights of the dense layer `h`."),
        "{hover}"
    );
    client.shutdown();
}

#[test]
fn the_outline_lists_networks_blocks_and_declarations() {
    let mut client = Client::start();
    let url = uri("digits_cnn.nn");
    client.open(&url, CNN);
    let symbols = client.request(
        "textDocument/documentSymbol",
        serde_json::json!({ "textDocument": { "uri": url } }),
    );
    let outline: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let children: Vec<String> = s["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        c["name"].as_str().unwrap(),
                        c["detail"].as_str().unwrap_or("")
                    )
                })
                .collect();
            format!("{}: {}", s["name"].as_str().unwrap(), children.join(", "))
        })
        .collect();
    insta::assert_snapshot!("outline_digits_cnn", outline.join("\n"));
    client.shutdown();
}

#[test]
fn completion_offers_keyword_arguments_names_built_ins_and_optimizers() {
    let mut client = Client::start();
    let url = uri("xor.nn");
    let text = XOR.replace(
        "    loss = sse(y, t)",
        "    s = sum(h, \n    loss = sse(y, t)",
    );
    client.open(&url, &text);
    let (l, c) = find(&text, "sum(h, ", 0, 7);
    let items = client.at("textDocument/completion", &url, l, c);
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels[..2], ["x =", "axis ="], "{labels:?}");
    for expected in [
        "W1", "h", "x", "relu", "conv", "normal", "adam", "param", "f64",
    ] {
        assert!(labels.contains(&expected), "{expected} in {labels:?}");
    }
    // The names of the other network are not in scope.
    assert!(!labels.contains(&"ctx"));
    client.shutdown();
}

#[test]
fn formatting_gives_the_layout_of_denpa_fmt() {
    let mut client = Client::start();
    let url = uri("messy.nn");
    let messy = "network M { input x: [2]; target t: [1]\n  output y = sigmoid(dense(x,1)) loss = sse(y,t) }\n";
    client.open(&url, messy);
    let edits = client.request(
        "textDocument/formatting",
        serde_json::json!({ "textDocument": { "uri": url }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        denpa::syntax::format(messy).unwrap()
    );
    // A document that does not parse is left alone.
    client.change(&url, 2, "network M { y = }");
    let none = client.request(
        "textDocument/formatting",
        serde_json::json!({ "textDocument": { "uri": url }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert!(none.is_null());
    client.shutdown();
}

#[test]
fn a_file_that_does_not_parse_keeps_its_symbols() {
    let mut client = Client::start();
    let url = uri("typing.nn");
    // Typing a new statement in the middle of the network.
    let text = XOR.replace(
        "    loss = sse(y, t)",
        "    z = sigmoid(h @\n    loss = sse(y, t)",
    );
    let published = client.open(&url, &text);
    assert!(!published.diagnostics.is_empty());
    let symbols = client.request(
        "textDocument/documentSymbol",
        serde_json::json!({ "textDocument": { "uri": url } }),
    );
    let children = symbols[0]["children"].as_array().unwrap();
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "t", "W1", "b1", "W2", "b2", "h", "y"]);
    let (l, c) = find(&text, "h @ W2", 0, 0);
    let def = client.at("textDocument/definition", &url, l, c);
    let (dl, dc) = find(&text, "h = sigmoid", 0, 0);
    assert_eq!(start_of(&def), (u64::from(dl), u64::from(dc)));
    // Its shapes and gradients too: the rest of the network checks.
    let w2 = hover_text(&mut client, &url, find(&text, "param W2", 0, 6));
    assert!(w2.contains("param W2: [3, 1]"), "{w2}");
    client.shutdown();
}

#[test]
fn unknown_requests_are_answered_with_an_error_and_the_server_goes_on() {
    let mut client = Client::start();
    let response = client.request_raw("textDocument/codeAction", serde_json::json!({}));
    assert_eq!(
        response.response_result.unwrap_err().code,
        lsp_server::ErrorCode::MethodNotFound as i32
    );
    let response = client.request_raw("textDocument/hover", serde_json::json!({ "nonsense": 1 }));
    assert_eq!(
        response.response_result.unwrap_err().code,
        lsp_server::ErrorCode::InvalidParams as i32
    );
    // A document never opened: no answer, no failure.
    let url = uri("never.nn");
    assert!(client.at("textDocument/hover", &url, 0, 0).is_null());
    client.shutdown();
}

#[test]
fn rename_changes_every_use_and_the_parameters_a_layer_names_after_its_binding() {
    let mut client = Client::start();
    let text = "network N {\n    input x: [2]\n    target t: [1]\n    h = tanh(dense(x, 3))\n    output y = dense(h, 1)\n    loss = sse(y, t) + 0.01 * sum(square(h_w))\n}\n";
    let url = uri("decay.nn");
    client.open(&url, text);
    let (l, c) = find(text, "h = tanh", 0, 0);
    let range = client.at("textDocument/prepareRename", &url, l, c);
    assert_eq!(range["start"]["character"], 4);
    let rename = |client: &mut Client, (l, c): (u32, u32), new: &str| {
        client.request_raw(
            "textDocument/rename",
            serde_json::json!({
                "textDocument": { "uri": url },
                "position": { "line": l, "character": c },
                "newName": new,
            }),
        )
    };
    let edit = rename(&mut client, (l, c), "hidden")
        .response_result
        .unwrap();
    let mut edits: Vec<(u64, u64, String)> = edit["changes"][url.as_str()]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["range"]["start"]["line"].as_u64().unwrap(),
                e["range"]["start"]["character"].as_u64().unwrap(),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort();
    assert_eq!(
        edits,
        [
            (3, 4, "hidden".to_string()),
            (4, 21, "hidden".to_string()),
            (5, 41, "hidden_w".to_string()),
        ]
    );
    // A keyword, a name taken, something that is not a name: refused with why.
    for (new, why) in [
        ("loss", "keyword"),
        ("x", "defined twice"),
        ("h w", "not a name"),
    ] {
        let refused = rename(&mut client, (l, c), new)
            .response_result
            .unwrap_err();
        assert!(refused.message.contains(why), "{new}: {}", refused.message);
    }
    // A layer's parameter is renamed through its binding.
    let (l, c) = find(text, "h_w", 0, 0);
    let refused = client
        .request_raw(
            "textDocument/prepareRename",
            serde_json::json!({ "textDocument": { "uri": url }, "position": { "line": l, "character": c } }),
        )
        .response_result
        .unwrap_err();
    assert!(
        refused.message.contains("rename that binding"),
        "{}",
        refused.message
    );
    client.shutdown();
}
