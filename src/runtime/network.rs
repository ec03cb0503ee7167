//! The traits every generated network and gradients struct implement, for
//! tools that work on any network (gradient checks, saving, inspection).
//! Re-exported at the crate root as `denpa::Network` and `denpa::Gradients`.

use ndarray::{ArrayViewD, Dimension};

use crate::error::Error;

/// One batch given to a dynamic call (`Network::forward_dyn`, …): numbers,
/// or indices for an input or target declared `in 0..V`.
#[derive(Debug)]
pub enum Arg<'a, T> {
    /// A batch of numbers, one row per sample.
    Numbers(ArrayViewD<'a, T>),
    /// A batch of indices, one row per sample.
    Indices(ArrayViewD<'a, usize>),
}

// By hand: a view clones whatever its elements are.
impl<T> Clone for Arg<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Arg::Numbers(v) => Arg::Numbers(v.clone()),
            Arg::Indices(v) => Arg::Indices(v.clone()),
        }
    }
}

/// What the dynamic calls take for each argument: a view of numbers (as
/// before indices existed), or an [`Arg`].
pub trait AsArg<'a, T> {
    /// The argument.
    fn as_arg(&self) -> Arg<'a, T>;
}

impl<'a, T> AsArg<'a, T> for ArrayViewD<'a, T> {
    fn as_arg(&self) -> Arg<'a, T> {
        Arg::Numbers(self.clone())
    }
}

impl<'a, T> AsArg<'a, T> for Arg<'a, T> {
    fn as_arg(&self) -> Arg<'a, T> {
        self.clone()
    }
}

/// What every generated network implements: access to its parameters by
/// their `.nn` names, for tools that work on any network (gradient checks,
/// saving, inspection).
pub trait Network {
    /// The element type, `f32` or `f64`.
    type Scalar: super::weights::Element;
    /// The network's name.
    const NAME: &'static str;
    /// Every parameter with its name, in declaration order.
    fn parameters(&self) -> Vec<(&'static str, ndarray::ArrayViewD<'_, Self::Scalar>)>;
    /// Every parameter with its name, mutable, in declaration order.
    fn parameters_mut(&mut self) -> Vec<(&'static str, ndarray::ArrayViewMutD<'_, Self::Scalar>)>;
    /// The network with parameters drawn from `seed` (as the inherent
    /// `with_seed`).
    fn with_seed(seed: u64) -> Self
    where
        Self: Sized;
    /// The optimizer's step count and state arrays, by field name
    /// (`m_W1`, `velocity_b1`): what a checkpoint saves beside the parameters.
    #[allow(clippy::type_complexity)] // (step, [(name, state)])
    fn optimizer_state(
        &self,
    ) -> (
        u64,
        Vec<(&'static str, ndarray::ArrayViewD<'_, Self::Scalar>)>,
    );
    /// The optimizer's state, mutable, in the same order.
    #[allow(clippy::type_complexity)] // (step, [(name, state)])
    fn optimizer_state_mut(
        &mut self,
    ) -> (
        &mut u64,
        Vec<(&'static str, ndarray::ArrayViewMutD<'_, Self::Scalar>)>,
    );
    /// The inputs' names and per-sample shapes, in declaration order.
    const INPUTS: &'static [(&'static str, &'static [usize])];
    /// The targets' names and per-sample shapes, in declaration order.
    const TARGETS: &'static [(&'static str, &'static [usize])];
    /// For each input, in the order of [`Network::INPUTS`]: V for indices
    /// declared `in 0..V` (given as [`Arg::Indices`]), `None` for numbers.
    const INPUT_RANGES: &'static [Option<usize>];
    /// The same for the targets.
    const TARGET_RANGES: &'static [Option<usize>];
    /// The outputs' names and per-sample shapes, in declaration order.
    const OUTPUTS: &'static [(&'static str, &'static [usize])];
    /// The `.nn` source text of the network: its file's blocks, then its own
    /// doc comments and text (a text that compiles on its own to it).
    const SOURCE: &'static str;
    /// `forward` with dynamic-rank inputs (one row per sample: numbers as
    /// views, or [`Arg`]s where indices are among them); the outputs come back
    /// by name, in declaration order, a scalar output as rank 0.
    #[allow(clippy::type_complexity)] // [(name, output)]
    fn forward_dyn<'a, A: AsArg<'a, Self::Scalar>>(
        &self,
        inputs: &[A],
    ) -> Result<Vec<(&'static str, ndarray::ArrayD<Self::Scalar>)>, crate::error::Error>;
    /// `loss` with its arguments as dynamic-rank arrays (inputs, then
    /// targets, each one row per sample), for tools that work on any network.
    fn loss_dyn<'a, 'b, A: AsArg<'a, Self::Scalar>, B: AsArg<'b, Self::Scalar>>(
        &self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<Self::Scalar, Error>;
    /// `train_step` with dynamic-rank arguments.
    fn train_step_dyn<'a, 'b, A: AsArg<'a, Self::Scalar>, B: AsArg<'b, Self::Scalar>>(
        &mut self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<Self::Scalar, Error>;
    /// `gradients` with dynamic-rank arguments; the gradients come back by
    /// parameter name, in declaration order.
    #[allow(clippy::type_complexity)] // (loss, [(name, gradient)])
    fn gradients_dyn<'a, 'b, A: AsArg<'a, Self::Scalar>, B: AsArg<'b, Self::Scalar>>(
        &self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<
        (
            Self::Scalar,
            Vec<(&'static str, ndarray::ArrayD<Self::Scalar>)>,
        ),
        Error,
    >;
    /// The training-mode loss with dynamic-rank arguments: the loss that
    /// `gradients` returns and differentiates (LANGUAGE.md §13: dropout
    /// drops with the next step's masks). For a network whose layers do
    /// not change with the mode, `loss_dyn`.
    fn training_loss_dyn<'a, 'b, A: AsArg<'a, Self::Scalar>, B: AsArg<'b, Self::Scalar>>(
        &self,
        inputs: &[A],
        targets: &[B],
    ) -> Result<Self::Scalar, Error> {
        self.loss_dyn(inputs, targets)
    }
    /// The running statistics of its batch normalizations (`h_mean`,
    /// `h_var`), by name in declaration order: part of the network's value,
    /// saved with the parameters, never differentiated.
    fn statistics(&self) -> Vec<(&'static str, ndarray::ArrayViewD<'_, Self::Scalar>)> {
        Vec::new()
    }
    /// The running statistics, to load into.
    fn statistics_mut(&mut self) -> Vec<(&'static str, ndarray::ArrayViewMutD<'_, Self::Scalar>)> {
        Vec::new()
    }
    /// The seed of the network's dropout masks, if it has dropout.
    fn dropout_seed(&self) -> Option<u64> {
        None
    }
    /// Sets the seed of the dropout masks (nothing without dropout).
    fn set_dropout_seed(&mut self, seed: u64) {
        let _ = seed;
    }
}

/// What every generated gradients struct implements.
pub trait Gradients {
    /// The element type, `f32` or `f64`.
    type Scalar;
    /// Every parameter's gradient with its name, in declaration order.
    fn tensors(&self) -> Vec<(&'static str, ndarray::ArrayViewD<'_, Self::Scalar>)>;
}

/// One argument of numbers of a dynamic call (`Network::loss_dyn`) as an
/// array of the rank the network needs.
pub fn argument<'a, 'v, T: 'a, D: Dimension, A: AsArg<'a, T>>(
    network: &'static str,
    name: &'static str,
    args: &'v [A],
    index: usize,
    per_sample: &[usize],
) -> Result<ndarray::ArrayView<'a, T, D>, Error> {
    match given(network, args, index)? {
        Arg::Numbers(view) => ranked(network, name, view, per_sample),
        Arg::Indices(_) => Err(Error::ArgumentKind {
            network,
            argument: name,
            expected: "numbers, not indices".into(),
        }),
    }
}

/// One argument of indices (declared `in 0..range`) of a dynamic call, as
/// an array of the rank the network needs. Its values are checked with the
/// batch, by [`Batch::check_indices`].
pub fn indices<'a, 'v, T: 'a, D: Dimension, A: AsArg<'a, T>>(
    network: &'static str,
    name: &'static str,
    args: &'v [A],
    index: usize,
    per_sample: &[usize],
    range: usize,
) -> Result<ndarray::ArrayView<'a, usize, D>, Error> {
    match given(network, args, index)? {
        Arg::Indices(view) => ranked(network, name, view, per_sample),
        Arg::Numbers(_) => Err(Error::ArgumentKind {
            network,
            argument: name,
            expected: format!("indices in 0..{range} (`Arg::Indices`), not numbers"),
        }),
    }
}

fn given<'a, T: 'a, A: AsArg<'a, T>>(
    network: &'static str,
    args: &[A],
    index: usize,
) -> Result<Arg<'a, T>, Error> {
    args.get(index).map(AsArg::as_arg).ok_or(Error::Arguments {
        network,
        expected: index + 1,
        actual: args.len(),
    })
}

fn ranked<'a, E, D: Dimension>(
    network: &'static str,
    name: &'static str,
    view: ndarray::ArrayViewD<'a, E>,
    per_sample: &[usize],
) -> Result<ndarray::ArrayView<'a, E, D>, Error> {
    let shape = view.shape().to_vec();
    view.into_dimensionality::<D>().map_err(|_| {
        let mut expected = vec!["batch".to_string()];
        expected.extend(per_sample.iter().map(usize::to_string));
        Error::Shape {
            network,
            argument: name,
            expected: format!("[{}]", expected.join(", ")),
            actual: format!("{shape:?}"),
        }
    })
}
