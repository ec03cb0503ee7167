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

use std::path::Path;
use std::process::ExitCode;

use denpa::ndarray::{Array2, ArrayView2};

#[path = "shared/digits.rs"]
mod shared;

denpa_macros::net!("examples/digits.nn");

impl shared::Classifier for Digits {
    const FILE: &'static str = "digits";
    fn with_seed(seed: u64) -> Self {
        Digits::with_seed(seed)
    }
    fn step(
        &mut self,
        x: ArrayView2<'_, f32>,
        t: ArrayView2<'_, f32>,
    ) -> Result<f32, denpa::Error> {
        self.train_step(x, t)
    }
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, denpa::Error> {
        self.forward(x)
    }
    fn save(&self, path: &Path) -> Result<(), denpa::Error> {
        Digits::save(self, path)
    }
    fn load(path: &Path) -> Result<Self, denpa::Error> {
        Digits::load(path)
    }
}

fn main() -> ExitCode {
    let options = shared::Options::parse("digits", 50);
    match shared::run::<Digits>(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
