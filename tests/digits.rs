//! The digits network of `examples/digits.nn` learns real handwriting:
//! trained as `examples/digits.rs` trains it, from the default seed, it
//! classifies at least 97% of the images it never saw.

use denpa::data::{self, Minibatches, Standardizer};
use denpa::ndarray::{Array2, Axis};

denpa_macros::net!("examples/digits.nn");

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv.gz");

/// The images and labels, split and standardized as the example does.
struct Prepared {
    train_x: Array2<f32>,
    train_labels: Vec<usize>,
    test_x: Array2<f32>,
    test_labels: Vec<usize>,
}

fn prepare(seed: u64) -> Prepared {
    let (images, labels) = data::load_digits(DIGITS).unwrap();
    let split = data::train_test_split(images.view(), &labels, 0.2, seed);
    let scaler = Standardizer::fit(split.train_x.view());
    Prepared {
        train_x: scaler.transform(split.train_x.view()),
        train_labels: split.train_labels,
        test_x: scaler.transform(split.test_x.view()),
        test_labels: split.test_labels,
    }
}

#[test]
fn the_digits_network_classifies_97_percent_of_held_out_images() {
    // The example's defaults: seed 0, 50 epochs of minibatches of 32.
    let seed = 0;
    let data = prepare(seed);
    let train_t = data::one_hot::<f32>(&data.train_labels, data::DIGITS_CLASSES);
    let batches = Minibatches::new(data.train_x.view(), train_t.view(), 32, seed);
    let mut net = Digits::with_seed(seed);
    let first = net.loss(data.train_x.view(), train_t.view()).unwrap();
    for epoch in 0..50 {
        for (x, t) in batches.epoch(epoch) {
            net.train_step(x.view(), t.view()).unwrap();
        }
    }
    let last = net.loss(data.train_x.view(), train_t.view()).unwrap();
    assert!(
        last < first / 10.0,
        "the loss fell only from {first} to {last}"
    );

    let y = net.forward(data.test_x.view()).unwrap();
    let accuracy = data::accuracy(y.view(), &data.test_labels);
    let confusion = data::confusion_matrix(y.view(), &data.test_labels);
    assert_eq!(confusion.sum(), 360);
    assert!(
        accuracy >= 0.97,
        "held-out accuracy {:.1}%, expected at least 97%\n{}",
        100.0 * accuracy,
        data::format_confusion_matrix(confusion.view(), &[])
    );
}

#[test]
fn the_data_is_split_and_standardized_as_the_example_says() {
    let data = prepare(0);
    assert_eq!(data.train_x.dim(), (1437, 64));
    assert_eq!(data.test_x.dim(), (360, 64));
    assert_eq!(data.train_labels.len(), 1437);
    assert_eq!(data.test_labels.len(), 360);
    // the training pixels have mean 0 and variance 1 per column, or are
    // constant (0) where the pixel never varies; nothing is NaN
    assert!(data
        .train_x
        .iter()
        .chain(&data.test_x)
        .all(|v| v.is_finite()));
    let mean = data.train_x.mean_axis(Axis(0)).unwrap();
    let var = data.train_x.var_axis(Axis(0), 0.0);
    assert!(mean.iter().all(|m| m.abs() < 1e-4), "{mean}");
    assert!(
        var.iter().all(|v| (v - 1.0).abs() < 1e-3 || *v == 0.0),
        "{var}"
    );
    assert!(var.iter().any(|v| *v == 0.0), "some pixel is always blank");
    // every digit is held out, in roughly its share
    for digit in 0..10 {
        let held_out = data.test_labels.iter().filter(|&&l| l == digit).count();
        assert!((20..=50).contains(&held_out), "{held_out} of digit {digit}");
    }
    // the same seed gives the same split; another seed another
    assert_eq!(prepare(0).test_labels, data.test_labels);
    assert_ne!(prepare(1).test_labels, data.test_labels);
}
