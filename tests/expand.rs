//! Snapshots of `denpa expand`: any change to the derivation or to emission
//! shows up as a readable diff of the generated code.

mod common;

fn expand(file: &str) -> String {
    common::stdout(&["expand", file])
}

#[test]
fn expand_xor() {
    insta::assert_snapshot!(expand("examples/xor.nn"));
}

#[test]
fn expand_and_gate() {
    insta::assert_snapshot!(expand("examples/and_gate.nn"));
}

#[test]
fn expand_is_what_the_macro_compiles() {
    // The printed code, without comments, is the macro's token stream.
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xor.nn")).unwrap();
    let (outputs, _) = denpa::compile(&source).unwrap();
    let tokens: syn::File = syn::parse2(outputs[0].tokens.clone()).unwrap();
    let printed = expand("examples/xor.nn");
    let without_comments: String = printed
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.starts_with("//") || l.starts_with("///")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        without_comments.trim(),
        prettyplease::unparse(&tokens).trim()
    );
}

/// Which pass fixtures' `train_step` takes the scalar form of tiny networks
/// (every value tiny): the list is reviewed like any snapshot, and each of
/// them is checked against the general form in `tests/fixtures.rs`
/// (`the_first_step_is_the_optimizers_formula`).
#[test]
fn the_fixtures_that_take_the_scalar_form() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pass");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let (outputs, _) = denpa::compile(&source).unwrap();
        for output in outputs {
            let form = if output.scalar_step {
                "scalar"
            } else {
                "general"
            };
            let file = file.file_name().unwrap().to_string_lossy();
            lines.push(format!("{form:8} {file}: {}", output.name));
        }
    }
    insta::assert_snapshot!(lines.join("\n"));
}
