//! Every network in `tests/fixtures/pass/` compiles through `net!` without
//! warnings, and its generated gradients agree with central finite
//! differences in f64.
#![deny(warnings)]

use denpa::ndarray::{ArrayD, IxDyn};
use denpa::Network;

/// Deterministic values in [0.1, 1.0): positive, so `log` and `sqrt` of
/// inputs are defined, and targets are valid probabilities.
fn data(shape: &[usize], salt: usize) -> ArrayD<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (salt as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        0.1 + 0.9 * ((state >> 11) as f64 / (1u64 << 53) as f64)
    })
}

fn batch(args: &[(&str, &[usize])], batch: usize, salt: usize) -> Vec<ArrayD<f64>> {
    args.iter()
        .enumerate()
        .map(|(i, (_, per_sample))| {
            let mut shape = vec![batch];
            shape.extend_from_slice(per_sample);
            data(&shape, salt + i)
        })
        .collect()
}

/// Gradient check of a fixture's network on a batch of 3, for two seeds.
fn check<N: Network<Scalar = f64> + Clone>() {
    for seed in [1, 2] {
        let net = N::with_seed(seed);
        let inputs = batch(N::INPUTS, 3, 10);
        let targets = batch(N::TARGETS, 3, 20);
        let inputs: Vec<_> = inputs.iter().map(|a| a.view()).collect();
        let targets: Vec<_> = targets.iter().map(|a| a.view()).collect();
        let report = denpa::runtime::gradcheck(&net, &inputs, &targets, 1e-6, 1e-6).unwrap();
        assert!(!report.comparisons.is_empty() || N::NAME.starts_with("NoGradient"));
        assert!(report.passed(1e-6), "{} (seed {seed}):\n{report}", N::NAME);
    }
}

macro_rules! fixtures {
    ($($test:ident: $net:ident = $file:tt;)*) => {$(
        #[allow(non_snake_case)]
        mod $test {
            denpa_macros::net!($file);

            #[test]
            fn gradients_match_finite_differences() {
                super::check::<$net>();
            }
        }
    )*};
}

fixtures! {
    two_layer_sigmoid_sse: TwoLayerSigmoidSse = "tests/fixtures/pass/two_layer_sigmoid_sse.nn";
}
