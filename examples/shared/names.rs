//! What the three names examples share — the names ladder of
//! `examples/names_bigram.rs`, `names_mlp.rs` and `names_gpt.rs`: the command
//! line, the split of `examples/data/names.txt`, the training loop with its
//! progress bar and validation loss, the test loss in nats per character,
//! the saved weights and ONNX model, the plot, and the names each model
//! writes. The three differ only in the network; how a network reads its
//! context — the n characters before (bigram, MLP) or a window of a stream
//! (GPT) — is read off its declared input by [`Context::of`].

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use denpa::data::{self, Context, Generator, NameSplit, Vocabulary, Windows};
use denpa::ndarray::{s, Array1, Array2, ArrayD, Axis, IxDyn};
use denpa::{Arg, Network};
use indicatif::{ProgressBar, ProgressStyle};
use plotters::coord::Shift;
use plotters::prelude::*;

#[path = "cli.rs"]
mod cli;

/// One rung of the ladder: a network and how it is trained by default.
pub struct Rung {
    /// The file name of its outputs: `names_gpt` gives `names_gpt.safetensors`.
    pub file: &'static str,
    /// The default number of training steps.
    pub steps: usize,
    /// The default number of examples (or windows) a step.
    pub batch_size: usize,
    /// Steps between two measurements of the validation loss.
    pub eval_every: usize,
}

/// The bigram model: a table, so big batches (Adam at 0.01, in the file:
/// at 0.1 the steps' noise leaves it 0.013 above counting).
#[allow(dead_code)] // each example trains its own rung
pub const BIGRAM: Rung = Rung {
    file: "names_bigram",
    steps: 4000,
    batch_size: 1024,
    eval_every: 500,
};

/// The MLP of Bengio et al.: 20,000 steps of 32 (Adam at 0.003, in the file).
#[allow(dead_code)] // each example trains its own rung
pub const MLP: Rung = Rung {
    file: "names_mlp",
    steps: 20_000,
    batch_size: 32,
    eval_every: 1000,
};

/// The MLP with its hidden layer batch-normalized: the MLP's steps.
#[allow(dead_code)] // each example trains its own rung
pub const MLP_BN: Rung = Rung {
    file: "names_mlp_bn",
    steps: 20_000,
    batch_size: 32,
    eval_every: 1000,
};

/// The GPT of LANGUAGE.md §12: 5,000 steps of 32 windows (Adam at 0.001).
#[allow(dead_code)] // each example trains its own rung
pub const GPT: Rung = Rung {
    file: "names_gpt",
    steps: 5000,
    batch_size: 32,
    eval_every: 500,
};

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seeds the initial weights, the minibatches and the generated names
    /// (not the split of the names: that is fixed, `data::NAMES_SPLIT_SEED`).
    pub seed: u64,
    /// Training steps.
    pub steps: usize,
    /// Examples (or windows) a step.
    pub batch_size: usize,
    /// Steps between two measurements of the validation loss.
    pub eval_every: usize,
    /// How many names to generate at the end.
    pub names: usize,
    /// Where the weights, the model and the plots go.
    pub out: PathBuf,
    /// The names file.
    pub data: PathBuf,
}

impl Options {
    /// The defaults of a rung with a seed: what the example runs without
    /// flags.
    pub fn defaults(rung: &Rung, seed: u64) -> Options {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Options {
            seed,
            steps: rung.steps,
            batch_size: rung.batch_size,
            eval_every: rung.eval_every,
            names: 20,
            out: root.join("target"),
            data: root.join("examples/data/names.txt"),
        }
    }

    /// Reads `--seed`, `--steps`, `--batch-size`, `--names` and `--out`.
    pub fn parse(rung: &Rung) -> Options {
        let flags = ["--seed", "--steps", "--batch-size", "--names", "--out"];
        cli::parse(
            Options::defaults(rung, 0),
            &usage(rung),
            &flags,
            |options, flag, value| {
                match flag {
                    "--seed" => options.seed = cli::number(flag, &value)?,
                    "--steps" => options.steps = cli::number(flag, &value)?,
                    "--batch-size" => options.batch_size = cli::number(flag, &value)?,
                    "--names" => options.names = cli::number(flag, &value)?,
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

fn usage(rung: &Rung) -> String {
    let Rung {
        file,
        steps,
        batch_size,
        ..
    } = rung;
    format!(
        "\
usage: {file} [--seed N] [--steps N] [--batch-size N] [--names N] [--out DIR]

  --seed N        seeds the initial weights, the minibatches and the
                  generated names (the split of the names is fixed; default 0)
  --steps N       training steps (default {steps})
  --batch-size N  examples a step (default {batch_size})
  --names N       names to generate at the end (default 20)
  --out DIR       where the weights, the model and the plots go (default: target/)"
    )
}

/// Examples of one part of the split, as a network of some context reads
/// them.
pub enum Examples {
    /// The n characters before each character to predict (and before each
    /// name's final `.`), and that character.
    Contexts(Array2<usize>, Array1<usize>),
    /// The names joined into one `.`-separated stream.
    Stream(Vec<usize>),
}

impl Examples {
    /// The examples of `names` for a model of `context`.
    pub fn of(
        names: &[String],
        vocab: &Vocabulary,
        context: Context,
    ) -> Result<Self, denpa::Error> {
        Ok(match context {
            Context::Last(n) => {
                let (x, y) = data::context_examples(names, vocab, n)?;
                Examples::Contexts(x, y)
            }
            Context::Causal(_) => Examples::Stream(data::name_stream(names, vocab)?),
        })
    }

    /// The characters predicted, each scored once by [`loss`].
    pub fn characters(&self) -> usize {
        match self {
            Examples::Contexts(_, y) => y.len(),
            Examples::Stream(stream) => stream.len() - 1,
        }
    }
}

/// The names, split (80% train, 10% validation, 10% test, by the fixed
/// `NAMES_SPLIT_SEED`), their vocabulary, and the examples of each part.
pub struct Corpus {
    /// The characters of all the names, `.` first.
    pub vocab: Vocabulary,
    /// The names of each part.
    pub split: NameSplit,
    /// How the network reads its context.
    pub context: Context,
    /// The training examples.
    pub train: Examples,
    /// The validation examples.
    pub validation: Examples,
    /// The test examples.
    pub test: Examples,
}

/// Loads the names of `options.data` as `N` reads them.
pub fn load<N: Network>(options: &Options) -> Result<Corpus, Box<dyn Error>> {
    let context = Context::of::<N>().ok_or_else(|| {
        format!(
            "{}: its first input is not a context of characters (`[n] in 0..V` or `[] in 0..V`)",
            N::NAME
        )
    })?;
    let names = data::read_names(&options.data)?;
    let vocab = Vocabulary::from_names(&names);
    let range = N::INPUT_RANGES[0].unwrap_or(0);
    if vocab.len() != range {
        return Err(format!(
            "{}: the names use {} characters with `.`, but `{}` is in 0..{range}",
            options.data.display(),
            vocab.len(),
            N::INPUTS[0].0
        )
        .into());
    }
    let split = data::split_names(&names, data::NAMES_SPLIT_SEED);
    Ok(Corpus {
        train: Examples::of(&split.train, &vocab, context)?,
        validation: Examples::of(&split.validation, &vocab, context)?,
        test: Examples::of(&split.test, &vocab, context)?,
        vocab,
        split,
        context,
    })
}

/// Contexts `[rows, n]` as the batch of `N`'s first input (`[rows]` for an
/// input of one index).
fn input<N: Network>(x: Array2<usize>) -> ArrayD<usize> {
    let shape: Vec<usize> = std::iter::once(x.nrows())
        .chain(N::INPUTS[0].1.iter().copied())
        .collect();
    x.into_shape_with_order(IxDyn(&shape))
        .expect("n indices a row, in standard layout")
}

/// The batch of training step `step`: random examples (with replacement) or
/// random windows, drawn from the seed and the step.
fn batch<N: Network>(
    train: &Examples,
    context: Context,
    options: &Options,
    step: u64,
) -> (ArrayD<usize>, ArrayD<usize>) {
    match train {
        Examples::Contexts(x, y) => {
            let rows = data::random_rows(y.len(), options.batch_size, options.seed, step);
            let xb = x.select(Axis(0), &rows);
            let yb = y.select(Axis(0), &rows);
            (input::<N>(xb), yb.into_dyn())
        }
        Examples::Stream(stream) => {
            let windows = Windows::new(stream, context.len(), options.seed);
            let (xb, yb) = windows.batch(step, options.batch_size);
            (xb.into_dyn(), yb.into_dyn())
        }
    }
}

/// The mean loss of `net` over `examples` in nats per character: for
/// contexts every example once; for a stream its windows of T at stride T,
/// every position of each scored (the tail shorter than a window left out).
pub fn loss<N: Network<Scalar = f32>>(
    net: &N,
    examples: &Examples,
    context: Context,
) -> Result<f64, denpa::Error> {
    let (x, y) = match examples {
        Examples::Contexts(x, y) => (x.clone(), y.clone().insert_axis(Axis(1))),
        Examples::Stream(stream) => Windows::new(stream, context.len(), 0).strided(context.len()),
    };
    // Chunks of about 2048 characters: the loss is a mean over a chunk's
    // samples, each of which scores the same number of characters.
    let chunk = (2048 / x.ncols().max(1)).max(1);
    let (mut total, mut rows) = (0.0, 0);
    let mut start = 0;
    while start < x.nrows() {
        let end = (start + chunk).min(x.nrows());
        let xb = input::<N>(x.slice(s![start..end, ..]).to_owned());
        let yb = y.slice(s![start..end, ..]).to_owned();
        let yb = match examples {
            Examples::Contexts(..) => yb.remove_axis(Axis(1)).into_dyn(),
            Examples::Stream(_) => yb.into_dyn(),
        };
        let l = net.loss_dyn(&[Arg::Indices(xb.view())], &[Arg::Indices(yb.view())])?;
        total += f64::from(l) * (end - start) as f64;
        rows += end - start;
        start = end;
    }
    Ok(total / rows.max(1) as f64)
}

/// The losses of a run: the training loss (the mean over each interval of
/// steps, each measured before its update) and the validation loss at the
/// end of each interval, by step.
#[derive(Default, Debug, Clone)]
pub struct History {
    /// `(step, mean training loss of the steps up to it)`.
    pub train: Vec<(usize, f64)>,
    /// `(step, validation loss after it)`.
    pub validation: Vec<(usize, f64)>,
    /// The time spent in training steps alone.
    pub training_time: Duration,
}

/// Trains `N` from the seed's weights for `options.steps` steps, calling
/// `each` after every step with the step number (from 1) and its loss, and
/// measuring the validation loss every `options.eval_every` steps and after
/// the last.
pub fn train<N: Network<Scalar = f32>>(
    options: &Options,
    corpus: &Corpus,
    mut each: impl FnMut(usize, f64, Option<f64>),
) -> Result<(N, History), Box<dyn Error>> {
    let mut net = N::with_seed(options.seed);
    let mut history = History::default();
    let (mut sum, mut count) = (0.0, 0);
    for step in 1..=options.steps {
        let (x, y) = batch::<N>(&corpus.train, corpus.context, options, step as u64);
        let start = Instant::now();
        let l = net.train_step_dyn(&[Arg::Indices(x.view())], &[Arg::Indices(y.view())])?;
        history.training_time += start.elapsed();
        sum += f64::from(l);
        count += 1;
        let mut validation = None;
        if step % options.eval_every.max(1) == 0 || step == options.steps {
            let v = loss(&net, &corpus.validation, corpus.context)?;
            history.train.push((step, sum / count as f64));
            history.validation.push((step, v));
            (sum, count) = (0.0, 0);
            validation = Some(v);
        }
        each(step, f64::from(l), validation);
    }
    Ok((net, history))
}

/// `count` names written by `net`, its draws seeded by `seed`.
pub fn generate<N: Network<Scalar = f32>>(
    net: &N,
    corpus: &Corpus,
    count: usize,
    seed: u64,
) -> Result<Vec<String>, denpa::Error> {
    let mut generator = Generator::new(&corpus.vocab, corpus.context, seed);
    generator.names(count, Generator::from_network(net))
}

/// The program of a rung: its command line, then [`run`]; an error is
/// printed and fails the process.
pub fn main<N: Network<Scalar = f32>>(rung: &Rung) -> std::process::ExitCode {
    match run::<N>(rung, &Options::parse(rung)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The example: [`load`], [`train`] with a progress bar, the test loss, the
/// weights saved and loaded back, the ONNX model, the plot, generated names
/// and a last line `test loss: 2.123 nats per character` for scripts.
pub fn run<N: Network<Scalar = f32>>(rung: &Rung, options: &Options) -> Result<(), Box<dyn Error>> {
    let corpus = load::<N>(options)?;
    let split = &corpus.split;
    println!(
        "{}: {} names ({} train, {} validation, {} test), {} characters with `.`; {} predicted characters to train on",
        rung.file,
        split.train.len() + split.validation.len() + split.test.len(),
        split.train.len(),
        split.validation.len(),
        split.test.len(),
        corpus.vocab.len(),
        corpus.train.characters(),
    );
    let bar = ProgressBar::new(options.steps as u64).with_style(
        ProgressStyle::with_template("[{bar:30}] step {pos}/{len}  {msg}")?.progress_chars("=> "),
    );
    let mut last_validation = f64::NAN;
    let start = Instant::now();
    let (net, history) = train::<N>(options, &corpus, |step, loss, validation| {
        if let Some(v) = validation {
            last_validation = v;
        }
        if step % 50 == 0 || validation.is_some() {
            bar.set_message(format!(
                "loss {loss:.4}  validation loss {last_validation:.4}"
            ));
        }
        bar.inc(1);
    })?;
    bar.finish();
    let seconds = start.elapsed().as_secs_f64();
    let training = history.training_time.as_secs_f64();
    println!(
        "trained {} steps of {} in {training:.1} s ({:.0} steps/s; {seconds:.1} s with the validation losses)",
        options.steps,
        options.batch_size,
        options.steps as f64 / training.max(1e-9),
    );
    let test = loss(&net, &corpus.test, corpus.context)?;

    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let weights = options.out.join(format!("{}.safetensors", rung.file));
    denpa::runtime::weights::save(&net, &weights)?;
    let mut reloaded = N::with_seed(options.seed.wrapping_add(1));
    denpa::runtime::weights::load_into(&mut reloaded, &weights)?;
    if loss(&reloaded, &corpus.test, corpus.context)? != test {
        return Err(format!("{} does not give back the same network", weights.display()).into());
    }
    println!(
        "saved the weights to {} (and loaded them back)",
        weights.display()
    );
    let model = options.out.join(format!("{}.onnx", rung.file));
    denpa::onnx::save(&net, &model)?;
    println!(
        "exported the forward pass to {} (ONNX, opset {})",
        model.display(),
        denpa::onnx::OPSET
    );
    if !history.train.is_empty() {
        let png = options.out.join(format!("{}.png", rung.file));
        let svg = options.out.join(format!("{}.svg", rung.file));
        plot(
            BitMapBackend::new(&png, (800, 480)).into_drawing_area(),
            &history,
        )?;
        plot(
            SVGBackend::new(&svg, (800, 480)).into_drawing_area(),
            &history,
        )?;
        println!(
            "plotted the training and validation losses to {} and {}",
            png.display(),
            svg.display()
        );
    }

    let start = Instant::now();
    let names = generate(&net, &corpus, options.names, options.seed)?;
    let took = start.elapsed().as_secs_f64();
    println!(
        "\n{} names it writes (seed {}, in {:.3} s):",
        names.len(),
        options.seed,
        took
    );
    for name in &names {
        let known = if corpus.split.train.contains(name) {
            "  (a training name)"
        } else {
            ""
        };
        println!("  {name}{known}");
    }
    println!("\ntest loss: {test:.3} nats per character");
    Ok(())
}

/// Draws the training loss (the mean of each interval) and the validation
/// loss against the step.
fn plot<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &History,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    cli::register_font()?;
    root.fill(&WHITE)?;
    let all = || history.train.iter().chain(&history.validation);
    let last = all().map(|&(s, _)| s).max().unwrap_or(1) as f64;
    let high = all().map(|&(_, l)| l).fold(0.0, f64::max) * 1.02;
    let low = all().map(|&(_, l)| l).fold(f64::INFINITY, f64::min) * 0.98;
    let mut chart = ChartBuilder::on(&root)
        .caption("loss (nats per character)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..last, low.min(high - 1e-6)..high)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    let line = |points: &[(usize, f64)]| -> Vec<(f64, f64)> {
        points.iter().map(|&(s, l)| (s as f64, l)).collect()
    };
    chart
        .draw_series(LineSeries::new(line(&history.train), BLUE.stroke_width(2)))?
        .label("training")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            line(&history.validation),
            RED.stroke_width(2),
        ))?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
