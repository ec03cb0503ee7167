//! Compiles every network of this crate at build time: the generated code
//! lands in `$OUT_DIR`, and `src/main.rs` includes it.

fn main() {
    if let Err(e) = denpa::build::compile(&["nets/xor.nn", "nets/tiny_classifier.nn"]) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
