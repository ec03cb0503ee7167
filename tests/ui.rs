//! Compile-fail tests of `net!`: each error is a Rust compile error whose
//! caret lands on the offending tokens. The expected `.stderr` files depend
//! on rustc's exact output, so they run only on the toolchain they were
//! written with.

const TOOLCHAIN: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with(TOOLCHAIN) {
        eprintln!("skipped: the .stderr files are for {TOOLCHAIN}x, this is {version}");
        return;
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/syntax/*.rs");
    t.compile_fail("tests/ui/names/*.rs");
    t.compile_fail("tests/ui/shapes/*.rs");
    t.compile_fail("tests/ui/structure/*.rs");
    t.compile_fail("tests/ui/file/*.rs");
    t.compile_fail("tests/ui/indices/*.rs");
}
