//! The convolutional network of `examples/digits_cnn.nn`, trained as
//! `cargo run --release --example digits_cnn -- --seed S` trains it, reaches
//! a held-out accuracy of at least 98.5% as the mean over seeds 0–4, and at
//! least 98% for every one of them.

use denpa_accuracy::shared::{self, Classifier, Options};

denpa_macros::net!("../digits_cnn.nn");

denpa_accuracy::classifier!(DigitsCnn, "digits_cnn", per_pixel: false, epochs: 40, batch_size: 16, shared::images);

#[test]
fn the_cnn_classifies_98_5_percent_of_held_out_digits_over_five_seeds() {
    let mut accuracies = Vec::new();
    for seed in 0..5 {
        let mut options = Options::defaults::<DigitsCnn>(seed);
        options.data = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz").into();
        let digits = shared::load::<DigitsCnn>(&options).unwrap();
        let net: DigitsCnn = shared::train(&options, &digits, |_, _| {}).unwrap();
        let y = net.predict(digits.test_x.view()).unwrap();
        accuracies.push(denpa::data::accuracy(y.view(), &digits.test_labels));
    }
    let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
    let percent: Vec<String> = accuracies
        .iter()
        .map(|a| format!("{:.1}%", 100.0 * a))
        .collect();
    println!(
        "held-out accuracy per seed: {}, mean {:.2}%",
        percent.join(", "),
        100.0 * mean
    );
    assert!(
        mean >= 0.985,
        "mean held-out accuracy {:.2}% < 98.5% ({})",
        100.0 * mean,
        percent.join(", ")
    );
    assert!(
        accuracies.iter().all(|a| *a >= 0.98),
        "a seed below 98%: {}",
        percent.join(", ")
    );
}
