//! Networks compiled by `build.rs` (see `denpa::build`), not by the macro.
//!
//! Run with `cargo run -p denpa-build-script-example`.

use denpa::ndarray::{array, Array2};

include!(concat!(env!("OUT_DIR"), "/xor.rs"));
include!(concat!(env!("OUT_DIR"), "/tiny_classifier.rs"));

/// Trains XOR; returns the four predictions.
fn train_xor() -> Result<Array2<f32>, denpa::Error> {
    let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let t = array![[0.0], [1.0], [1.0], [0.0]];
    let mut net = Xor::new();
    for _ in 0..5000 {
        net.train_step(x.view(), t.view())?;
    }
    net.forward(x.view())
}

/// Trains the classifier on three separable clusters; returns its accuracy.
fn train_classifier() -> Result<f64, denpa::Error> {
    let x = array![
        [0.0, 1.0],
        [0.1, 0.9],
        [1.0, 0.0],
        [0.9, 0.1],
        [1.0, 1.0],
        [0.9, 0.9]
    ];
    let t = array![
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0]
    ];
    let mut net = TinyClassifier::new();
    for _ in 0..300 {
        net.train_step(x.view(), t.view())?;
    }
    let y = net.forward(x.view())?;
    let right = y
        .rows()
        .into_iter()
        .zip(t.rows())
        .filter(|(p, q)| argmax(p.iter()) == argmax(q.iter()))
        .count();
    Ok(right as f64 / x.nrows() as f64)
}

fn argmax<'a>(values: impl Iterator<Item = &'a f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}

fn main() -> Result<(), denpa::Error> {
    println!("XOR predictions: {}", train_xor()?);
    println!("classifier accuracy: {:.0}%", 100.0 * train_classifier()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_networks_built_by_the_build_script_train() {
        let y = super::train_xor().unwrap();
        let expected = [false, true, true, false];
        for (i, &one) in expected.iter().enumerate() {
            assert_eq!(y[[i, 0]] > 0.5, one, "{y}");
        }
        assert_eq!(super::train_classifier().unwrap(), 1.0);
    }
}
