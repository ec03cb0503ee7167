//! Snapshots of what people read when a network is wrong: every file in
//! `tests/fixtures/fail/` gives errors, every file in `tests/fixtures/warn/`
//! compiles with warnings, rendered as the CLI renders them (colour off).

use std::path::Path;

/// The rendered diagnostics of one fixture file, as `denpa check` shows them.
fn rendered(path: &Path) -> (bool, String) {
    let bytes = std::fs::read(path).unwrap();
    let name = format!(
        "tests/fixtures/{}/{}",
        path.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        path.file_name().unwrap().to_string_lossy()
    );
    let (text, diagnostics) = match denpa::source_text(&bytes) {
        Ok(text) => match denpa::compile(text) {
            Ok((_, warnings)) => (text.to_string(), warnings),
            Err(errors) => (text.to_string(), errors),
        },
        Err((text, error)) => (text, error),
    };
    (
        diagnostics.has_errors(),
        diagnostics.render(&name, &text, false),
    )
}

#[test]
fn every_fail_fixture_reports_its_errors() {
    insta::glob!("fixtures/fail/*.nn", |path| {
        let (errors, text) = rendered(path);
        assert!(errors, "{} compiled without errors", path.display());
        insta::assert_snapshot!(text);
    });
}

#[test]
fn every_warn_fixture_compiles_with_warnings() {
    insta::glob!("fixtures/warn/*.nn", |path| {
        let (errors, text) = rendered(path);
        assert!(!errors, "{} has errors:\n{text}", path.display());
        assert!(
            text.contains("warning:"),
            "{} has no warnings",
            path.display()
        );
        insta::assert_snapshot!(text);
    });
}

#[test]
fn pass_fixtures_have_no_errors() {
    insta::glob!("fixtures/pass/*.nn", |path| {
        let (errors, text) = rendered(path);
        assert!(!errors, "{}:\n{text}", path.display());
    });
}
