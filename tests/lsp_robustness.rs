//! No request takes `denpa lsp` down: 2,000 mutated documents (fixtures with
//! bytes cut, tokens inserted, slices repeated, the end cut off), each sent
//! as a change and then asked every kind of request at a random position,
//! some past the end. A handler that panicked would answer with an error
//! (the server catches it); every answer must be a result. Each mutated
//! file that parses also formats to a text that formatting leaves alone.

#[path = "lsp/client.rs"]
#[allow(dead_code)]
mod client;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

/// What a mutation inserts: the language's punctuation and keywords, and
/// what it does not have (multi-byte characters, half numbers, comments).
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "@",
    "-",
    "..",
    ":",
    ";",
    "in",
    "network",
    "block",
    "return",
    "param",
    "input",
    "output",
    "loss",
    "train",
    "dtype",
    "x",
    "0",
    "1e",
    ".5",
    "dense(",
    "sum(x, axis = ",
    "//",
    "/*",
    "///",
    "\n",
    "é",
    "→",
    "\t",
    "𝔁",
    "0..",
    "[16] in",
];

/// The corpus: every `.nn` fixture and example that is UTF-8 text.
fn corpus() -> Vec<String> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in [
        "tests/fixtures/pass",
        "tests/fixtures/fail",
        "tests/fixtures/warn",
        "examples",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "nn"))
            .collect();
        paths.sort();
        texts.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    }
    texts
}

/// The nearest character boundary at or before `i`.
fn boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(text: &str, mutations: &[(u8, Index, Index, usize)]) -> String {
    let mut text = text.to_string();
    for &(kind, at, len, token) in mutations {
        let start = boundary(&text, at.index(text.len() + 1));
        let end = boundary(&text, start + len.index(24));
        match kind {
            0 => text.replace_range(start..end, ""),
            1 => text.insert_str(start, TOKENS[token % TOKENS.len()]),
            2 => {
                let slice = text[start..end].to_string();
                text.insert_str(end, &slice);
            }
            _ => text.truncate(start),
        }
    }
    text
}

#[test]
fn no_mutated_document_crashes_any_request() {
    let corpus = corpus();
    assert!(corpus.len() > 150);
    let mut server = client::Client::start();
    let url = client::uri("mutated.nn");
    server.open(&url, "");
    let config = Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[25; 32]));
    let strategy = (
        any::<Index>(),
        prop::collection::vec(
            (0u8..4, any::<Index>(), any::<Index>(), any::<usize>()),
            1..4,
        ),
        prop::collection::vec((0u32..80, 0u32..120), 6),
    );
    let version = std::cell::Cell::new(1);
    let client = std::cell::RefCell::new(&mut server);
    runner
        .run(&strategy, |(file, mutations, positions)| {
            let text = mutate(&corpus[file.index(corpus.len())], &mutations);
            // Formatting a mutated file that still parses is idempotent too.
            if let Ok(once) = denpa::syntax::format(&text) {
                let twice = denpa::syntax::format(&once);
                prop_assert_eq!(twice.as_ref().ok(), Some(&once), "{}", text);
            }
            let mut client = client.borrow_mut();
            version.set(version.get() + 1);
            client.change(&url, version.get(), &text);
            let methods = [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/references",
                "textDocument/completion",
            ];
            for (method, (line, character)) in methods.iter().zip(&positions) {
                client.at(method, &url, *line, *character);
            }
            // A rename may be refused (the name at the position cannot be
            // renamed, or the new name would add an error), never crash.
            let (line, character) = positions[5];
            let position = json!({
                "textDocument": { "uri": url },
                "position": { "line": line, "character": character },
            });
            let mut rename = position.clone();
            rename["newName"] = json!("renamed");
            for (method, params) in [
                ("textDocument/prepareRename", position),
                ("textDocument/rename", rename),
            ] {
                if let Err(e) = client.request_raw(method, params).response_result {
                    assert_eq!(
                        e.code,
                        lsp_server::ErrorCode::InvalidRequest as i32,
                        "{e:?}"
                    );
                }
            }
            let document = json!({ "textDocument": { "uri": url } });
            client.request("textDocument/documentSymbol", document.clone());
            let mut formatting = document;
            formatting["options"] = json!({ "tabSize": 4, "insertSpaces": true });
            client.request("textDocument/formatting", formatting);
            Ok(())
        })
        .unwrap();
    // The server is still there, and ends cleanly.
    server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": url } }),
    );
    server.shutdown();
}
