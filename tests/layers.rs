//! The library's modules import only downwards along the pipeline of
//! ARCHITECTURE.md: every `crate::…` path in `src/` (in `use` lines and written
//! inline) names a module of a lower layer or the file's own module. Siblings
//! of one layer (`codegen` and `explain`; `runtime` and the vocabulary) do not
//! import each other, so no two modules lean on each other.
//!
//! The paths are read from the token stream of each file, so comments and
//! strings do not count; `super::…` stays inside the file's own module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The layers, lowest first. A module may import its own layer's module
/// only (itself) and any module of a lower layer.
const LAYERS: &[&[&str]] = &[
    // What everything may use: spans and messages, the error of generated
    // code, the language's vocabulary (types, losses, elementwise functions).
    &["diagnostics", "error", "lang"],
    // What generated code and training programs call.
    &["runtime"],
    &["data"],
    // The compiler's pipeline.
    &["syntax"],
    &["check"],
    &["ir"],
    &["lints"],
    &["autodiff"],
    &["optimize"],
    // The back ends: Rust, the explanations and drawings, ONNX.
    &["codegen", "explain", "onnx", "evaluate"],
    // The entry points that join them: the library's root, and the
    // build-script path, the language server and the page that call it.
    &["lib"],
    &["build", "lsp", "page"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a file of `src/` belongs to (`lib` for `src/lib.rs`).
fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a file");
    let first = first.as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::NAME` in a token stream, with its line: `crate::a::b`,
/// `crate::{a, b::c}` and `use crate::a as b` alike.
fn crate_paths(tokens: TokenStream, found: &mut Vec<(String, usize)>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => crate_paths(group.stream(), found),
            TokenTree::Ident(ident) if ident == "crate" => {
                let is_path = matches!(
                    (trees.get(i + 1), trees.get(i + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                        if a.as_char() == ':' && b.as_char() == ':'
                );
                if !is_path {
                    continue; // `pub(crate)`
                }
                let line = ident.span().start().line;
                match trees.get(i + 3) {
                    Some(TokenTree::Ident(name)) => found.push((name.to_string(), line)),
                    Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                        // `crate::{a, b::c}`: the first name of each part.
                        let mut at_start = true;
                        for t in group.stream() {
                            match t {
                                TokenTree::Ident(name) if at_start => {
                                    found.push((name.to_string(), line));
                                    at_start = false;
                                }
                                TokenTree::Punct(p) if p.as_char() == ',' => at_start = true,
                                _ => at_start = false,
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// Items defined at the crate root (in `src/lib.rs`) belong to the `lib` layer.
fn root_item(name: &str, modules: &BTreeSet<String>) -> String {
    if modules.contains(name) {
        name.to_string()
    } else {
        "lib".to_string()
    }
}

#[test]
fn every_import_runs_down_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f, &src))
        .filter(|m| m != "bin" && m != "lib")
        .collect();
    for module in &modules {
        assert!(
            layer(module).is_some(),
            "src/{module} is in no layer of this test: add it where it belongs in the pipeline"
        );
    }

    let mut wrong = Vec::new();
    for file in &files {
        let from = module_of(file, &src);
        if from == "bin" {
            continue; // the command-line tool is above everything
        }
        let text = std::fs::read_to_string(file).expect("readable");
        let tokens = TokenStream::from_str(&text).expect("the file tokenizes");
        let mut found = Vec::new();
        crate_paths(tokens, &mut found);
        let from_layer = layer(&from).expect("checked above");
        for (name, line) in found {
            let to = root_item(&name, &modules);
            let to_layer = layer(&to).expect("a module of src");
            if to != from && to_layer >= from_layer {
                wrong.push(format!(
                    "{}:{line}: `{from}` imports `crate::{name}` ({})",
                    file.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                        .unwrap()
                        .display(),
                    if to_layer == from_layer {
                        "a sibling of the same layer"
                    } else {
                        "a higher layer"
                    }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up the pipeline or across it:\n{}",
        wrong.join("\n")
    );
}

/// The most lines a file of `src/` has: a file holds one decision, and its
/// module doc says which. A file that must be longer (one exhaustive match
/// or table that reads better whole) is listed here with the reason.
const MOST_LINES: usize = 700;
const LONGER: &[(&str, &str)] = &[(
    "src/onnx/proto.rs",
    "prost-build's output for ONNX's onnx.proto, committed as generated (tests/onnx_proto.rs)",
)];

#[test]
fn no_file_holds_more_than_one_room() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("macros").join("src"), &mut files);
    let mut long = Vec::new();
    for file in &files {
        let path = file.strip_prefix(root).unwrap().display().to_string();
        let lines = std::fs::read_to_string(file)
            .expect("readable")
            .lines()
            .count();
        if lines > MOST_LINES && !LONGER.iter().any(|(p, _)| *p == path) {
            long.push(format!("{path}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MOST_LINES} lines: split them by what each part decides, \
         or list them in LONGER with the reason\n{}",
        long.join("\n")
    );
}
