//! Training and inference modes (LANGUAGE.md §13): `loss`, `forward` and
//! `forward_into` are the inference mode (dropout passes values through);
//! `gradients`, `training_loss` and `train_step` the training mode, with
//! the masks of the next step, drawn from the network's dropout seed.

use denpa::ndarray::{array, Array2};
use denpa::Network;

denpa_macros::net! {
    network Dropped {
        dtype f64
        input x: [3]
        target t: [2]
        h = dropout(tanh(dense(x, 8)), 0.4)
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train adam(lr = 0.01)
    }
}

// The same network without dropout: its inference mode.
denpa_macros::net! {
    network Plain {
        dtype f64
        input x: [3]
        target t: [2]
        h = tanh(dense(x, 8))
        output y = softmax(dense(h, 2))
        loss = cross_entropy(y, t)
        train adam(lr = 0.01)
    }
}

fn data() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.1, 0.5, -0.3], [0.7, -0.2, 0.4], [-0.5, 0.3, 0.9]],
        array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
    )
}

fn twins() -> (Dropped, Plain) {
    let dropped = Dropped::with_seed(3);
    let mut plain = Plain::with_seed(3);
    plain.h_w.assign(&dropped.h_w);
    plain.h_b.assign(&dropped.h_b);
    plain.y_w.assign(&dropped.y_w);
    plain.y_b.assign(&dropped.y_b);
    (dropped, plain)
}

#[test]
fn inference_passes_values_through_dropout() {
    let (dropped, plain) = twins();
    let (x, t) = data();
    assert_eq!(
        dropped.loss(x.view(), t.view()).unwrap(),
        plain.loss(x.view(), t.view()).unwrap()
    );
    assert_eq!(
        dropped.forward(x.view()).unwrap(),
        plain.forward(x.view()).unwrap()
    );
    assert!(!Plain::SOURCE.contains("dropout"));
}

#[test]
fn training_mode_drops_and_gradients_change_nothing() {
    let (dropped, _) = twins();
    let (x, t) = data();
    let before = dropped.clone();
    let (loss, grads) = dropped.gradients(x.view(), t.view()).unwrap();
    // gradients is a pure function of the network and the batch.
    let (again, grads_again) = dropped.gradients(x.view(), t.view()).unwrap();
    assert_eq!((loss, &grads), (again, &grads_again));
    assert_eq!(dropped, before, "gradients changed the network");
    // It returns the training-mode loss, not the inference one.
    assert_eq!(loss, dropped.training_loss(x.view(), t.view()).unwrap());
    assert_ne!(loss, dropped.loss(x.view(), t.view()).unwrap());
    // And train_step uses the same masks: it returns the same loss (to
    // round-off: its in-place code sums in another order).
    let mut stepped = dropped.clone();
    let step_loss = stepped.train_step(x.view(), t.view()).unwrap();
    assert!((step_loss - loss).abs() < 1e-12, "{step_loss} ≠ {loss}");
}

#[test]
fn masks_follow_the_seed_and_the_step() {
    let (dropped, _) = twins();
    let (x, t) = data();
    let at = |net: &Dropped| net.training_loss(x.view(), t.view()).unwrap();
    assert_eq!(dropped.dropout_seed(), 3, "with_seed seeds the masks");
    let mut reseeded = dropped.clone();
    reseeded.set_dropout_seed(4);
    assert_ne!(at(&reseeded), at(&dropped));
    assert_eq!(Network::dropout_seed(&reseeded), Some(4));
    let mut later = dropped.clone();
    *later.optimizer_state_mut().0 += 1;
    assert_ne!(at(&later), at(&dropped), "the next step draws new masks");
    // A network without dropout has no seed to keep.
    assert_eq!(Network::dropout_seed(&Plain::new()), None);
}

#[test]
fn gradcheck_differentiates_the_training_loss_with_the_masks_fixed() {
    let (dropped, _) = twins();
    let (x, t) = data();
    let report = denpa::runtime::gradcheck(
        &dropped,
        &[x.view().into_dyn()],
        &[t.view().into_dyn()],
        1e-6,
        1e-6,
    )
    .unwrap();
    assert!(report.passed(1e-6), "{report}");
}
