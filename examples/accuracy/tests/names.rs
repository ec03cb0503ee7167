//! The names ladder, trained as `cargo run --release --example names_… --
//! --seed S` trains it (the full default steps), scored on the test names
//! in nats per character, the mean over seeds 0–2 within the issue's
//! bounds: bigram ≤ 2.50 (and within 0.01 of counting the bigrams), MLP ≤ 2.25,
//! GPT ≤ 2.13 (the same models by hand in JAX: 2.49, 2.23, 2.11); the MLP with
//! batch normalization is held to the MLP's bound.

use denpa::Network;
use denpa_accuracy::names::{self, Options, Rung};

denpa_macros::net!("../names_bigram.nn");
denpa_macros::net!("../names_mlp.nn");
denpa_macros::net!("../names_mlp_bn.nn");
denpa_macros::net!("../names_gpt.nn");

/// The mean test loss over seeds 0–2 of `N` trained as its example trains
/// it, after printing each seed's.
fn test_losses<N: Network<Scalar = f32>>(rung: &Rung) -> f64 {
    // The seeds in parallel: each trains on its own network and data.
    let losses: Vec<f64> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|seed| {
                scope.spawn(move || {
                    let mut options = Options::defaults(rung, seed);
                    options.data = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/names.txt").into();
                    options.eval_every = options.steps; // one validation loss, at the end
                    let corpus = names::load::<N>(&options).unwrap();
                    let (net, _) = names::train::<N>(&options, &corpus, |_, _, _| {}).unwrap();
                    names::loss(&net, &corpus.test, corpus.context).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let mean = losses.iter().sum::<f64>() / losses.len() as f64;
    let each: Vec<String> = losses.iter().map(|l| format!("{l:.4}")).collect();
    println!(
        "{}: test loss per seed {}, mean {mean:.4}",
        rung.file,
        each.join(", ")
    );
    mean
}

/// The test loss of the bigram model by counting: each row of the table the
/// training names' bigram counts plus one (makemore's smoothing), normalized;
/// the optimum a trained `softmax(W[prev])` approaches.
fn counted_bigram_loss() -> f64 {
    let options = Options::defaults(&names::BIGRAM, 0);
    let options = Options {
        data: concat!(env!("CARGO_MANIFEST_DIR"), "/../data/names.txt").into(),
        ..options
    };
    let corpus = names::load::<NamesBigram>(&options).unwrap();
    let (names::Examples::Contexts(prev, next), names::Examples::Contexts(test_prev, test_next)) =
        (&corpus.train, &corpus.test)
    else {
        panic!("the bigram model reads a context of one character");
    };
    let v = corpus.vocab.len();
    let mut counts = vec![vec![1.0f64; v]; v];
    for (p, n) in prev.column(0).iter().zip(next) {
        counts[*p][*n] += 1.0;
    }
    let loss: f64 = test_prev
        .column(0)
        .iter()
        .zip(test_next)
        .map(|(p, n)| -(counts[*p][*n] / counts[*p].iter().sum::<f64>()).ln())
        .sum();
    loss / test_next.len() as f64
}

#[test]
fn the_bigram_model_reaches_2_50_nats() {
    let mean = test_losses::<NamesBigram>(&names::BIGRAM);
    let counted = counted_bigram_loss();
    println!("names_bigram: by counting (add-one), test loss {counted:.4}");
    assert!(
        mean <= 2.50,
        "names_bigram: mean test loss {mean:.4} > 2.50"
    );
    // Gradient descent on the table must find what counting finds.
    assert!(
        (mean - counted).abs() <= 0.01,
        "names_bigram: mean test loss {mean:.4}, by counting {counted:.4}"
    );
}

#[test]
fn the_mlp_reaches_2_25_nats_after_20000_steps() {
    let mean = test_losses::<NamesMlp>(&names::MLP);
    assert!(mean <= 2.25, "names_mlp: mean test loss {mean:.4} > 2.25");
}

/// The MLP with its hidden layer batch-normalized (LANGUAGE.md §13): held
/// to the plain MLP's bound, its loss printed next to it.
#[test]
fn the_batch_normalized_mlp_reaches_2_25_nats_after_20000_steps() {
    let mean = test_losses::<NamesMlpBn>(&names::MLP_BN);
    assert!(
        mean <= 2.25,
        "names_mlp_bn: mean test loss {mean:.4} > 2.25"
    );
}

#[test]
fn the_gpt_reaches_2_13_nats_after_5000_steps() {
    let mean = test_losses::<NamesGpt>(&names::GPT);
    assert!(mean <= 2.13, "names_gpt: mean test loss {mean:.4} > 2.13");
}

#[test]
fn an_example_run_writes_its_weights_model_and_plots() {
    let out = std::env::temp_dir().join(format!("denpa-names-run-{}", std::process::id()));
    let mut options = Options::defaults(&names::BIGRAM, 3);
    options.data = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/names.txt").into();
    options.steps = 100;
    options.eval_every = 40;
    options.out = out.clone();
    names::run::<NamesBigram>(&names::BIGRAM, &options).unwrap();
    for file in ["safetensors", "onnx", "png", "svg"] {
        let path = out.join(format!("names_bigram.{file}"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "{} was not written", path.display());
    }
    std::fs::remove_dir_all(&out).ok();
}
