//! Trains the multilayer perceptron of `examples/digits.nn` on the handwritten
//! digits of `examples/data/digits.csv.gz` and measures it on images it never
//! saw.
//!
//! Run with
//!
//! ```sh
//! cargo run --release --example digits [-- --seed N --epochs N --batch-size N --out DIR]
//! ```
//!
//! It loads the 1797 images, holds out 20% of them (chosen by the seed),
//! standardizes the pixels with the statistics of the training images, and
//! trains on shuffled minibatches, showing the training loss and the held-out
//! accuracy of each epoch. At the end it prints the confusion matrix of the
//! held-out images, saves the weights to `target/digits.safetensors`, plots
//! loss and accuracy per epoch to `target/digits.png` and `target/digits.svg`,
//! and prints a last line `held-out accuracy: 97.8%` for scripts.

use std::process::ExitCode;

#[path = "shared/digits.rs"]
#[macro_use]
mod shared;

denpa_macros::net!("examples/digits.nn");

classifier!(Digits, "digits", per_pixel: true, epochs: 50, batch_size: 32, |x| x);

fn main() -> ExitCode {
    let options = shared::Options::parse::<Digits>();
    match shared::run::<Digits>(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
