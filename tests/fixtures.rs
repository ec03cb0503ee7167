//! Every network in `tests/fixtures/pass/` compiles through `net!` without
//! warnings, and its generated gradients agree with central finite
//! differences in f64.
#![deny(warnings)]

use denpa::Network;
use onnx::{args, batch_of, Data};

/// Deterministic values in [0.1, 1.0) (positive, so `log` and `sqrt` of
/// inputs are defined, and targets are valid probabilities), and indices
/// in their ranges with repeats.
fn batch(
    slots: &[(&str, &[usize])],
    ranges: &[Option<usize>],
    batch: usize,
    salt: usize,
) -> Vec<Data<f64>> {
    batch_of(slots, ranges, batch, salt)
}

/// Gradient check of a fixture's network on a batch of 3, for two seeds.
fn check<N: Network<Scalar = f64> + Clone>() {
    for seed in [1, 2] {
        let net = N::with_seed(seed);
        let inputs = batch(N::INPUTS, N::INPUT_RANGES, 3, 10);
        let targets = batch(N::TARGETS, N::TARGET_RANGES, 3, 20);
        let (inputs, targets) = (args(&inputs), args(&targets));
        // Central differences in f64: with h = 1e-5 the truncation error
        // (h²/6)·f‴ and the round-off of a loss near 1 over 2h (~1e-11) are
        // both far below 1e-6 of a gradient of 1e-5 or more; the floor 1e-5
        // makes 1e-11 the absolute tolerance of the smaller gradients that
        // deep convolutions have (h = 1e-6 resolves them only to ~1e-10).
        let mut report = denpa::runtime::gradcheck(&net, &inputs, &targets, 1e-5, 1e-5).unwrap();
        assert!(!report.comparisons.is_empty() || N::NAME.starts_with("NoGradient"));
        // A loss far from 1 (a language model's, near ln V) leaves central
        // differences a round-off of ~1e-16·ℓ/h: an element they miss is
        // checked again with the five-point stencil at h = 1e-3, whose
        // round-off is a hundred times smaller and truncation h⁴ (a kink in
        // reach would spoil it instead: each stencil covers the other).
        for c in report
            .comparisons
            .iter_mut()
            .filter(|c| c.relative_error >= 1e-6)
        {
            let numeric = five_point(&net, &inputs, &targets, c.parameter, &c.index);
            let scale = c.analytic.abs().max(numeric.abs()).max(report.floor);
            let error = (c.analytic - numeric).abs() / scale;
            if error < c.relative_error {
                (c.numeric, c.relative_error) = (numeric, error);
            }
        }
        assert!(report.passed(1e-6), "{} (seed {seed}):\n{report}", N::NAME);
    }
}

/// (−E(w + 2h) + 8E(w + h) − 8E(w − h) + E(w − 2h)) / 12h at h = 1e-3.
fn five_point<N: Network<Scalar = f64> + Clone>(
    net: &N,
    inputs: &[denpa::Arg<'_, f64>],
    targets: &[denpa::Arg<'_, f64>],
    parameter: &str,
    index: &[usize],
) -> f64 {
    let h = 1e-3;
    let at = |delta: f64| {
        let mut moved = net.clone();
        for (name, mut view) in moved.parameters_mut() {
            if name == parameter {
                view[index] += delta;
            }
        }
        moved.training_loss_dyn(inputs, targets).unwrap()
    };
    (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h)
}

/// One `train_step` of the network from seed 1 on the fixtures' batch of 3,
/// after `gradients` on the same batch; the loss is checked to agree. Every
/// parameter element: (parameter, before, after, its gradient).
fn first_step<N: Network<Scalar = f64> + Clone>() -> Vec<(&'static str, f64, f64, f64)> {
    let mut net = N::with_seed(1);
    let inputs = batch(N::INPUTS, N::INPUT_RANGES, 3, 10);
    let targets = batch(N::TARGETS, N::TARGET_RANGES, 3, 20);
    let (inputs, targets) = (args(&inputs), args(&targets));
    let (loss, grads) = net.gradients_dyn(&inputs, &targets).unwrap();
    let before: Vec<_> = net
        .parameters()
        .into_iter()
        .map(|(_, p)| p.to_owned())
        .collect();
    let stepped = net.train_step_dyn(&inputs, &targets).unwrap();
    assert!(
        (stepped - loss).abs() <= 1e-12 * loss.abs().max(1.0),
        "{}: train_step's loss {stepped} ≠ {loss}",
        N::NAME
    );
    let mut elements = Vec::new();
    for ((_, after), (before, (name, g))) in
        net.parameters().into_iter().zip(before.iter().zip(&grads))
    {
        for ((a, b), g) in after.iter().zip(before.iter()).zip(g.iter()) {
            elements.push((*name, *b, *a, *g));
        }
    }
    elements
}

/// `train_step` (which computes in place, in its workspace) agrees with
/// `gradients` (which allocates): the same loss, and a first update along
/// the gradient — W − ηg for sgd and momentum (Δ/g the same everywhere),
/// W − η·g/(|g| + ε) for Adam (|Δ| the same wherever |g| ≫ ε).
fn check_train_step<N: Network<Scalar = f64> + Clone>() {
    let mut ratios = Vec::new();
    let mut sizes = Vec::new();
    for (name, b, a, g) in first_step::<N>() {
        let delta = a - b;
        // Adam's step is −η·g/(|g| + ε): the same size everywhere to
        // 1e-4 where |g| > 1e-4 = 10⁴ ε.
        if g.abs() > 1e-4 {
            assert!(
                delta * g < 0.0,
                "{}: `{name}` moved along the gradient",
                N::NAME
            );
            ratios.push(delta / g);
            sizes.push(delta.abs());
        }
    }
    let spread = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        (hi - lo) / hi.abs().max(lo.abs()).max(1e-300)
    };
    if !ratios.is_empty() {
        assert!(
            spread(&ratios) < 1e-6 || spread(&sizes) < 1e-3,
            "{}: the first update is neither −ηg nor −η·sign(g)",
            N::NAME
        );
    }
}

/// `train_step`'s first update (in the scalar form where the network takes
/// it, else the general form) is the optimizer's formula exactly, with g
/// from `gradients` (the general, allocating form): W − η·g for SGD and for
/// momentum (v starts at 0, so v = g), W − η·g/(|g| + ε) for Adam (m̂ = g,
/// v̂ = g²). The same numbers to round-off, whichever way the step computed them.
fn check_first_step<N: Network<Scalar = f64> + Clone>() {
    use denpa::check::Optimizer;
    let (file, _) = denpa::syntax::parse_recovering(N::SOURCE);
    let (nets, _) = denpa::check::check(&file).unwrap();
    let net = nets.iter().find(|n| n.name == N::NAME).unwrap();
    let step: Box<dyn Fn(f64, f64) -> f64> = match net.optimizer {
        Optimizer::Sgd { lr } | Optimizer::Momentum { lr, .. } => Box::new(move |w, g| w - lr * g),
        Optimizer::Adam { lr, eps, .. } => Box::new(move |w, g| w - lr * g / (g.abs() + eps)),
    };
    for (name, b, a, g) in first_step::<N>() {
        let expected = step(b, g);
        assert!(
            (a - expected).abs() <= 1e-12 * b.abs().max(1.0),
            "{}: `{name}` is {a} after the first step, not {expected}",
            N::NAME
        );
    }
}

/// The page's walk-through evaluates the derived graph itself, in f64: its
/// loss and gradients are those `gradients` computes on the samples it
/// follows (the first of a batch of 3, or all three where `batch_norm`
/// couples them), and its own finite differences agree with them.
fn check_walkthrough<N: Network<Scalar = f64>>() {
    let net = N::with_seed(1);
    let inputs = batch(N::INPUTS, N::INPUT_RANGES, 3, 10);
    let targets = batch(N::TARGETS, N::TARGET_RANGES, 3, 20);
    let (page, numbers) = denpa::page::walkthrough(&net, &args(&inputs), &args(&targets))
        .unwrap_or_else(|e| panic!("{}: {e}", N::NAME));
    assert!(page.contains("<section id=\"numbers\">"));
    let first = |all: &[Data<f64>]| -> Vec<Data<f64>> {
        all.iter()
            .map(|d| match d {
                Data::Numbers(a) if !numbers.whole_batch => Data::Numbers(
                    a.slice_axis(denpa::ndarray::Axis(0), (0..1).into())
                        .to_owned(),
                ),
                Data::Indices(a) if !numbers.whole_batch => Data::Indices(
                    a.slice_axis(denpa::ndarray::Axis(0), (0..1).into())
                        .to_owned(),
                ),
                Data::Numbers(a) => Data::Numbers(a.clone()),
                Data::Indices(a) => Data::Indices(a.clone()),
            })
            .collect()
    };
    let (inputs, targets) = (first(&inputs), first(&targets));
    let (loss, gradients) = net.gradients_dyn(&args(&inputs), &args(&targets)).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(
        close(numbers.loss, loss),
        "{}: the walk-through's loss {} is not {loss}",
        N::NAME,
        numbers.loss
    );
    for ((name, mine), (theirs_name, theirs)) in numbers.gradients.iter().zip(&gradients) {
        assert_eq!(name, theirs_name);
        assert_eq!(mine.shape(), theirs.shape(), "{}: ∂E/∂{name}", N::NAME);
        for (a, b) in mine.iter().zip(theirs) {
            assert!(
                close(*a, *b),
                "{}: ∂E/∂{name} is {a} in the walk-through, {b} in `gradients`",
                N::NAME
            );
        }
    }
    for c in &numbers.checks {
        assert!(
            c.agrees,
            "{}: finite differences of `{}` differ: {c:?}",
            N::NAME,
            c.param
        );
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

            #[test]
            fn train_step_agrees_with_gradients() {
                super::check_train_step::<$net>();
            }

            #[test]
            fn the_walkthrough_computes_what_gradients_does() {
                super::check_walkthrough::<$net>();
            }

            #[test]
            fn the_first_step_is_the_optimizers_formula() {
                super::check_first_step::<$net>();
            }

            /// The model in f64 and in f32, with denpa's outputs on a batch.
            pub fn onnx_cases(dir: &std::path::Path) -> Vec<super::onnx::Case> {
                super::onnx_cases::<$net>(dir, stringify!($test))
            }
        }
    )*

        /// Every fixture's network, exported, checked by ONNX's checker and
        /// run in ONNX Runtime, gives the outputs of its own `forward`.
        #[test]
        fn every_fixture_runs_in_onnx_runtime() {
            let dir = std::env::temp_dir().join(format!("denpa-onnx-fixtures-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            let mut cases = Vec::new();
            $(cases.extend($test::onnx_cases(&dir));)*
            onnx::check(&dir, &cases);
            std::fs::remove_dir_all(&dir).ok();
        }
    };
}

#[path = "common/onnx.rs"]
mod onnx;

/// A fixture's ONNX cases: its f64 model, checked to 1e-9, and its f32
/// export (the weights rounded to f32), to 1e-5 of denpa's f64 outputs;
/// the float one also runs what ONNX Runtime has no double kernel for.
fn onnx_cases<N: Network<Scalar = f64>>(dir: &std::path::Path, name: &str) -> Vec<onnx::Case> {
    let net = N::with_seed(3);
    let inputs = onnx::inputs::<N>(4);
    let float = format!("{name}.f32");
    let mut double = onnx::case(dir, &format!("{name}.f64"), &net, None, &inputs, 1e-9);
    double.float_twin = Some(float.clone());
    let single = onnx::case(
        dir,
        &float,
        &net,
        Some(denpa::lang::Dtype::F32),
        &inputs,
        1e-5,
    );
    vec![double, single]
}

fixtures! {
    axis_sums: AxisSums = "tests/fixtures/pass/axis_sums.nn";
    batch_norm_images: BatchNormImages = "tests/fixtures/pass/batch_norm_images.nn";
    batch_norm_rows: BatchNormRows = "tests/fixtures/pass/batch_norm_rows.nn";
    batch_norm_vector: BatchNormVector = "tests/fixtures/pass/batch_norm_vector.nn";
    bce_tanh_prob: BceTanhProb = "tests/fixtures/pass/bce_tanh_prob.nn";
    bce_unfused: BceUnfused = "tests/fixtures/pass/bce_unfused.nn";
    bigram: Bigram = "tests/fixtures/pass/bigram.nn";
    bigram_mixture: BigramMixture = "tests/fixtures/pass/bigram.nn";
    block_keyword_args: BlockKeywords = "tests/fixtures/pass/block_keyword_args.nn";
    block_shape_argument: BlockShapes = "tests/fixtures/pass/block_shape_argument.nn";
    blocks_nested: Blocks = "tests/fixtures/pass/blocks_nested.nn";
    broadcasts: Broadcasts = "tests/fixtures/pass/broadcasts.nn";
    causal: Causal = "tests/fixtures/pass/causal.nn";
    ce_mixture: CeMixture = "tests/fixtures/pass/ce_mixture.nn";
    ce_param_matrix: CeParamMatrix = "tests/fixtures/pass/ce_param_matrix.nn";
    ce_rows_index: CeRowsIndex = "tests/fixtures/pass/ce_rows.nn";
    ce_rows_one_hot: CeRowsOneHot = "tests/fixtures/pass/ce_rows.nn";
    ce_rows_unfused: CeRowsUnfused = "tests/fixtures/pass/ce_rows.nn";
    concat: Concat = "tests/fixtures/pass/concat.nn";
    conv_blocks: ConvBlocks = "tests/fixtures/pass/conv_blocks.nn";
    conv_per_channel: ConvPerChannel = "tests/fixtures/pass/conv_per_channel.nn";
    conv_pools_overlap: ConvPoolsOverlap = "tests/fixtures/pass/conv_pools_overlap.nn";
    conv_stride_padding: ConvStridePadding = "tests/fixtures/pass/conv_stride_padding.nn";
    dense_deep: DenseDeep = "tests/fixtures/pass/dense_deep.nn";
    dense_mlp: DenseMlp = "tests/fixtures/pass/dense_mlp.nn";
    division: Division = "tests/fixtures/pass/division.nn";
    doc_after_expression: DocAfterExpression = "tests/fixtures/pass/doc_after_expression.nn";
    dot_scale: DotScale = "tests/fixtures/pass/dot_scale.nn";
    dot_two_samples: DotTwoSamples = "tests/fixtures/pass/dot_two_samples.nn";
    dropout: Dropout = "tests/fixtures/pass/dropout.nn";
    embedding_repeats: EmbeddingRepeats = "tests/fixtures/pass/embedding_repeats.nn";
    extra_output: ExtraOutput = "tests/fixtures/pass/extra_output.nn";
    fused_bce_shared: FusedBceShared = "tests/fixtures/pass/fused_bce_shared.nn";
    fused_ce_shared: FusedCeShared = "tests/fixtures/pass/fused_ce_shared.nn";
    gated: Gated = "tests/fixtures/pass/gated.nn";
    gelu_large: GeluLarge = "tests/fixtures/pass/gelu_large.nn";
    gpt_small: GptSmall = "tests/fixtures/pass/gpt_small.nn";
    initializers: Initializers = "tests/fixtures/pass/initializers.nn";
    layer_norm: LayerNorm = "tests/fixtures/pass/layer_norm.nn";
    leaky_relu_slopes: LeakyReluSlopes = "tests/fixtures/pass/leaky_relu_slopes.nn";
    log_softmax_exp_sse: LogSoftmaxExpSse = "tests/fixtures/pass/log_softmax_exp_sse.nn";
    log_softmax_nll: LogSoftmaxNll = "tests/fixtures/pass/log_softmax_nll.nn";
    low_rank: LowRank = "tests/fixtures/pass/low_rank.nn";
    low_rank_binding: LowRankBinding = "tests/fixtures/pass/low_rank_binding.nn";
    matrix_io: MatrixIo = "tests/fixtures/pass/matrix_io.nn";
    matvec: Matvec = "tests/fixtures/pass/matvec.nn";
    mean_square_loss: MeanSquareLoss = "tests/fixtures/pass/mean_square_loss.nn";
    mlp_relu_softmax_ce: MlpReluSoftmaxCe = "tests/fixtures/pass/mlp_relu_softmax_ce.nn";
    mse_tanh: MseTanh = "tests/fixtures/pass/mse_tanh.nn";
    multi_io: MultiIo = "tests/fixtures/pass/multi_io.nn";
    nll_one_hot: NllOneHot = "tests/fixtures/pass/nll.nn";
    one_head: OneHead64 = "docs/nets/one_head64.nn";
    nll_rows: NllRows = "tests/fixtures/pass/nll.nn";
    nll_unfused: NllUnfused = "tests/fixtures/pass/nll.nn";
    nll_vector: NllVector = "tests/fixtures/pass/nll.nn";
    no_gradient_params_free: NoGradientParamsFree = "tests/fixtures/pass/no_gradient_params_free.nn";
    no_gradient_perceptron: NoGradientPerceptron = "tests/fixtures/pass/no_gradient_perceptron.nn";
    param_algebra: ParamAlgebra = "tests/fixtures/pass/param_algebra.nn";
    param_only_losses: ParamOnlyLosses = "tests/fixtures/pass/param_only_losses.nn";
    products: Products = "tests/fixtures/pass/products.nn";
    relu_deep4: ReluDeep4 = "tests/fixtures/pass/relu_deep4.nn";
    rows: Rows = "tests/fixtures/pass/rows.nn";
    scalar_io: ScalarIo = "tests/fixtures/pass/scalar_io.nn";
    scalar_losses: ScalarLosses = "tests/fixtures/pass/scalar_losses.nn";
    sigmoid_bce_binding: SigmoidBceBinding = "tests/fixtures/pass/sigmoid_bce_binding.nn";
    sigmoid_bce_direct: SigmoidBceDirect = "tests/fixtures/pass/sigmoid_bce_direct.nn";
    softmax_ce_direct: SoftmaxCeDirect = "tests/fixtures/pass/softmax_ce_direct.nn";
    softmax_sse: SoftmaxSse = "tests/fixtures/pass/softmax_sse.nn";
    softplus_exp_log: SoftplusExpLog = "tests/fixtures/pass/softplus_exp_log.nn";
    sqrt_square_abs: SqrtSquareAbs = "tests/fixtures/pass/sqrt_square_abs.nn";
    step_branch: StepBranch = "tests/fixtures/pass/step_branch.nn";
    syntax_forms: SyntaxForms = "tests/fixtures/pass/syntax_forms.nn";
    target_binding: TargetBinding = "tests/fixtures/pass/target_binding.nn";
    tied: Tied = "tests/fixtures/pass/tied.nn";
    tied_autoencoder: TiedAutoencoder = "tests/fixtures/pass/tied_autoencoder.nn";
    transposes: Transposes = "tests/fixtures/pass/transposes.nn";
    two_layer_sigmoid_sse: TwoLayerSigmoidSse = "tests/fixtures/pass/two_layer_sigmoid_sse.nn";
    two_networks_classifier: Classifier = "tests/fixtures/pass/two_networks.nn";
    two_networks_linear: Linear = "tests/fixtures/pass/two_networks.nn";
    unary_minus: UnaryMinus = "tests/fixtures/pass/unary_minus.nn";
    weight_decay: WeightDecay = "tests/fixtures/pass/weight_decay.nn";
    weight_norm: WeightNorm = "tests/fixtures/pass/weight_norm.nn";
}
