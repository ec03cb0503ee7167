//! Trains the small classifier of `examples/iris.nn` on Fisher's irises
//! (`examples/data/iris.csv`) and measures it on flowers it never saw.
//!
//! Run with `cargo run --release --example iris [-- --seed N --epochs N]`.
//!
//! It holds out 20% of the 150 flowers (chosen by the seed), standardizes the
//! four measurements with the statistics of the training flowers, trains on
//! shuffled minibatches, and prints the confusion matrix of the held-out
//! flowers and a last line `held-out accuracy: 96.7%`.

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

use denpa::data::{self, Minibatches, Standardizer, IRIS_CLASSES};

denpa_macros::net!("examples/iris.nn");

const USAGE: &str = "usage: iris [--seed N] [--epochs N]   (defaults: seed 0, 100 epochs)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let (seed, epochs) = parse_args().unwrap_or_else(|message| {
        eprintln!("error: {message}\n{USAGE}");
        std::process::exit(2);
    });

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/iris.csv");
    let (flowers, species) = data::load_iris(&path)?;
    let split = data::train_test_split(flowers.view(), &species, 0.2, seed);
    let scaler = Standardizer::fit(split.train_x.view());
    let train_x = scaler.transform(split.train_x.view());
    let test_x = scaler.transform(split.test_x.view());
    let train_t = data::one_hot::<f32>(&split.train_labels, IRIS_CLASSES.len());
    println!(
        "iris: {} flowers, {} for training, {} held out (seed {seed})",
        species.len(),
        train_x.nrows(),
        test_x.nrows()
    );

    let mut net = Iris::with_seed(seed);
    let batches = Minibatches::new(train_x.view(), train_t.view(), 16, seed);
    for epoch in 0..epochs {
        let mut total = 0.0;
        for (x, t) in batches.epoch(epoch as u64) {
            total += f64::from(net.train_step(x.view(), t.view())?) * x.nrows() as f64;
        }
        if (epoch + 1) % 20 == 0 || epoch + 1 == epochs {
            let accuracy = data::accuracy(net.forward(test_x.view())?.view(), &split.test_labels);
            println!(
                "epoch {:>4}  loss {:.4}  held-out accuracy {:.1}%",
                epoch + 1,
                total / batches.samples() as f64,
                100.0 * accuracy
            );
        }
    }

    let y = net.forward(test_x.view())?;
    let confusion = data::confusion_matrix(y.view(), &split.test_labels);
    println!("\nthe held-out flowers, by true and predicted species:");
    print!(
        "{}",
        data::format_confusion_matrix(confusion.view(), &IRIS_CLASSES)
    );
    println!(
        "held-out accuracy: {:.1}%",
        100.0 * data::accuracy(y.view(), &split.test_labels)
    );
    Ok(())
}

/// `--seed N` and `--epochs N`, by hand.
fn parse_args() -> Result<(u64, usize), String> {
    let (mut seed, mut epochs) = (0, 100);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        let number = |value: Option<String>| {
            let text = value.ok_or_else(|| format!("{flag} needs a value"))?;
            text.parse::<u64>()
                .map_err(|_| format!("{flag} needs a whole number, not `{text}`"))
        };
        match flag.as_str() {
            "--seed" => seed = number(value)?,
            "--epochs" => epochs = number(value)? as usize,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument `{flag}`")),
        }
    }
    Ok((seed, epochs))
}
