//! Every command, in every output format, on every fixture (pass, warn and
//! fail) and example: it exits 0 with output that is well-formed for its
//! format, or non-zero with a diagnostic, never with nothing. A file that
//! compiles is shown by every command, each of its networks in turn (a
//! drawing of several needs `--network` or `-o DIR`, and says so); a file
//! that does not is refused by every command, with its errors.

use std::path::{Path, PathBuf};
use std::process::Output;

use denpa::explain::Format;
use denpa::View;

mod common;

/// How a command's output is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A view of each network (`expand`, `explain`, `summary`, `graph`).
    Show(View),
    /// `check`, rendered like rustc.
    Human,
    /// `check --message-format json`.
    Json,
}

/// Every command with every output format.
const COMMANDS: [(&[&str], Kind); 8] = [
    (&["expand"], Kind::Show(View::Rust)),
    (
        &["explain", "--format", "text"],
        Kind::Show(View::Explain(Format::Text)),
    ),
    (
        &["explain", "--format", "markdown"],
        Kind::Show(View::Explain(Format::Markdown)),
    ),
    (&["summary"], Kind::Show(View::Summary)),
    (&["graph", "--format", "dot"], Kind::Show(View::Dot)),
    (&["graph", "--format", "svg"], Kind::Show(View::Svg)),
    (&["check", "--message-format", "human"], Kind::Human),
    (&["check", "--message-format", "json"], Kind::Json),
];

/// The `.nn` files of a directory of the crate, sorted.
fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .nn files in {dir}");
    files
}

/// The networks of a file when it compiles, as the library sees them.
fn networks(file: &Path) -> Option<Vec<String>> {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let text = denpa::source_text(&bytes).ok()?;
    let (outputs, _) = denpa::compile(text).ok()?;
    Some(outputs.into_iter().map(|o| o.name).collect())
}

fn run(args: &[&str]) -> (Output, String, String) {
    let out = common::run(args);
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8 on stdout");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Runs every command on every file of `dir` and checks what it gives.
fn every_command_on(dir: &str, expect: Expect) {
    let mut runs = 0;
    for file in files(dir) {
        let networks = networks(&file);
        match (expect, &networks) {
            (Expect::Fails, Some(_)) => panic!("{} compiles", file.display()),
            (Expect::Fails, None) => {}
            (_, None) => panic!("{} does not compile", file.display()),
            _ => {}
        }
        for (args, kind) in COMMANDS {
            let path = file.to_str().unwrap();
            let mut all = args.to_vec();
            all.push(path);
            let (out, stdout, stderr) = run(&all);
            let what = format!("`denpa {}`", all.join(" "));
            let code = out.status.code();
            assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
            runs += 1;
            let Some(names) = &networks else {
                refused(&what, code, &stdout, &stderr, kind, 1);
                continue;
            };
            let printed = match kind {
                Kind::Show(view) if names.len() > 1 && !view.holds_several() => {
                    refused(&what, code, &stdout, &stderr, kind, 2);
                    for name in names {
                        assert!(
                            stderr.contains(&format!("`--network {name}`")),
                            "{what} does not name `{name}`:\n{stderr}"
                        );
                    }
                    assert!(stderr.contains("-o DIR"), "{what}:\n{stderr}");
                    let mut each = Vec::new();
                    for name in names {
                        let mut one = all.clone();
                        one.splice(1..1, ["--network", name.as_str()]);
                        let (out, stdout, stderr) = run(&one);
                        assert_eq!(out.status.code(), Some(0), "{what}:\n{stderr}");
                        shown(&what, &stdout, view, std::slice::from_ref(name));
                        each.push(stdout);
                        runs += 1;
                    }
                    each.join("\n")
                }
                _ => {
                    assert_eq!(code, Some(0), "{what}:\n{stderr}");
                    match kind {
                        Kind::Show(view) => shown(&what, &stdout, view, names),
                        Kind::Human => {
                            assert!(stdout.is_empty(), "{what} printed {stdout}");
                            assert!(!stderr.contains("error:"), "{what}:\n{stderr}");
                            if expect == Expect::Warns {
                                assert!(stderr.contains("warning: "), "{what}: no warning");
                            }
                        }
                        Kind::Json => {
                            let levels = json_levels(&what, &stdout);
                            assert!(levels.iter().all(|l| l == "warning"), "{what}: {levels:?}");
                            if expect == Expect::Warns {
                                assert!(!levels.is_empty(), "{what}: no warning");
                            }
                        }
                    }
                    stdout
                }
            };
            if let Kind::Show(view) = kind {
                runs += each_into_its_own_file(&all, view, names, &printed);
            }
        }
    }
    eprintln!("{dir}: {runs} runs");
}

/// What the files of a directory do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Compile with warnings.
    Warns,
    /// Compile, with or without warnings.
    Compiles,
    /// Have errors.
    Fails,
}

/// A refusal: the exit status `status`, nothing on stdout but a JSON
/// diagnostic, and an error that says why.
fn refused(what: &str, code: Option<i32>, stdout: &str, stderr: &str, kind: Kind, status: i32) {
    assert_eq!(code, Some(status), "{what}:\n{stderr}");
    if kind == Kind::Json {
        let levels = json_levels(what, stdout);
        assert!(levels.iter().any(|l| l == "error"), "{what}: {levels:?}");
    } else {
        assert!(
            stdout.is_empty(),
            "{what} printed output and failed:\n{stdout}"
        );
        assert!(
            stderr.starts_with("error") && stderr.trim().len() > "error:".len(),
            "{what} gave no diagnostic:\n{stderr}"
        );
    }
}

/// The level of each JSON message; every line must be one object.
fn json_levels(what: &str, stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| {
            let message: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
            assert_eq!(message["reason"], "diagnostic", "{what}: {line}");
            assert!(message["rendered"].as_str().is_some_and(|r| !r.is_empty()));
            message["level"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Output of `view` that is well-formed for its format and shows each of
/// `names`, in order.
fn shown(what: &str, text: &str, view: View, names: &[String]) {
    assert!(!text.trim().is_empty(), "{what} printed nothing");
    // What starts a network's part of the output.
    let generated = |line: &str, name: &str| {
        line == format!("// @generated by denpa from network `{name}`. Do not edit.")
    };
    let heading = |line: &str, name: &str| {
        !line.starts_with(char::is_whitespace)
            && line
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == name)
    };
    let is_heading: &dyn Fn(&str, &str) -> bool = match view {
        View::Rust => {
            syn::parse_file(text).unwrap_or_else(|e| panic!("{what}: not Rust: {e}"));
            &generated
        }
        View::Explain(Format::Text) | View::Summary => &heading,
        View::Explain(Format::Markdown) => {
            assert_eq!(text.matches("$$").count() % 2, 0, "{what}: an open $$");
            &|line: &str, name: &str| line.starts_with('#') && heading(line, name)
        }
        View::Dot => {
            assert_eq!(names.len(), 1, "{what}: one graph");
            assert_eq!(text.matches("digraph ").count(), 1, "{what}: one graph");
            assert!(text.ends_with("}\n"), "{what}: the graph is not closed");
            layout::gv::DotParser::new(text)
                .process()
                .unwrap_or_else(|e| panic!("{what}: not DOT: {e}"));
            &|line: &str, name: &str| line.starts_with("digraph ") && heading(line, name)
        }
        View::Svg => {
            assert_eq!(names.len(), 1, "{what}: one drawing");
            let doc =
                roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{what}: not XML: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg", "{what}");
            assert!(
                doc.descendants().any(|n| n.has_tag_name("text")),
                "{what}: an SVG without labels"
            );
            return;
        }
    };
    // Each network's heading starts a line, in file order.
    let mut lines = text.lines();
    for name in names {
        assert!(
            lines.any(|line| is_heading(line, name)),
            "{what}: no heading for `{name}` in its place:\n{text}"
        );
    }
}

/// With `-o DIR`, one file per network, named by [`View::file_name`]: the
/// documents that were `printed` one after another (a blank line between
/// them). Returns how many runs it made.
fn each_into_its_own_file(args: &[&str], view: View, names: &[String], printed: &str) -> usize {
    let dir = std::env::temp_dir().join(format!(
        "denpa-commands-{}-{}",
        std::process::id(),
        args.join("-").replace(['/', '.'], "_")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut with_dir = args.to_vec();
    let path = dir.to_str().unwrap();
    with_dir.splice(1..1, ["-o", path]);
    let what = format!("`denpa {}`", with_dir.join(" "));
    let (out, stdout, stderr) = run(&with_dir);
    assert_eq!(out.status.code(), Some(0), "{what}:\n{stderr}");
    assert!(stdout.is_empty(), "{what} printed {stdout}");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = names.iter().map(|n| view.file_name(n)).collect();
    expected.sort();
    assert_eq!(written, expected, "{what}");
    let mut texts = Vec::new();
    for name in names {
        let file = dir.join(view.file_name(name));
        let text = std::fs::read_to_string(&file).unwrap();
        shown(&what, &text, view, std::slice::from_ref(name));
        assert!(
            stderr.contains(&format!("wrote {}", file.display())),
            "{what}:\n{stderr}"
        );
        texts.push(text);
    }
    assert_eq!(
        texts.join("\n"),
        printed,
        "{what}: the files are not what it prints"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    1
}

#[test]
fn every_command_on_every_pass_fixture() {
    // Pass fixtures may warn (a perceptron through `step` does not learn).
    every_command_on("tests/fixtures/pass", Expect::Compiles);
}

#[test]
fn every_command_on_every_warn_fixture() {
    every_command_on("tests/fixtures/warn", Expect::Warns);
}

#[test]
fn every_command_on_every_fail_fixture() {
    every_command_on("tests/fixtures/fail", Expect::Fails);
}

#[test]
fn every_command_on_every_example() {
    // Examples may warn (the AND gate does not learn); each compiles.
    for file in files("examples") {
        assert!(networks(&file).is_some(), "{}", file.display());
    }
    every_command_on("examples", Expect::Compiles);
}
