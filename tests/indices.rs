//! Batches of indices at run time: an index outside its range is refused
//! with an error that names the network, the argument, the sample, the
//! position and the value, by every function that takes the batch, and
//! nothing is computed or changed; the dynamic calls take indices as
//! `Arg::Indices`, refuse numbers in their place, and carry the ranges.

use denpa::ndarray::{array, Array1, Array2};
use denpa::{Arg, Error, Network};

denpa_macros::net! {
    /// A context of three characters (indices of rank 1), the next one as
    /// the target (rank 0).
    network Context {
        input  ctx: [3] in 0..5
        target next: [] in 0..5
        param C: [5, 2] = normal(0, 1)
        param W: [6, 5] = normal(0, 0.5)
        e = flatten(C[ctx])
        output p = softmax(e @ W)
        loss = cross_entropy(p, next)
        train adam(lr = 0.1)
    }
}

denpa_macros::net! {
    /// Indices per position as the target (rank 1).
    network Positions {
        input  x: [4, 2]
        target t: [4] in 0..3
        param W: [2, 3] = normal(0, 1)
        output p = softmax(x @ W)
        loss = cross_entropy(p, t)
    }
}

fn index_error(err: Error) -> (String, usize, Option<usize>, usize, usize) {
    match err {
        Error::Index {
            argument,
            sample,
            position,
            value,
            range,
            ..
        } => (argument.to_string(), sample, position, value, range),
        other => panic!("not an index error: {other}"),
    }
}

#[test]
fn an_input_index_out_of_range_is_refused_by_every_function() {
    let ctx = array![[0usize, 4, 1], [2, 5, 3]];
    let next = array![1usize, 2];
    let mut net = Context::with_seed(1);
    let before = net.clone();
    let expected = ("ctx".to_string(), 1, Some(1), 5, 5);
    assert_eq!(index_error(net.forward(ctx.view()).unwrap_err()), expected);
    assert_eq!(
        index_error(net.loss(ctx.view(), next.view()).unwrap_err()),
        expected
    );
    assert_eq!(
        index_error(net.gradients(ctx.view(), next.view()).unwrap_err()),
        expected
    );
    let err = net.train_step(ctx.view(), next.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Context: the argument `ctx` holds the index 5 at sample 1, position 1, outside its range 0..5"
    );
    assert_eq!(net, before, "a refused step changes nothing");
    assert_eq!(net.optimizer().step, 0);
    let mut ws = ContextWorkspace::default();
    let mut p = Array2::zeros((2, 5));
    assert_eq!(
        index_error(net.forward_into(&mut ws, ctx.view(), &mut p).unwrap_err()),
        expected
    );
    assert!(p.iter().all(|v| *v == 0.0), "nothing computed");
}

#[test]
fn a_target_index_out_of_range_is_refused() {
    let ctx = array![[0usize, 4, 1], [2, 0, 3]];
    let next = array![1usize, 9];
    let mut net = Context::with_seed(1);
    let before = net.clone();
    let err = net.train_step(ctx.view(), next.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Context: the argument `next` holds the index 9 at sample 1, outside its range 0..5"
    );
    assert_eq!(index_error(err), ("next".into(), 1, None, 9, 5));
    assert_eq!(net, before);

    // Per position: the sample and the position.
    let x = Array2::<f32>::zeros((2, 8))
        .into_shape_with_order((2, 4, 2))
        .unwrap();
    let t = array![[0usize, 1, 2, 0], [1, 1, 3, 2]];
    let net = Positions::new();
    assert_eq!(
        index_error(net.loss(x.view(), t.view()).unwrap_err()),
        ("t".into(), 1, Some(2), 3, 3)
    );
}

#[test]
fn a_batch_of_indices_of_the_wrong_shape_is_refused() {
    let net = Context::new();
    let ctx = array![[0usize, 1], [2, 3]];
    let err = net.forward(ctx.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Context: the argument `ctx` has shape [2, 2], expected [batch, 3]"
    );
    let next = array![1usize, 2, 3];
    let ctx = array![[0usize, 1, 2], [2, 3, 4]];
    let err = net.loss(ctx.view(), next.view()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                argument: "next",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_dynamic_calls_take_indices_and_carry_their_ranges() {
    assert_eq!(Context::INPUT_RANGES, &[Some(5)]);
    assert_eq!(Context::TARGET_RANGES, &[Some(5)]);
    assert_eq!(Positions::INPUT_RANGES, &[None]);
    assert_eq!(Positions::TARGET_RANGES, &[Some(3)]);
    let ctx = array![[0usize, 4, 1], [2, 0, 3]].into_dyn();
    let next = array![1usize, 2].into_dyn();
    let net = Context::with_seed(2);
    let outputs = net.forward_dyn(&[Arg::Indices(ctx.view())]).unwrap();
    assert_eq!(outputs[0].0, "p");
    assert_eq!(
        outputs[0].1,
        net.forward(ctx.view().into_dimensionality().unwrap())
            .unwrap()
            .into_dyn()
    );
    let (loss, grads) = net
        .gradients_dyn(&[Arg::Indices(ctx.view())], &[Arg::Indices(next.view())])
        .unwrap();
    assert!(loss.is_finite());
    assert_eq!(grads.len(), 2);
    // Numbers where indices go, and the other way round: refused by name.
    let numbers = Array2::<f32>::zeros((2, 3)).into_dyn();
    let err = net
        .forward_dyn(&[Arg::Numbers(numbers.view())])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Context: the argument `ctx` takes indices in 0..5 (`Arg::Indices`), not numbers"
    );
    let x = Array2::<f32>::zeros((2, 8))
        .into_shape_with_order((2, 4, 2))
        .unwrap()
        .into_dyn();
    let t = Array1::<usize>::zeros(2).into_dyn();
    let net = Positions::new();
    let err = net
        .loss_dyn(&[Arg::Indices(t.view())], &[Arg::Indices(t.view())])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Positions: the argument `x` takes numbers, not indices"
    );
    // A plain view of numbers still works for networks of numbers.
    let t2 = Array2::<usize>::zeros((2, 4)).into_dyn();
    assert!(net
        .loss_dyn(&[x.view()], &[Arg::Indices(t2.view())])
        .is_ok());
}

#[test]
fn gradcheck_works_with_indices() {
    denpa_macros::net! {
        network Small {
            dtype f64
            input  ctx: [3] in 0..4
            target next: [3] in 0..4
            param C: [4, 3] = normal(0, 1)
            output p = softmax(C[ctx] @ transpose(C))
            loss = cross_entropy(p, next)
        }
    }
    let ctx = array![[0usize, 3, 3], [2, 1, 0]];
    let next = array![[1usize, 2, 0], [3, 3, 1]];
    let report = Small::with_seed(4)
        .gradcheck(ctx.view(), next.view())
        .unwrap();
    assert_eq!(report.comparisons.len(), 12);
    assert!(report.passed(1e-6), "{report}");
}
