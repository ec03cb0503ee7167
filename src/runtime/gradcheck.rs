//! Checks a network's derived gradients against central finite differences.
//!
//! For every parameter element w, the numeric derivative is
//! (E(w + h) − E(w − h)) / 2h, and the report gives, per element, the
//! relative error |a − n| / max(|a|, |n|, floor) against the analytic
//! gradient a. In f64 with h ≈ 1e-6 a correct gradient agrees to about 1e-8;
//! in f32, use a larger h and expect about 1e-2.

use std::fmt;

use ndarray::Dimension;
use num_traits::ToPrimitive;

use super::{AsArg, Network};
use crate::error::Error;

/// One parameter element compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The parameter's name.
    pub parameter: &'static str,
    /// The element's index in the parameter.
    pub index: Vec<usize>,
    /// The gradient from the generated backward pass.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
    /// |analytic − numeric| / max(|analytic|, |numeric|, floor)
    pub relative_error: f64,
}

/// What [`gradcheck`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// Every element compared, in parameter order.
    pub comparisons: Vec<Comparison>,
    /// The step h of the central differences.
    pub step: f64,
    /// The floor under the relative error's denominator.
    pub floor: f64,
}

impl GradcheckReport {
    /// The element that agrees least, if any was compared.
    pub fn worst(&self) -> Option<&Comparison> {
        self.comparisons
            .iter()
            .max_by(|a, b| a.relative_error.total_cmp(&b.relative_error))
    }

    /// The largest relative error (0 with nothing compared).
    pub fn max_relative_error(&self) -> f64 {
        self.worst().map_or(0.0, |c| c.relative_error)
    }

    /// Whether every element agrees within `tolerance`.
    pub fn passed(&self, tolerance: f64) -> bool {
        self.max_relative_error() < tolerance
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} gradient elements compared (step h = {:e}; error = |a − n| / max(|a|, |n|, {:e}))",
            self.comparisons.len(),
            self.step,
            self.floor
        )?;
        let mut names: Vec<&str> = self.comparisons.iter().map(|c| c.parameter).collect();
        names.dedup();
        for name in names {
            let worst = self
                .comparisons
                .iter()
                .filter(|c| c.parameter == name)
                .max_by(|a, b| a.relative_error.total_cmp(&b.relative_error))
                .expect("compared at least once");
            writeln!(
                f,
                "  {name:<12} worst relative error {:.2e} at {:?}: analytic {:.6e}, numeric {:.6e}",
                worst.relative_error, worst.index, worst.analytic, worst.numeric
            )?;
        }
        Ok(())
    }
}

/// Compares the gradients of `net` on a batch with central differences of
/// step `h`; `floor` keeps relative errors of near-zero gradients sensible.
/// Both are of the training-mode loss (LANGUAGE.md §13): each perturbed copy
/// keeps the network's dropout seed and step count, so every evaluation
/// draws the same masks that `gradients` used.
pub fn gradcheck<'a, 'b, N, A, B>(
    net: &N,
    inputs: &[A],
    targets: &[B],
    h: f64,
    floor: f64,
) -> Result<GradcheckReport, Error>
where
    N: Network + Clone,
    A: AsArg<'a, N::Scalar>,
    B: AsArg<'b, N::Scalar>,
{
    let (_, gradients) = net.gradients_dyn(inputs, targets)?;
    let step = <N::Scalar as num_traits::NumCast>::from(h).expect("a float converts");
    let mut comparisons = Vec::new();
    for (p, (name, gradient)) in gradients.iter().enumerate() {
        for (index, analytic) in gradient.indexed_iter() {
            let index = index.slice().to_vec();
            let at = |delta: N::Scalar| -> Result<f64, Error> {
                let mut moved = net.clone();
                if let Some((_, mut view)) = moved.parameters_mut().into_iter().nth(p) {
                    view[index.as_slice()] += delta;
                }
                Ok(moved
                    .training_loss_dyn(inputs, targets)?
                    .to_f64()
                    .unwrap_or(f64::NAN))
            };
            let numeric = (at(step)? - at(-step)?) / (2.0 * h);
            let analytic = analytic.to_f64().unwrap_or(f64::NAN);
            let scale = analytic.abs().max(numeric.abs()).max(floor);
            let relative_error = (analytic - numeric).abs() / scale;
            comparisons.push(Comparison {
                parameter: name,
                index,
                analytic,
                numeric,
                relative_error: if relative_error.is_nan() {
                    f64::INFINITY
                } else {
                    relative_error
                },
            });
        }
    }
    Ok(GradcheckReport {
        comparisons,
        step: h,
        floor,
    })
}
