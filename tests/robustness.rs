//! Nothing a person can type crashes the compiler: every input gets a result
//! or an error, never a panic, a hang or a stack overflow, from every
//! command (`compile`, as `denpa check` runs it, and every view `expand`,
//! `explain`, `summary` and `graph` show, SVG included), and no output grows
//! beyond a multiple of its input.
//!
//! The property tests run a few thousand cases in the normal suite. For a
//! long run, set `DENPA_FUZZ_CASES` (e.g. 1000000) and run the ignored test:
//! `DENPA_FUZZ_CASES=1000000 cargo test --release --test robustness -- --ignored`.

use std::sync::mpsc;
use std::time::Duration;

use denpa::explain::Format;
use denpa::{CommandError, Destination, View};
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

/// Every view a command shows (SVG with the `cli` feature, which draws it).
fn views() -> Vec<View> {
    #[allow(unused_mut)] // without `cli`, nothing is pushed
    let mut views = vec![
        View::Rust,
        View::Explain(Format::Text),
        View::Explain(Format::Markdown),
        View::Summary,
        View::Dot,
    ];
    #[cfg(feature = "cli")]
    views.push(View::Svg);
    views
}

/// The most any view may print for an input of `len` bytes: a minimal
/// network's generated code is about 15 KB from 60 bytes of source.
fn output_limit(len: usize) -> usize {
    (64 << 10) + 512 * len
}

/// Runs every command on any bytes, the way `denpa` does, and checks that
/// they agree: when `compile` succeeds every view shows every network (into
/// one output, or one file each for a drawing of several), within
/// [`output_limit`]; when it fails every view reports errors; a
/// `--network` that names no network is refused with the file's networks
/// listed. Returns whether the input compiled. A panic fails the calling
/// test.
fn every_command(bytes: &[u8]) -> bool {
    let Ok(text) = denpa::source_text(bytes) else {
        return false;
    };
    let names: Option<Vec<String>> = denpa::compile(text)
        .ok()
        .map(|(outputs, _)| outputs.into_iter().map(|o| o.name).collect());
    let limit = output_limit(text.len());
    let single = |view: View| -> Result<String, denpa::Diagnostics> {
        match view {
            View::Rust => denpa::expand(text, None),
            View::Explain(format) => denpa::explain(text, None, format),
            View::Summary => denpa::summary(text, None),
            View::Dot => denpa::graph(text, None),
            #[cfg(feature = "cli")]
            View::Svg => denpa::graph_svg(text, None),
        }
    };
    for view in views() {
        let Some(names) = &names else {
            let errors = single(view).expect_err("a view of a text that does not compile");
            assert!(errors.has_errors(), "{view:?}: an error without errors");
            continue;
        };
        let documents = if names.len() > 1 && !view.holds_several() {
            let refused = denpa::documents(text, None, view, Destination::Stream);
            let Err(CommandError::Selection(d)) = refused else {
                panic!(
                    "{view:?} of {} networks into one output: {refused:?}",
                    names.len()
                );
            };
            assert!(names.iter().all(|n| d.message.contains(&format!("`{n}`"))));
            denpa::documents(text, None, view, Destination::Files)
                .unwrap_or_else(|e| panic!("{view:?}, one file each: {e:?}"))
        } else {
            let joined = single(view).unwrap_or_else(|e| panic!("{view:?}:\n{e}"));
            assert!(joined.len() <= limit, "{view:?}: {} bytes", joined.len());
            vec![denpa::Document {
                network: names.join(", "),
                text: joined,
            }]
        };
        let total: usize = documents.iter().map(|d| d.text.len()).sum();
        assert!(
            total <= limit,
            "{view:?}: {total} bytes from {}",
            text.len()
        );
        assert!(
            documents.iter().all(|d| !d.text.trim().is_empty()),
            "{view:?}: empty"
        );
        #[cfg(feature = "cli")]
        if view == View::Svg {
            for d in &documents {
                roxmltree::Document::parse(&d.text).expect("the SVG is well-formed XML");
            }
        }
        let refused = denpa::documents(text, Some("NoSuchNetwork"), view, Destination::Stream);
        let Err(CommandError::Selection(d)) = refused else {
            panic!("{view:?} of a network that is not there: {refused:?}");
        };
        assert!(names.iter().all(|n| d.message.contains(&format!("`{n}`"))));
    }
    names.is_some()
}

/// Runs `f` on a small stack (see [`on_small_stack`]) and fails if it takes
/// longer than `limit`: a hang shows as a failure, not as a test that never
/// ends.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let _ = send.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        })
        .unwrap();
    match receive.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("no result after {limit:?}"),
    }
}

/// Every command on `bytes`, within a time that only a hang exceeds.
fn every_command_in_time(bytes: Vec<u8>) -> bool {
    within(Duration::from_secs(60), move || every_command(&bytes))
}

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
    mutation_of(XOR)
}

/// Networks to mutate for every command: one, two in a file, a deep one,
/// one with warnings, and three with errors.
const BASES: [&str; 5] = [
    XOR,
    include_str!("fixtures/pass/two_networks.nn"),
    include_str!("fixtures/pass/dense_deep.nn"),
    include_str!("fixtures/warn/several_warnings.nn"),
    include_str!("fixtures/fail/syntax_error_among_networks.nn"),
];

/// One of [`BASES`], mutated.
fn mutation_of_any() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(&BASES[..]).prop_flat_map(mutation_of)
}

/// `base` with a few bytes deleted, inserted or replaced.
fn mutation_of(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..base.len(), any::<u8>(), 0..3u8), 1..6).prop_map(move |edits| {
        let mut bytes = base.as_bytes().to_vec();
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
        every_command_in_time(bytes);
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        every_command_in_time(text.into_bytes());
    }
}

proptest! {
    // Fewer cases: a mutation that still compiles runs the whole compiler
    // six times over, the SVG layout included.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_networks_never_panic(bytes in mutation()) {
        every_command_in_time(bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(bytes in mutation_of_any()) {
        every_command_in_time(bytes);
    }
}

#[test]
fn every_command_on_the_bases_and_the_examples() {
    for base in BASES {
        every_command_in_time(base.as_bytes().to_vec());
    }
    let compiled = [XOR, include_str!("../examples/digits.nn")]
        .map(|s| every_command_in_time(s.as_bytes().to_vec()));
    assert_eq!(compiled, [true, true]);
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
            every_command_in_time(b);
            Ok(())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    runner
        .run(&soup(), |t| {
            every_command_in_time(t.into_bytes());
            Ok(())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&mutation_of_any(), |b| {
            every_command_in_time(b);
            Ok(())
        })
        .unwrap();
}
