//! `train_step` allocates nothing once it has seen a batch size: every
//! intermediate lives in the network's reusable workspace, and so do the
//! packed panels of the larger products (`runtime::gemm_with`).

// The counting allocator is the one `unsafe` in the project: GlobalAlloc is an
// unsafe trait. Generated code has none.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use denpa::ndarray::Array2;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

denpa_macros::net!("examples/xor.nn");
denpa_macros::net!("examples/digits.nn");
denpa_macros::net!("examples/digits_cnn.nn");

denpa_macros::net! {
    /// The 28×28 network of the benchmark, with SGD (whose update folds
    /// into the dense products) and average pools.
    network Mnist {
        input img: [1, 28, 28]
        target t: [10]
        c1 = relu(conv(img, 8, 3, padding = 1))
        p1 = max_pool(c1, 2)
        c2 = relu(conv(p1, 16, 2, stride = 2))
        p2 = avg_pool(c2, 3, stride = 2)
        output y = softmax(dense(flatten(p2), 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

// The §12 GPT (with its f64 twin, which this test does not use).
denpa_macros::net!("examples/names_gpt.nn");

denpa_macros::net! {
    network Deep {
        input x: [784]
        target t: [10]
        h1 = relu(dense(x, 128))
        h2 = relu(dense(h1, 64))
        output y = softmax(dense(h2, 10))
        loss = cross_entropy(y, t)
        train momentum(lr = 0.05)
    }
}

denpa_macros::net! {
    network DeepSgd {
        input x: [784]
        target t: [10]
        h1 = relu(dense(x, 128))
        h2 = relu(dense(h1, 64))
        output y = softmax(dense(h2, 10))
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

denpa_macros::net! {
    /// Training and inference modes (LANGUAGE.md §13): batch norm of a
    /// vector and of images, dropout of a vector.
    network Modes {
        input img: [1, 8, 8]
        target t: [10]
        c = relu(batch_norm(conv(img, 4, 3, padding = 1)))
        f = flatten(max_pool(c, 2))
        h = dropout(relu(batch_norm(dense(f, 32))), 0.3)
        output y = softmax(dense(h, 10))
        loss = cross_entropy(y, t)
        train adam(lr = 0.001)
    }
}

fn data(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 11.0)
}

fn one_hot(rows: usize, classes: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, classes), |(i, j)| {
        f32::from(u8::from(i % classes == j))
    })
}

/// Allocations made by `step` after one warm-up call.
fn allocations_after_warm_up(mut step: impl FnMut()) -> usize {
    step();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    step();
    step();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

// One test function, so that no other test thread allocates while counting.
#[test]
fn train_step_allocates_nothing_after_its_first_call() {
    let (x, t) = (data(4, 2), data(4, 1));
    let mut xor = Xor::new();
    assert_eq!(
        allocations_after_warm_up(|| {
            xor.train_step(x.view(), t.view()).unwrap();
        }),
        0,
        "Xor"
    );

    // Products larger than runtime::SMALL_PRODUCT (16³ multiply-adds) run in
    // packed panels that live in the workspace: digits has 5 such products a
    // step, the deep networks 8 (no product for ∂ℓ/∂x), and none allocates.
    let (x, t) = (data(32, 64), one_hot(32, 10));
    let mut digits = Digits::new();
    let counted = allocations_after_warm_up(|| {
        digits.train_step(x.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "Digits (adam, weight decay)");

    let (x, t) = (data(64, 784), one_hot(64, 10));
    let mut deep = Deep::new();
    let counted = allocations_after_warm_up(|| {
        deep.train_step(x.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "Deep (momentum)");
    // SGD folds its update into the products (W ← W − η/N·aᵀδ): still nothing.
    let mut folded = DeepSgd::new();
    let counted = allocations_after_warm_up(|| {
        folded.train_step(x.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "DeepSgd (the update folded into the products)");
    // A batch of one takes the vector-times-matrix loop: nothing either.
    let (x1, t1) = (data(1, 784), one_hot(1, 10));
    let counted = allocations_after_warm_up(|| {
        folded.train_step(x1.view(), t1.view()).unwrap();
    });
    assert_eq!(counted, 0, "DeepSgd, batch 1");
    let mut ws = DeepSgdWorkspace::default();
    let mut y = Array2::zeros((64, 10));
    let mut grads = DeepSgdGrads::zeros();
    let counted = allocations_after_warm_up(|| {
        folded.forward_into(&mut ws, x.view(), &mut y).unwrap();
        folded
            .gradients_into(&mut ws, x.view(), t.view(), &mut grads)
            .unwrap();
    });
    assert_eq!(counted, 0, "DeepSgd forward_into and gradients_into");

    // Convolutions run im2col and one GEMM in the workspace's columns, the
    // pools and their gradients write into workspace arrays: nothing either.
    let (img, t) = (data(32, 64), one_hot(32, 10));
    let img = img.into_shape_with_order((32, 1, 8, 8)).unwrap();
    let mut cnn = DigitsCnn::new();
    let counted = allocations_after_warm_up(|| {
        cnn.train_step(img.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "DigitsCnn (blocks, adam)");
    let (img, t) = (data(16, 784), one_hot(16, 10));
    let img = img.into_shape_with_order((16, 1, 28, 28)).unwrap();
    let mut mnist = Mnist::new();
    let counted = allocations_after_warm_up(|| {
        mnist.train_step(img.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "Mnist (stride 2, avg_pool, sgd)");

    // Batch statistics, running statistics and dropout masks in place too.
    let (img, t) = (data(32, 64), one_hot(32, 10));
    let img = img.into_shape_with_order((32, 1, 8, 8)).unwrap();
    let mut modes = Modes::new();
    let counted = allocations_after_warm_up(|| {
        modes.train_step(img.view(), t.view()).unwrap();
    });
    assert_eq!(counted, 0, "Modes (batch_norm, dropout, adam)");

    // The §12 GPT at batch 32 with Adam: gathers and scatter-adds of the
    // embedding in place, one GEMM over all B·T rows per product with a
    // parameter, each sample's products of attention in one kernel, every
    // array in the workspace: nothing.
    let ctx = denpa::ndarray::Array2::from_shape_fn((32, 16), |(b, t)| (b * 5 + t * 3) % 27);
    let next = denpa::ndarray::Array2::from_shape_fn((32, 16), |(b, t)| (b * 7 + t) % 27);
    let mut gpt = NamesGpt::new();
    let counted = allocations_after_warm_up(|| {
        gpt.train_step(ctx.view(), next.view()).unwrap();
    });
    assert_eq!(counted, 0, "NamesGpt (LANGUAGE.md §12, adam)");
    // forward keeps a workspace too: only its output is allocated (one
    // array a call; `allocations_after_warm_up` makes two calls).
    let one = ctx.slice_axis(denpa::ndarray::Axis(0), denpa::ndarray::Slice::from(0..1));
    let counted = allocations_after_warm_up(|| {
        gpt.forward(one).unwrap();
    });
    assert_eq!(counted, 2, "NamesGpt forward at batch 1: its output alone");

    // A new batch size sizes the workspace again, once.
    let (x, t) = (data(3, 2), data(3, 1));
    let mut xor = Xor::new();
    xor.train_step(data(4, 2).view(), data(4, 1).view())
        .unwrap();
    assert_eq!(
        allocations_after_warm_up(|| {
            xor.train_step(x.view(), t.view()).unwrap();
        }),
        0,
        "Xor, batch 3"
    );

    forward_into_and_gradients_into_match_and_allocate_nothing();
}

/// Called from the one test, so that no other test thread allocates while
/// counting.
fn forward_into_and_gradients_into_match_and_allocate_nothing() {
    let (x, t) = (data(4, 2), data(4, 1));
    let net = Xor::with_seed(5);
    let mut ws = XorWorkspace::default();
    let mut y = Array2::zeros((4, 1));
    let mut grads = XorGrads::zeros();
    net.forward_into(&mut ws, x.view(), &mut y).unwrap();
    assert!(
        (&y - &net.forward(x.view()).unwrap())
            .iter()
            .all(|d| d.abs() < 1e-6),
        "{y}"
    );
    let loss = net
        .gradients_into(&mut ws, x.view(), t.view(), &mut grads)
        .unwrap();
    let (expected_loss, expected) = net.gradients(x.view(), t.view()).unwrap();
    assert!(
        (loss - expected_loss).abs() < 1e-6,
        "{loss} {expected_loss}"
    );
    for (a, b) in [(&grads.W1, &expected.W1), (&grads.W2, &expected.W2)] {
        assert!((a - b).iter().all(|d| d.abs() < 1e-6), "{a} {b}");
    }
    // A wrong-shaped output buffer is refused, naming it.
    let mut wrong = Array2::zeros((3, 1));
    let err = net.forward_into(&mut ws, x.view(), &mut wrong).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Xor: the argument `y` has shape [3, 1], expected [4, 1]"
    );
    let counted = allocations_after_warm_up(|| {
        net.forward_into(&mut ws, x.view(), &mut y).unwrap();
        net.gradients_into(&mut ws, x.view(), t.view(), &mut grads)
            .unwrap();
    });
    assert_eq!(counted, 0);
}
