//! What the two digits examples share: the command line, the training loop
//! with its progress bar, the confusion matrix, the saved weights, the ONNX
//! model and the plot. `examples/digits.rs` (the multilayer perceptron) and
//! `examples/digits_cnn.rs` (the convolutional network) differ only in the
//! network and the shape it reads the images in.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use denpa::data::{self, Minibatches, Standardizer};
use denpa::ndarray::{Array2, ArrayView2, ArrayView4};
use indicatif::{ProgressBar, ProgressStyle};
use plotters::coord::Shift;
use plotters::prelude::*;

#[path = "cli.rs"]
mod cli;

/// A network that classifies digits from rows of 64 standardized pixels.
pub trait Classifier: Sized {
    /// The file name of its outputs: `digits` gives `digits.safetensors`.
    const FILE: &'static str;
    /// Whether each pixel is standardized on its own (the features of a
    /// perceptron) rather than all pixels alike (an image, whose
    /// neighbouring pixels a convolution compares).
    const PER_PIXEL: bool;
    /// The default number of passes over the training images.
    const EPOCHS: usize;
    /// The default images per training step.
    const BATCH_SIZE: usize;
    /// The network with the weights of a seed.
    fn with_seed(seed: u64) -> Self;
    /// One training step on a batch; the loss before it.
    fn step(&mut self, x: ArrayView2<'_, f32>, t: ArrayView2<'_, f32>)
        -> Result<f32, denpa::Error>;
    /// The probabilities of each digit, one row per image.
    fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, denpa::Error>;
    /// Saves the weights.
    fn save(&self, path: &Path) -> Result<(), denpa::Error>;
    /// Loads weights saved by [`Classifier::save`].
    fn load(path: &Path) -> Result<Self, denpa::Error>;
    /// Exports the forward pass as an ONNX model.
    fn to_onnx(&self, path: &Path) -> Result<(), denpa::Error>;
}

/// Rows of 64 pixels as a batch of one-channel 8×8 images `[B, 1, 8, 8]`:
/// the same memory, row-major as the CSV stores each image.
#[allow(dead_code)] // the convolutional network's input; the perceptron reads rows
pub fn images(x: ArrayView2<'_, f32>) -> ArrayView4<'_, f32> {
    let rows = x.nrows();
    x.into_shape_with_order((rows, 1, 8, 8))
        .expect("64 pixels a row, in standard layout")
}

/// What the command line asks for.
pub struct Options {
    /// Seeds the split, the initial weights and the minibatches' order.
    pub seed: u64,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per training step.
    pub batch_size: usize,
    /// Where the weights and plots go.
    pub out: PathBuf,
    /// The digits file.
    pub data: PathBuf,
}

impl Options {
    /// The defaults of `N` with a seed: what the example runs without flags.
    pub fn defaults<N: Classifier>(seed: u64) -> Options {
        Options {
            seed,
            epochs: N::EPOCHS,
            batch_size: N::BATCH_SIZE,
            out: Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            data: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv.gz"),
        }
    }

    /// Reads `--seed`, `--epochs`, `--batch-size` and `--out`; the name and
    /// the defaults of `N` go into the usage text.
    pub fn parse<N: Classifier>() -> Options {
        cli::parse(
            Options::defaults::<N>(0),
            &usage(N::FILE, N::EPOCHS, N::BATCH_SIZE),
            &["--seed", "--epochs", "--batch-size", "--out"],
            |options, flag, value| {
                match flag {
                    "--seed" => options.seed = cli::number(flag, &value)?,
                    "--epochs" => options.epochs = cli::number(flag, &value)?,
                    "--batch-size" => options.batch_size = cli::number(flag, &value)?,
                    _ => options.out = PathBuf::from(value),
                }
                Ok(())
            },
            |options| match options.batch_size {
                0 => Err("--batch-size must be at least 1".into()),
                _ => Ok(()),
            },
        )
    }
}

fn usage(name: &str, epochs: usize, batch_size: usize) -> String {
    format!(
        "\
usage: {name} [--seed N] [--epochs N] [--batch-size N] [--out DIR]

  --seed N        seeds the held-out split, the initial weights and the
                  order of the minibatches (default 0)
  --epochs N      passes over the training images (default {epochs})
  --batch-size N  images per training step (default {batch_size})
  --out DIR       where the weights and plots go (default: target/)"
    )
}

/// The training loss (the mean over the epoch's batches, each measured
/// before its update) and the held-out accuracy after each epoch.
#[derive(Default)]
struct History {
    loss: Vec<f64>,
    accuracy: Vec<f64>,
}

/// The digits, 20% held out (chosen by the seed), the pixels standardized
/// with the training images' statistics.
pub struct Digits {
    /// The training images, one row of 64 pixels each.
    pub train_x: Array2<f32>,
    /// Their digits, one-hot.
    pub train_t: Array2<f32>,
    /// The held-out images.
    pub test_x: Array2<f32>,
    /// Their digits.
    pub test_labels: Vec<usize>,
    /// How many images the file holds.
    pub images: usize,
}

/// Loads and prepares the digits of `options.data` as `N` reads them.
pub fn load<N: Classifier>(options: &Options) -> Result<Digits, Box<dyn Error>> {
    let (images, labels) = data::load_digits(&options.data)?;
    let split = data::train_test_split(images.view(), &labels, 0.2, options.seed);
    // Statistics of the training images only: nothing about the held-out
    // images may leak into training.
    let (train_x, test_x) = if N::PER_PIXEL {
        let scaler = Standardizer::fit(split.train_x.view());
        (
            scaler.transform(split.train_x.view()),
            scaler.transform(split.test_x.view()),
        )
    } else {
        let mean = split.train_x.mean().unwrap_or(0.0);
        let std = split.train_x.std(0.0).max(f32::EPSILON);
        let scale = |x: &Array2<f32>| x.mapv(|v| (v - mean) / std);
        (scale(&split.train_x), scale(&split.test_x))
    };
    Ok(Digits {
        train_t: data::one_hot::<f32>(&split.train_labels, data::DIGITS_CLASSES),
        train_x,
        test_x,
        test_labels: split.test_labels,
        images: labels.len(),
    })
}

/// Trains `N` from the seed's weights on shuffled minibatches, calling
/// `each_epoch` with the epoch's training loss (the mean over its batches,
/// each measured before its update) and the held-out accuracy after it.
pub fn train<N: Classifier>(
    options: &Options,
    digits: &Digits,
    mut each_epoch: impl FnMut(f64, f64),
) -> Result<N, Box<dyn Error>> {
    let mut net = N::with_seed(options.seed);
    let batches = Minibatches::new(
        digits.train_x.view(),
        digits.train_t.view(),
        options.batch_size,
        options.seed,
    );
    for epoch in 0..options.epochs {
        let mut total = 0.0;
        for (x, t) in batches.epoch(epoch as u64) {
            let loss = net.step(x.view(), t.view())?;
            total += f64::from(loss) * x.nrows() as f64;
        }
        let loss = total / batches.samples() as f64;
        let accuracy = data::accuracy(
            net.predict(digits.test_x.view())?.view(),
            &digits.test_labels,
        );
        each_epoch(loss, accuracy);
    }
    Ok(net)
}

/// The example: [`load`], [`train`] with a progress bar, the confusion
/// matrix of the held-out images, the weights saved and loaded back, the
/// plot of the history, and a last line `held-out accuracy: 98.6%` for
/// scripts.
pub fn run<N: Classifier>(options: &Options) -> Result<(), Box<dyn Error>> {
    let digits = load::<N>(options)?;
    println!(
        "{}: {} images of 8x8 pixels, {} for training, {} held out (seed {})",
        N::FILE,
        digits.images,
        digits.train_x.nrows(),
        digits.test_x.nrows(),
        options.seed
    );
    let bar = ProgressBar::new(options.epochs as u64).with_style(
        ProgressStyle::with_template("[{bar:30}] epoch {pos}/{len}  {msg}")?.progress_chars("=> "),
    );
    let mut history = History::default();
    let start = Instant::now();
    let net = train::<N>(options, &digits, |loss, accuracy| {
        bar.set_message(format!(
            "loss {loss:.4}  held-out accuracy {:.1}%",
            100.0 * accuracy
        ));
        bar.inc(1);
        history.loss.push(loss);
        history.accuracy.push(accuracy);
    })?;
    bar.finish();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "trained {} epochs of {} batches of up to {} images in {seconds:.1} s",
        options.epochs,
        digits.train_x.nrows().div_ceil(options.batch_size),
        options.batch_size
    );
    let (test_x, test_labels) = (&digits.test_x, &digits.test_labels);
    let y = net.predict(test_x.view())?;
    let accuracy = data::accuracy(y.view(), test_labels);
    let confusion = data::confusion_matrix(y.view(), test_labels);
    println!("\nthe held-out images, by true and predicted digit:");
    print!("{}", data::format_confusion_matrix(confusion.view(), &[]));
    println!();

    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let weights = options.out.join(format!("{}.safetensors", N::FILE));
    net.save(&weights)?;
    let reloaded = N::load(&weights)?;
    if reloaded.predict(test_x.view())? != y {
        return Err(format!("{} does not give back the same network", weights.display()).into());
    }
    println!(
        "saved the weights to {} (and loaded them back)",
        weights.display()
    );
    let model = options.out.join(format!("{}.onnx", N::FILE));
    net.to_onnx(&model)?;
    println!(
        "exported the forward pass to {} (ONNX, opset {})",
        model.display(),
        denpa::onnx::OPSET
    );

    if history.loss.is_empty() {
        println!("no epochs, no plot");
    } else {
        let png = options.out.join(format!("{}.png", N::FILE));
        let svg = options.out.join(format!("{}.svg", N::FILE));
        plot(
            BitMapBackend::new(&png, (1000, 420)).into_drawing_area(),
            &history,
        )?;
        plot(
            SVGBackend::new(&svg, (1000, 420)).into_drawing_area(),
            &history,
        )?;
        println!(
            "plotted loss and accuracy per epoch to {} and {}",
            png.display(),
            svg.display()
        );
    }
    println!("held-out accuracy: {:.1}%", 100.0 * accuracy);
    Ok(())
}

/// Draws the training loss (left) and the held-out accuracy (right) per
/// epoch.
fn plot<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &History,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    cli::register_font()?;
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let epochs = history.loss.len();
    let x_range = 1.0..(epochs.max(2) as f64);
    let max_loss = history.loss.iter().copied().fold(0.0, f64::max) * 1.05;

    let mut chart = ChartBuilder::on(&left)
        .caption("training loss", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(x_range.clone(), 0.0..max_loss.max(1e-6))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    chart.draw_series(LineSeries::new(
        history
            .loss
            .iter()
            .enumerate()
            .map(|(i, &l)| ((i + 1) as f64, l)),
        BLUE.stroke_width(2),
    ))?;

    let min_accuracy = history.accuracy.iter().copied().fold(1.0, f64::min);
    let low = (100.0 * min_accuracy - 2.0).clamp(0.0, 95.0).floor();
    let mut chart = ChartBuilder::on(&right)
        .caption("held-out accuracy (%)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(x_range, low..100.0)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    chart.draw_series(LineSeries::new(
        history
            .accuracy
            .iter()
            .enumerate()
            .map(|(i, &a)| ((i + 1) as f64, 100.0 * a)),
        RED.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

/// Implements [`Classifier`] for a generated network:
/// `classifier!(Digits, "digits", per_pixel: true, epochs: 50, batch_size: 32, |x| x)`,
/// the closure turning rows of 64 pixels into the network's input.
#[macro_export]
macro_rules! classifier {
    ($net:ident, $file:literal, per_pixel: $per_pixel:literal, epochs: $epochs:literal, batch_size: $batch:literal, $input:expr) => {
        impl $crate::shared::Classifier for $net {
            const FILE: &'static str = $file;
            const PER_PIXEL: bool = $per_pixel;
            const EPOCHS: usize = $epochs;
            const BATCH_SIZE: usize = $batch;
            fn with_seed(seed: u64) -> Self {
                $net::with_seed(seed)
            }
            fn step(
                &mut self,
                x: ::denpa::ndarray::ArrayView2<'_, f32>,
                t: ::denpa::ndarray::ArrayView2<'_, f32>,
            ) -> Result<f32, ::denpa::Error> {
                self.train_step($input(x), t)
            }
            fn predict(
                &self,
                x: ::denpa::ndarray::ArrayView2<'_, f32>,
            ) -> Result<::denpa::ndarray::Array2<f32>, ::denpa::Error> {
                self.forward($input(x))
            }
            fn save(&self, path: &::std::path::Path) -> Result<(), ::denpa::Error> {
                $net::save(self, path)
            }
            fn load(path: &::std::path::Path) -> Result<Self, ::denpa::Error> {
                $net::load(path)
            }
            fn to_onnx(&self, path: &::std::path::Path) -> Result<(), ::denpa::Error> {
                $net::to_onnx(self, path)
            }
        }
    };
}
