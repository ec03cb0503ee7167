//! The traits every generated network and gradients struct implement, for
//! tools that work on any network (gradient checks, saving, inspection).
//! Re-exported at the crate root as `denpa::Network` and `denpa::Gradients`.

use crate::error::Error;

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
    /// The outputs' names and per-sample shapes, in declaration order.
    const OUTPUTS: &'static [(&'static str, &'static [usize])];
    /// The `.nn` source text of the network: its file's blocks, then its own
    /// doc comments and text (a text that compiles on its own to it).
    const SOURCE: &'static str;
    /// `forward` with dynamic-rank inputs (one row per sample); the outputs
    /// come back by name, in declaration order, a scalar output as rank 0.
    #[allow(clippy::type_complexity)] // [(name, output)]
    fn forward_dyn(
        &self,
        inputs: &[ndarray::ArrayViewD<'_, Self::Scalar>],
    ) -> Result<Vec<(&'static str, ndarray::ArrayD<Self::Scalar>)>, crate::error::Error>;
    /// `loss` with its arguments as dynamic-rank arrays (inputs, then
    /// targets, each one row per sample), for tools that work on any network.
    fn loss_dyn(
        &self,
        inputs: &[ndarray::ArrayViewD<'_, Self::Scalar>],
        targets: &[ndarray::ArrayViewD<'_, Self::Scalar>],
    ) -> Result<Self::Scalar, Error>;
    /// `train_step` with dynamic-rank arguments.
    fn train_step_dyn(
        &mut self,
        inputs: &[ndarray::ArrayViewD<'_, Self::Scalar>],
        targets: &[ndarray::ArrayViewD<'_, Self::Scalar>],
    ) -> Result<Self::Scalar, Error>;
    /// `gradients` with dynamic-rank arguments; the gradients come back by
    /// parameter name, in declaration order.
    #[allow(clippy::type_complexity)] // (loss, [(name, gradient)])
    fn gradients_dyn(
        &self,
        inputs: &[ndarray::ArrayViewD<'_, Self::Scalar>],
        targets: &[ndarray::ArrayViewD<'_, Self::Scalar>],
    ) -> Result<
        (
            Self::Scalar,
            Vec<(&'static str, ndarray::ArrayD<Self::Scalar>)>,
        ),
        Error,
    >;
}

/// What every generated gradients struct implements.
pub trait Gradients {
    /// The element type, `f32` or `f64`.
    type Scalar;
    /// Every parameter's gradient with its name, in declaration order.
    fn tensors(&self) -> Vec<(&'static str, ndarray::ArrayViewD<'_, Self::Scalar>)>;
}
