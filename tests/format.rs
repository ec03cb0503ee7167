//! `denpa fmt`'s layout: idempotent, every token and comment kept, and the
//! formatted file compiles to the same Rust (apart from `SOURCE`, which holds
//! the formatted text), over every file of the repository that parses.

use std::path::PathBuf;

/// Every `.nn` file of the repository's fixtures, examples, docs and benches.
fn nn_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        "tests/fixtures/pass",
        "tests/fixtures/warn",
        "tests/fixtures/fail",
        "examples",
        "docs/nets",
        "benches",
    ];
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).expect("a folder of the repository"))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .collect();
    files.sort();
    files
}

/// The text without whitespace or `;`: what formatting may not change.
fn tokens_only(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != ';')
        .collect()
}

/// The generated Rust without the `SOURCE` constant's text.
fn without_source(rust: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in rust.lines() {
        if line.trim_start().starts_with("pub const SOURCE") {
            skipping = !line.trim_end().ends_with(';');
            continue;
        }
        if skipping {
            skipping = !line.trim_end().ends_with(';');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn formatting_is_idempotent_keeps_every_token_and_compiles_the_same() {
    let mut formatted_files = 0;
    let mut compiled = 0;
    for path in nn_files() {
        // A fixture of bytes that are not UTF-8 has no text to format.
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(once) = denpa::syntax::format(&source) else {
            continue;
        };
        formatted_files += 1;
        let name = path.display();
        let twice = denpa::syntax::format(&once).unwrap_or_else(|e| {
            panic!("{name}: the formatted text does not parse:\n{once}\n{e:?}")
        });
        assert_eq!(once, twice, "{name}: formatting twice changed the text");
        assert_eq!(
            tokens_only(&source),
            tokens_only(&once),
            "{name}: a token changed"
        );
        assert!(
            !once.lines().any(|l| l.ends_with(' ')),
            "{name}: trailing spaces"
        );
        if let Ok(before) = denpa::expand(&source, None) {
            let after = denpa::expand(&once, None)
                .unwrap_or_else(|e| panic!("{name}: the formatted file does not compile: {e:?}"));
            assert_eq!(without_source(&before), without_source(&after), "{name}");
            compiled += 1;
        }
    }
    assert!(formatted_files > 150, "only {formatted_files} files parsed");
    assert!(compiled > 80, "only {compiled} files compiled");
}

#[test]
fn a_file_that_does_not_parse_is_refused() {
    let error = denpa::syntax::format("network N { y = }").unwrap_err();
    assert!(error.has_errors());
}

#[test]
fn the_canonical_layout() {
    let messy = "\
// A messy file.
/// The network.
network   Messy{input x:[2]   ;target t : [1]
param W1 : [ 2,3 ]=normal( 0 ,0.1 ) // an initializer


  h=sigmoid( x@W1 )   ;   y = dense(h, 1, activation=sigmoid)
  z = - h[ 0 ] + /* inline */ y*2
     - 1
  loss=sse(
      y,
          t,
  )
  train   sgd(lr=0.5) }
block   twice( x ){ return x+x }
network Other { input x: [2] in 0..27 target t: [] in 0..27
    /// doc
    output y = softmax(x) loss = nll(y, t) }  // trailing
";
    let formatted = denpa::syntax::format(messy).unwrap();
    insta::assert_snapshot!(formatted);
}

#[test]
fn denpa_fmt_writes_in_place_checks_and_leaves_a_broken_file_alone() {
    let dir = std::env::temp_dir().join(format!("denpa-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let messy = dir.join("messy.nn");
    let broken = dir.join("broken.nn");
    let text = "network M { input x: [2]; target t: [1]\n  output y = sigmoid(dense(x,1)) loss = sse(y,t) }\n";
    std::fs::write(&messy, text).unwrap();
    std::fs::write(&broken, "network B { y = }\n").unwrap();
    let denpa = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_denpa"))
            .args(args)
            .output()
            .unwrap()
    };
    let (m, b) = (messy.to_str().unwrap(), broken.to_str().unwrap());
    // --check: a diff, exit status 1, nothing written.
    let checked = denpa(&["fmt", "--check", m]);
    assert_eq!(checked.status.code(), Some(1));
    let diff = String::from_utf8(checked.stdout).unwrap();
    assert!(
        diff.contains("+    output y = sigmoid(dense(x, 1))"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), text);
    // In place, then clean.
    assert_eq!(denpa(&["fmt", m]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&messy).unwrap();
    assert_eq!(formatted, denpa::syntax::format(text).unwrap());
    assert_eq!(denpa(&["fmt", "--check", m]).status.code(), Some(0));
    // A file that does not parse: its error, exit status 1, untouched.
    let refused = denpa(&["fmt", b]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("broken.nn:1:"));
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "network B { y = }\n"
    );
    // Standard input to standard output.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_denpa"))
        .arg("fmt")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), formatted);
    std::fs::remove_dir_all(&dir).unwrap();
}
