//! The `denpa` command: exit codes, JSON diagnostics, files with several
//! networks (`--network`, `-o DIR`), the help text.

use std::process::Output;

mod common;

fn denpa(args: &[&str]) -> Output {
    common::run(args)
}

#[test]
fn check_exits_0_when_clean_or_warnings_only_1_on_errors_2_on_usage_or_io() {
    assert_eq!(denpa(&["check", "examples/xor.nn"]).status.code(), Some(0));
    let warned = denpa(&["check", "examples/and_gate.nn"]);
    assert_eq!(warned.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&warned.stderr).contains("warning: no gradient reaches `w`"));
    assert_eq!(
        denpa(&[
            "check",
            "examples/xor.nn",
            "tests/fixtures/fail/unknown_name.nn"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        denpa(&["check", "tests/fixtures/fail/not_utf8.nn"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(denpa(&["check", "no/such/file.nn"]).status.code(), Some(2));
    assert_eq!(denpa(&["check"]).status.code(), Some(2));
    assert_eq!(
        denpa(&["check", "--message-format", "xml", "examples/xor.nn"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_diagnostics_parse_back() {
    let out = denpa(&[
        "check",
        "--message-format",
        "json",
        "tests/fixtures/fail/shape_mismatch_matmul.nn",
        "examples/and_gate.nn",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(messages.len(), 3, "{stdout}");
    let error = &messages[0];
    assert_eq!(error["reason"], "diagnostic");
    assert_eq!(error["level"], "error");
    assert_eq!(error["message"], "shape mismatch in `@`: [784] @ [748, 50]");
    let primary = error["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["is_primary"] == true)
        .unwrap();
    assert_eq!(
        primary["file_name"],
        "tests/fixtures/fail/shape_mismatch_matmul.nn"
    );
    assert_eq!(
        (
            primary["line_start"].as_u64(),
            primary["column_start"].as_u64()
        ),
        (Some(8), Some(17))
    );
    assert_eq!(primary["label"], "`x` has 784 elements, `W1` has 748 rows");
    assert!(error["rendered"].as_str().unwrap().contains("^^^^^^"));
    assert!(messages[1..].iter().all(|m| m["level"] == "warning"));
}

#[test]
fn expand_writes_one_file_per_network() {
    let dir = std::env::temp_dir().join(format!("denpa-expand-{}", std::process::id()));
    let out = denpa(&["expand", "examples/xor.nn", "-o", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = std::fs::read_to_string(dir.join("Xor.rs")).unwrap();
    assert_eq!(
        code,
        String::from_utf8(denpa(&["expand", "examples/xor.nn"]).stdout).unwrap()
    );
}

const TWO: &str = "tests/fixtures/pass/two_networks.nn";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_drawing_of_two_networks_is_refused_with_the_networks_named() {
    // It once printed nothing and exited 0: layout-rs cannot read two
    // graphs in one DOT text.
    for format in ["svg", "dot"] {
        let out = denpa(&["graph", "--format", format, TWO]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        let message = stderr(&out);
        assert!(
            message.starts_with("error: this file holds 2 networks (`Linear`, `Classifier`)"),
            "{message}"
        );
        for hint in ["`--network Linear`", "`--network Classifier`", "`-o DIR`"] {
            assert!(message.contains(hint), "{hint}:\n{message}");
        }
        let one = denpa(&["graph", "--format", format, "--network", "Classifier", TWO]);
        assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
        // Only the classifier has a hidden layer.
        assert!(String::from_utf8_lossy(&one.stdout).contains("h_w [4, 5]"));
    }
}

#[test]
fn text_of_two_networks_is_printed_one_after_the_other() {
    for args in [
        &["expand"][..],
        &["explain"],
        &["explain", "--format", "markdown"],
        &["summary"],
    ] {
        let all = common::stdout(&[args, &[TWO]].concat());
        let linear = common::stdout(&[args, &["--network", "Linear", TWO]].concat());
        let classifier = common::stdout(&[args, &["--network", "Classifier", TWO]].concat());
        assert_eq!(all, format!("{linear}\n{classifier}"), "{args:?}");
    }
}

#[test]
fn a_network_that_is_not_there_is_refused_with_the_ones_that_are() {
    for command in ["expand", "explain", "graph", "summary"] {
        let out = denpa(&[command, "--network", "Nope", TWO]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(out.stdout.is_empty());
        let message = stderr(&out);
        assert!(
            message.starts_with(
                "error: no network named `Nope` in this file; \
                 it holds 2 networks (`Linear`, `Classifier`)"
            ),
            "{command}: {message}"
        );
        assert!(message.contains("--network Linear"), "{message}");
    }
    let out = denpa(&["summary", "--network", "classifier", TWO]);
    assert!(stderr(&out).contains("did you mean `--network Classifier`?"));
    let out = denpa(&["explain", "--network", "Or", "examples/xor.nn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("its one network is `Xor`"));
}

#[test]
fn every_command_writes_one_file_per_network() {
    let dir = std::env::temp_dir().join(format!("denpa-each-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.to_str().unwrap();
    for args in [
        &["expand"][..],
        &["explain"],
        &["explain", "--format", "markdown"],
        &["summary"],
        &["graph"],
        &["graph", "--format", "svg"],
    ] {
        let out = denpa(&[args, &["-o", path, TWO]].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = ["Linear", "Classifier"]
        .iter()
        .flat_map(|n| {
            [
                "rs",
                "explain.txt",
                "explain.md",
                "summary.txt",
                "dot",
                "svg",
            ]
            .map(|ext| format!("{n}.{ext}"))
        })
        .collect();
    expected.sort();
    assert_eq!(files, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_help_states_the_rule_for_several_networks() {
    let help = common::stdout(&["--help"]);
    for phrase in [
        "every command covers all of them",
        "`--network NAME`",
        "-o DIR",
        "NAME.svg",
        "2 on a usage",
    ] {
        assert!(help.contains(phrase), "{phrase}:\n{help}");
    }
    let graph = common::stdout(&["graph", "--help"]);
    assert!(
        graph.contains("A DOT or SVG document is one graph"),
        "{graph}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // Thirty networks: more code than a pipe buffers.
    let mut source = String::new();
    for i in 0..30 {
        source.push_str(&format!(
            "network N{i} {{ input x: [2] target t: [1] output y = dense(x, 1) loss = sse(y, t) }}\n"
        ));
    }
    let file = std::env::temp_dir().join(format!("denpa-pipe-{}.nn", std::process::id()));
    std::fs::write(&file, source).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_denpa"))
        .args(["expand", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
