//! The digits examples' trained networks, exported to ONNX, classify the
//! held-out digits in ONNX Runtime exactly as they do in denpa: the same
//! count right (and the same probabilities to 1e-5).

#[path = "../../../tests/common/onnx.rs"]
mod onnx;

use denpa::ndarray::ArrayD;
use denpa_accuracy::shared::{self, Classifier, Options};

denpa_macros::net!("../digits.nn");
denpa_macros::net!("../digits_cnn.nn");

denpa_accuracy::classifier!(Digits, "digits", per_pixel: true, epochs: 50, batch_size: 32, |x| x);
denpa_accuracy::classifier!(DigitsCnn, "digits_cnn", per_pixel: false, epochs: 40, batch_size: 16, shared::images);

/// Trains `N` as its example does (seed 0), and makes the ONNX case of its
/// held-out images with their labels.
fn trained_case<N>(
    dir: &std::path::Path,
    name: &str,
    input: fn(&shared::Digits) -> ArrayD<f32>,
) -> onnx::Case
where
    N: Classifier + denpa::Network<Scalar = f32>,
{
    let mut options = Options::defaults::<N>(0);
    options.data = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz").into();
    let digits = shared::load::<N>(&options).unwrap();
    let net: N = shared::train(&options, &digits, |_, _| {}).unwrap();
    let y = net.predict(digits.test_x.view()).unwrap();
    let accuracy = denpa::data::accuracy(y.view(), &digits.test_labels);
    let correct = (accuracy * digits.test_labels.len() as f64).round() as usize;
    println!(
        "{name}: held-out accuracy {:.1}% in denpa",
        100.0 * accuracy
    );
    let batch = onnx::Data::Numbers(input(&digits));
    let mut case = onnx::case(dir, name, &net, None, &[batch], 1e-5);
    onnx::add_labels(&case, &digits.test_labels);
    case.accuracy = Some(("y".into(), correct));
    case
}

#[test]
fn trained_digit_classifiers_score_the_same_in_onnx_runtime() {
    let dir = std::env::temp_dir().join(format!("denpa-onnx-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        trained_case::<Digits>(&dir, "digits", |d| d.test_x.clone().into_dyn()),
        trained_case::<DigitsCnn>(&dir, "digits_cnn", |d| {
            shared::images(d.test_x.view()).to_owned().into_dyn()
        }),
    ];
    onnx::check(&dir, &cases);
    std::fs::remove_dir_all(&dir).ok();
}
