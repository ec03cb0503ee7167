//! Helpers shared by the integration tests that run the `denpa` command.

use std::process::{Command, Output};

/// Runs `denpa ARGS` in the crate's directory.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_denpa"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("denpa runs")
}

/// Runs `denpa ARGS`, expects success, and returns what it printed.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
