//! Checkpoints: parameters and optimizer state, saved atomically, resumed bit
//! for bit, and refused with a clear message when broken.

use std::path::PathBuf;

use denpa::ndarray::{array, Array2};
use denpa::runtime::weights::{self, SaveStage};
use denpa::Network;

denpa_macros::net! {
    network Learner {
        input x: [3]
        target t: [2]
        h = tanh(dense(x, 5))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train adam(lr = 0.01)
    }
}

denpa_macros::net! {
    network WithMomentum {
        input x: [3]
        target t: [2]
        output y = sigmoid(dense(x, 2))
        loss = sse(y, t)
        train momentum(lr = 0.1)
    }
}

denpa_macros::net! {
    network Dropper {
        input x: [3]
        target t: [2]
        h = dropout(tanh(dense(x, 16)), 0.5)
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train adam(lr = 0.01)
    }
}

denpa_macros::net! {
    network Normed {
        input x: [3]
        target t: [2]
        h = relu(batch_norm(dense(x, 6)))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train adam(lr = 0.01)
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("denpa-checkpoints-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn data() -> (Array2<f32>, Array2<f32>) {
    (
        array![
            [0.1, 0.5, -0.3],
            [0.7, -0.2, 0.4],
            [-0.5, 0.3, 0.9],
            [0.2, 0.2, -0.8]
        ],
        array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
    )
}

macro_rules! resume_is_bit_identical {
    ($net:ident, $file:literal) => {{
        let (x, t) = data();
        let mut straight = $net::with_seed(11);
        for _ in 0..10 {
            straight.train_step(x.view(), t.view()).unwrap();
        }
        let mut first = $net::with_seed(11);
        for _ in 0..4 {
            first.train_step(x.view(), t.view()).unwrap();
        }
        let path = temp($file);
        first.save_checkpoint(&path).unwrap();
        drop(first);
        let mut resumed = $net::load_checkpoint(&path).unwrap();
        assert_eq!(resumed.optimizer().step, 4);
        for _ in 0..6 {
            resumed.train_step(x.view(), t.view()).unwrap();
        }
        // Bit for bit: parameters, moments and step count all equal.
        assert_eq!(resumed, straight);
    }};
}

#[test]
fn adam_resumed_from_a_checkpoint_equals_training_that_never_stopped() {
    resume_is_bit_identical!(Learner, "adam.safetensors");
}

#[test]
fn dropout_resumed_from_a_checkpoint_draws_the_masks_of_training_that_never_stopped() {
    // The seed and the step count decide the masks: both are in the file.
    resume_is_bit_identical!(Dropper, "dropout.safetensors");
    let path = temp("dropout.safetensors");
    let meta = safetensors::SafeTensors::read_metadata(&std::fs::read(&path).unwrap())
        .unwrap()
        .1;
    let info = meta.metadata().clone().unwrap();
    assert_eq!(info.get("dropout_seed").map(String::as_str), Some("11"));
}

#[test]
fn batch_norm_resumed_from_a_checkpoint_keeps_its_running_statistics() {
    // h_mean and h_var are in the file: the resumed run moves them on.
    resume_is_bit_identical!(Normed, "batch_norm.safetensors");
}

#[test]
fn a_dropout_checkpoint_without_its_seed_is_refused() {
    // A checkpoint of a network without dropout, loaded into one with it.
    let path = temp("no_dropout_seed.safetensors");
    Learner::with_seed(1).save_checkpoint(&path).unwrap();
    let err = Dropper::load_checkpoint(&path).unwrap_err().to_string();
    assert!(err.contains("dropout seed"), "{err}");
}

#[test]
fn momentum_resumed_from_a_checkpoint_equals_training_that_never_stopped() {
    resume_is_bit_identical!(WithMomentum, "momentum.safetensors");
}

#[test]
fn a_save_interrupted_at_any_stage_leaves_the_previous_file_intact() {
    let path = temp("interrupted.safetensors");
    let (x, t) = data();
    let mut net = Learner::with_seed(1);
    net.save_checkpoint(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    net.train_step(x.view(), t.view()).unwrap();
    let newer = weights::checkpoint_bytes(&net).unwrap();
    for stage in [
        SaveStage::Create,
        SaveStage::Write,
        SaveStage::Sync,
        SaveStage::Rename,
    ] {
        let err = weights::write_atomically_with(&path, &newer, &mut |s| {
            if s == stage {
                Err(std::io::Error::other(format!("power failure before {s:?}")))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("power failure"), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the old file changed when {stage:?} failed"
        );
        let leftovers = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".interrupted.safetensors")
            })
            .count();
        assert_eq!(
            leftovers, 0,
            "a temporary file was left when {stage:?} failed"
        );
        // The old checkpoint still loads.
        assert_eq!(Learner::load_checkpoint(&path).unwrap().optimizer().step, 0);
    }
    weights::write_atomically_with(&path, &newer, &mut |_| Ok(())).unwrap();
    assert_eq!(Learner::load_checkpoint(&path).unwrap(), net);
}

#[test]
fn truncated_corrupted_and_mismatched_checkpoints_are_refused() {
    let path = temp("good.safetensors");
    let (x, t) = data();
    let mut net = Learner::with_seed(2);
    net.train_step(x.view(), t.view()).unwrap();
    net.save_checkpoint(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let broken = temp("broken.safetensors");
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&broken, &bytes[..cut]).unwrap();
        let err = Learner::load_checkpoint(&broken).unwrap_err().to_string();
        assert!(
            err.contains("not a safetensors file"),
            "cut at {cut}: {err}"
        );
    }
    // A flipped byte in the header.
    let mut corrupt = bytes.clone();
    corrupt[12] ^= 0x55;
    std::fs::write(&broken, &corrupt).unwrap();
    assert!(Learner::load_checkpoint(&broken).is_err());
    // Parameters only: not a checkpoint.
    let plain = temp("plain.safetensors");
    net.save(&plain).unwrap();
    let err = Learner::load_checkpoint(&plain).unwrap_err().to_string();
    assert!(err.contains("this is not a checkpoint"), "{err}");
    // Another network's checkpoint.
    let other = temp("other.safetensors");
    WithMomentum::new().save_checkpoint(&other).unwrap();
    let err = Learner::load_checkpoint(&other).unwrap_err().to_string();
    assert!(
        err.contains("is missing from the file") || err.contains("does not"),
        "{err}"
    );
    // And loading refuses without touching the network.
    let mut target = Learner::with_seed(9);
    let untouched = target.clone();
    assert!(weights::load_checkpoint_into(&mut target, &other).is_err());
    assert_eq!(target, untouched);
}

#[test]
fn a_checkpoint_names_its_tensors_and_step() {
    let path = temp("names.safetensors");
    let (x, t) = data();
    let mut net = Learner::new();
    net.train_step(x.view(), t.view()).unwrap();
    net.save_checkpoint(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let info = meta.metadata().clone().unwrap();
    assert_eq!(info["step"], "1");
    assert_eq!(info["network"], "Learner");
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names.len(), 4 + 2 * 4);
    assert!(
        names.contains(&"optimizer.m_h_w") && names.contains(&"optimizer.v_y_b"),
        "{names:?}"
    );
    assert_eq!(net.optimizer_state().1.len(), 8);
}
