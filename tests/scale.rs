//! A network far deeper than any test fixture goes through every stage of
//! the library on a small stack: no pass recurses on a depth the user
//! controls. (How long the stages take is `cargo bench --bench compile`'s
//! business, not a test's.)

#[path = "common/networks.rs"]
#[allow(dead_code)] // the benchmark's names of the shapes
mod networks;

use networks::Shape;

/// Runs `f` on a thread with a 2 MiB stack (a test thread's, and less than
/// a proc macro may have).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("no stack overflow, no panic")
}

#[test]
fn twenty_thousand_chained_bindings_compile_and_explain_on_a_small_stack() {
    let source = networks::network(Shape::Chain, 20_000);
    assert!(source.lines().count() > 20_000);
    on_small_stack(move || {
        let warnings = denpa::check_source(&source).expect("a valid network");
        assert!(!warnings.has_errors());
        let (outputs, _) = denpa::compile(&source).expect("it compiles");
        assert_eq!(outputs.len(), 1);
        // The last binding's statement is in the generated code.
        assert!(outputs[0].tokens.to_string().contains("h19999"));
        let explained =
            denpa::explain(&source, None, denpa::explain::Format::Text).expect("it explains");
        assert!(
            explained.contains("h19999 = tanh(z_h19999)"),
            "{}",
            &explained[..500]
        );
    });
}

#[test]
fn five_thousand_layers_deep_or_wide_compile_on_a_small_stack() {
    for shape in [Shape::Deep, Shape::Wide] {
        let source = networks::network(shape, 5_000);
        on_small_stack(move || {
            let (outputs, _) = denpa::compile(&source).expect("it compiles");
            assert!(outputs[0].tokens.to_string().contains("h4999"));
            denpa::explain(&source, None, denpa::explain::Format::Text).expect("it explains");
        });
    }
}
