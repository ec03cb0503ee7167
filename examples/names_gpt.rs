//! Trains the GPT of LANGUAGE.md §12 in `examples/names_gpt.nn` on the names of
//! `examples/data/names.txt` and writes new ones: a rung of the names ladder
//! (`names_bigram`, `names_mlp`, `names_gpt`).
//!
//! Run with
//!
//! ```sh
//! cargo run --release --example names_gpt [-- --seed N --steps N --batch-size N --names N --out DIR]
//! ```
//!
//! It splits the 29,910 names 80/10/10 (always the same split, whatever the
//! seed), trains 5000 steps of 32 with Adam by default, showing the loss and
//! the validation loss, then prints the test loss in nats per character,
//! saves the weights to `target/names_gpt.safetensors` and the model to
//! `target/names_gpt.onnx`, plots both losses to `target/names_gpt.png` and
//! `.svg`, and prints 20 names it writes; the last line is
//! `test loss: 2.123 nats per character`, for scripts.

use std::process::ExitCode;

#[path = "shared/names.rs"]
mod shared;

denpa_macros::net!("examples/names_gpt.nn");

fn main() -> ExitCode {
    shared::main::<NamesGpt>(&shared::GPT)
}
