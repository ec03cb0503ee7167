//! Batch normalization (LANGUAGE.md §13): the running statistics after three
//! training steps on `[n]`, `[T, d]` and `[c, h, w]` values equal what an
//! independent numpy implementation computes (`tests/norm/running.py`, its
//! output committed as `running.json`); a training batch that would give a
//! statistic a single value is refused and changes nothing; inference reads
//! the running statistics; they are saved and loaded with the weights.

use denpa::ndarray::{ArrayD, IxDyn};
use denpa::Network;

denpa_macros::net! {
    network NormVector {
        dtype f64
        input x: [5]
        target t: [1]
        h = batch_norm(x)
        output y = sigmoid(dense(h, 1))
        loss = sse(y, t)
    }
}

denpa_macros::net! {
    network NormRows {
        dtype f64
        input x: [3, 2]
        target t: [1]
        h = batch_norm(x)
        output y = sigmoid(dense(flatten(h), 1))
        loss = sse(y, t)
    }
}

denpa_macros::net! {
    network NormImages {
        dtype f64
        input x: [2, 3, 3]
        target t: [1]
        h = batch_norm(x)
        output y = sigmoid(dense(flatten(h), 1))
        loss = sse(y, t)
    }
}

/// The batch of a step, as `running.py` makes it.
fn batch(step: usize, samples: usize, per_sample: &[usize]) -> ArrayD<f64> {
    let size: usize = per_sample.iter().product();
    let mut shape = vec![samples];
    shape.extend_from_slice(per_sample);
    let values = (0..samples * size)
        .map(|flat| {
            let (b, k) = (flat / size, flat % size);
            (0.37 * (step * 97 + b * 13 + k) as f64).sin() * (1 + step) as f64 + 0.5 * step as f64
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn reference(layout: &str) -> (Vec<f64>, Vec<f64>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/norm/running.json"
    ))
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = |key: &str| -> Vec<f64> {
        json[layout][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    (list("mean"), list("var"))
}

/// Three steps of `N` on the reference batches, then its running statistics
/// against numpy's.
fn three_steps<N: Network<Scalar = f64>>(layout: &str, per_sample: &[usize]) {
    let mut net = N::with_seed(1);
    let t = ArrayD::<f64>::from_elem(IxDyn(&[4, 1]), 0.5);
    for step in 0..3 {
        let x = batch(step, 4, per_sample);
        net.train_step_dyn(&[x.view()], &[t.view()]).unwrap();
    }
    let (mean, var) = reference(layout);
    let stats = net.statistics();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0].0, "h_mean");
    assert_eq!(stats[1].0, "h_var");
    for (ours, theirs, what) in [(&stats[0].1, &mean, "mean"), (&stats[1].1, &var, "var")] {
        assert_eq!(ours.len(), theirs.len(), "{layout} {what}");
        for (a, b) in ours.iter().zip(theirs) {
            assert!(
                (a - b).abs() < 1e-12,
                "{layout} running {what}: {a} ≠ numpy's {b}"
            );
        }
    }
}

#[test]
fn running_statistics_after_three_steps_are_numpys() {
    three_steps::<NormVector>("vector", &[5]);
    three_steps::<NormRows>("rows", &[3, 2]);
    three_steps::<NormImages>("images", &[2, 3, 3]);
}

#[test]
fn a_batch_of_one_is_refused_for_training_and_changes_nothing() {
    let mut net = NormVector::with_seed(2);
    let before = net.clone();
    let x = batch(0, 1, &[5]);
    let t = ArrayD::<f64>::from_elem(IxDyn(&[1, 1]), 0.5);
    let err = net.train_step_dyn(&[x.view()], &[t.view()]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`h` normalizes each feature over 1 value")
            && message.contains("at least 2"),
        "{message}"
    );
    assert!(matches!(
        err,
        denpa::Error::BatchTooSmall {
            values: 1,
            needed: 2,
            ..
        }
    ));
    assert!(net.gradients_dyn(&[x.view()], &[t.view()]).is_err());
    assert!(net.training_loss_dyn(&[x.view()], &[t.view()]).is_err());
    assert_eq!(net, before, "a refused step changed the network");
    // Inference reads the running statistics: one sample is fine.
    assert!(net.loss_dyn(&[x.view()], &[t.view()]).is_ok());
    assert!(net.forward_dyn(&[x.view()]).is_ok());
    // Rows give each statistic T values: one sample of 3 rows trains.
    let mut rows = NormRows::with_seed(2);
    let x = batch(0, 1, &[3, 2]);
    assert!(rows.train_step_dyn(&[x.view()], &[t.view()]).is_ok());
}

#[test]
fn inference_normalizes_with_the_running_statistics() {
    let mut net = NormVector::with_seed(3);
    net.h_mean.fill(0.25);
    net.h_var.fill(4.0);
    let x = batch(1, 2, &[5]);
    let y = net.forward_dyn(&[x.view()]).unwrap().remove(0).1;
    for b in 0..2 {
        let mut z = net.y_b[0];
        for k in 0..5 {
            let n = (x[[b, k]] - 0.25) / (4.0f64 + 1e-5).sqrt() * net.h_gain[k] + net.h_bias[k];
            z += n * net.y_w[[k, 0]];
        }
        let expected = 1.0 / (1.0 + (-z).exp());
        assert!(
            (y[[b, 0]] - expected).abs() < 1e-14,
            "{} ≠ {expected}",
            y[[b, 0]]
        );
    }
}

#[test]
fn running_statistics_are_saved_and_loaded_with_the_weights() {
    let mut net = NormImages::with_seed(4);
    let t = ArrayD::<f64>::from_elem(IxDyn(&[4, 1]), 0.5);
    net.train_step_dyn(&[batch(0, 4, &[2, 3, 3]).view()], &[t.view()])
        .unwrap();
    let path = std::env::temp_dir().join(format!("denpa-bn-{}.safetensors", std::process::id()));
    net.save(&path).unwrap();
    let loaded = NormImages::load(&path).unwrap();
    assert_eq!(loaded.h_mean, net.h_mean);
    assert_eq!(loaded.h_var, net.h_var);
    assert_ne!(
        loaded.h_var,
        NormImages::with_seed(4).h_var,
        "the step moved them"
    );
    std::fs::remove_file(&path).ok();
}
