//! Trains the convolutional network of `examples/digits_cnn.nn` on the
//! handwritten digits of `examples/data/digits.csv.gz` and measures it on
//! images it never saw: the program of `examples/digits.rs`, with each row of
//! 64 pixels read as an image `[1, 8, 8]`.
//!
//! Run with
//!
//! ```sh
//! cargo run --release --example digits_cnn [-- --seed N --epochs N --batch-size N --out DIR]
//! ```
//!
//! It saves the weights to `target/digits_cnn.safetensors` (the kernels in
//! PyTorch's layout `[k, c, r, s]`), plots to `target/digits_cnn.png` and
//! `.svg`, and ends with the line `held-out accuracy: 98.9%`.

use std::process::ExitCode;

#[path = "shared/digits.rs"]
#[macro_use]
mod shared;

denpa_macros::net!("examples/digits_cnn.nn");

classifier!(DigitsCnn, "digits_cnn", per_pixel: false, epochs: 40, batch_size: 16, shared::images);

fn main() -> ExitCode {
    let options = shared::Options::parse::<DigitsCnn>();
    match shared::run::<DigitsCnn>(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
