//! Trains the bigram model of `examples/names_bigram.nn` on the names of
//! `examples/data/names.txt` and writes new ones: a rung of the names ladder
//! (`names_bigram`, `names_mlp`, `names_gpt`).
//!
//! Run with
//!
//! ```sh
//! cargo run --release --example names_bigram [-- --seed N --steps N --batch-size N --names N --out DIR]
//! ```
//!
//! It splits the 29,910 names 80/10/10 (always the same split, whatever the
//! seed), trains 4000 steps of 1024 with Adam by default, showing the loss and
//! the validation loss, then prints the test loss in nats per character,
//! saves the weights to `target/names_bigram.safetensors` and the model to
//! `target/names_bigram.onnx`, plots both losses to `target/names_bigram.png` and
//! `.svg`, and prints 20 names it writes; the last line is
//! `test loss: 2.123 nats per character`, for scripts.

use std::process::ExitCode;

#[path = "shared/names.rs"]
mod shared;

denpa_macros::net!("examples/names_bigram.nn");

fn main() -> ExitCode {
    shared::main::<NamesBigram>(&shared::BIGRAM)
}
