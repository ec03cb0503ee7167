//! Nothing a person can type crashes the compiler: every input gets a result
//! or an error, never a panic, a hang or a stack overflow.
//!
//! The property tests run a few thousand cases in the normal suite. For a
//! long run, set `DENPA_FUZZ_CASES` (e.g. 1000000) and run the ignored test:
//! `DENPA_FUZZ_CASES=1000000 cargo test --release --test robustness -- --ignored`.

use proptest::prelude::*;

/// Compiles any bytes the way `denpa check` does; returns whether it
/// succeeded. A panic fails the calling test.
fn compile_bytes(bytes: &[u8]) -> bool {
    match denpa::source_text(bytes) {
        Ok(text) => denpa::compile(text).is_ok(),
        Err(_) => false,
    }
}

/// Runs `f` on a thread with a 2 MiB stack (a test thread's, and less than a
/// proc macro may have), so that a recursion on input depth would show.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic")
}

const XOR: &str = include_str!("../examples/xor.nn");

#[test]
fn empty_and_comment_only_files_are_errors() {
    assert!(!compile_bytes(b""));
    assert!(!compile_bytes(b"// nothing here\n/* nor /* here */ */\n"));
    assert!(!compile_bytes(b"/* unterminated"));
}

#[test]
fn bytes_that_are_not_utf8_are_an_error() {
    let (text, errors) = denpa::source_text(b"network N {\xff\xfe}").unwrap_err();
    assert!(errors.has_errors());
    assert!(text.contains('\u{fffd}'));
}

#[test]
fn ten_thousand_nested_parentheses() {
    let depth = 10_000;
    let src = format!(
        "network N {{ input x: [1] target t: [1] output y = {}x{} loss = sse(y, t) }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let ok = on_small_stack(move || compile_bytes(src.as_bytes()));
    assert!(!ok);
}

#[test]
fn ten_thousand_nested_calls_and_minus_signs() {
    let src = format!(
        "network N {{ input x: [1] target t: [1] output y = {}x{} loss = sse(y, t) }}",
        "sigmoid(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(!on_small_stack(move || compile_bytes(src.as_bytes())));
    let src = format!(
        "network N {{ input x: [1] target t: [1] output y = {}x loss = sse(y, t) }}",
        "-".repeat(10_000)
    );
    // 10,000 negations are legal: they compile (to one sign).
    assert!(on_small_stack(move || compile_bytes(src.as_bytes())));
}

#[test]
fn a_thousand_chained_operators_compile() {
    let chain: String = (0..1000)
        .map(|i| if i % 2 == 0 { " + x" } else { " * x" })
        .collect();
    let src = format!("network N {{ dtype f64 input x: [2] target t: [2] param w: [2] output y = w{chain} loss = sse(y, t) }}");
    assert!(on_small_stack(move || compile_bytes(src.as_bytes())));
}

#[test]
fn a_one_megabyte_file() {
    // A megabyte of bindings, each using the one before.
    let mut src = String::from("network Big { input x: [2] target t: [2] h0 = x\n");
    let mut i = 0;
    while src.len() < 1 << 20 {
        i += 1;
        src.push_str(&format!(
            "h{i} = h{} * 0.5 + x // a comment to pad the line out a little\n",
            i - 1
        ));
    }
    src.push_str(&format!("output y = h{i} loss = sse(y, t) }}"));
    assert!(on_small_stack(move || compile_bytes(src.as_bytes())));
    // And a megabyte of garbage.
    let garbage: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(!compile_bytes(&garbage));
}

#[test]
fn huge_and_malformed_numbers_and_shapes() {
    for bad in [
        "output y = x * 1e999",
        "output y = x * 1e",
        "output y = x * 1.e5",
        "output y = x * .5",
        "output y = x * 0x10",
        "output y = x * 1e39",
        "output y = x * 1e99999999999999999999",
    ] {
        let src = format!("network N {{ input x: [2] target t: [2] {bad} loss = sse(y, t) }}");
        assert!(!compile_bytes(src.as_bytes()), "{bad}");
    }
    // Large but representable numbers are fine, in f64 beyond f32's range too.
    let src =
        "network N { dtype f64 input x: [2] target t: [2] output y = x * 1e300 loss = sse(y, t) }";
    assert!(compile_bytes(src.as_bytes()));
    for shape in [
        "[0]",
        "[99999999999999999999]",
        "[100000, 100000]",
        "[1.5]",
        "[2, 2, 2]",
        "[-1]",
    ] {
        let src =
            format!("network N {{ input x: {shape} target t: [1] output y = x loss = sse(y, t) }}");
        assert!(!compile_bytes(src.as_bytes()), "{shape}");
    }
}

/// Pieces of the language, for token soups.
const TOKENS: &[&str] = &[
    "network",
    "N",
    "M",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ";",
    "=",
    "+",
    "-",
    "*",
    "/",
    "@",
    "input",
    "target",
    "param",
    "output",
    "loss",
    "train",
    "dtype",
    "f64",
    "x",
    "t",
    "W",
    "b",
    "h",
    "y",
    "2",
    "0.5",
    "1e-3",
    "sigmoid",
    "softmax",
    "relu",
    "dense",
    "sse",
    "cross_entropy",
    "sgd",
    "lr",
    "adam",
    "zeros",
    "normal",
    "///doc\n",
    "//c\n",
    "/*c*/",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.join(" "))
}

/// The XOR network with a few bytes deleted, inserted or replaced.
fn mutation() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..XOR.len(), any::<u8>(), 0..3u8), 1..6).prop_map(|edits| {
        let mut bytes = XOR.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match kind {
                0 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, byte),
                _ if !bytes.is_empty() => bytes[at] = byte,
                _ => {}
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        compile_bytes(&bytes);
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        compile_bytes(text.as_bytes());
    }

    #[test]
    fn mutated_networks_never_panic(bytes in mutation()) {
        compile_bytes(&bytes);
    }
}

/// The long run: `DENPA_FUZZ_CASES` cases of each kind.
#[test]
#[ignore = "long-running; set DENPA_FUZZ_CASES and run with --ignored"]
fn fuzz_long() {
    let cases: u32 = std::env::var("DENPA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..300), |b| {
            compile_bytes(&b);
            Ok(())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    runner
        .run(&soup(), |t| {
            compile_bytes(t.as_bytes());
            Ok(())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&mutation(), |b| {
            compile_bytes(&b);
            Ok(())
        })
        .unwrap();
}
