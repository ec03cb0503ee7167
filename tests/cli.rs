//! The `denpa` command: exit codes, JSON diagnostics, `expand -o`.

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
