//! Batch normalization's kernels (LANGUAGE.md §13): the mean of each
//! feature over the batch, and the check that a training batch gives each
//! statistic more than one value.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, Ix2, NdFloat};

use super::Batch;
use crate::error::Error;

/// The mean of each feature of the batched `x` into `out` (`[n]`): over the
/// batch for `[B, n]`, over the batch and the rows for `[B, T, d]`, and, if
/// `image`, over the batch and the pixels of each channel of `[B, c, h, w]`.
/// The variance is this mean of the squares of x − μ: two passes, never
/// E[x²] − E[x]², which cancels away f32's digits.
pub fn feature_mean_into<T: NdFloat>(
    x: ArrayViewD<'_, T>,
    image: bool,
    mut out: ArrayViewMutD<'_, T>,
) {
    out.fill(T::zero());
    // The values behind each statistic: B, B·T or B·h·w.
    let count = x.len() / out.len().max(1);
    if image {
        for sample in x.axis_iter(Axis(0)) {
            for (c, channel) in sample.axis_iter(Axis(0)).enumerate() {
                out[c] += channel.sum();
            }
        }
    } else {
        let features = *x.shape().last().expect("a batched value has axes");
        let rows = x.len() / features.max(1);
        match x.to_shape((rows, features)) {
            Ok(matrix) => {
                let matrix = matrix.into_dimensionality::<Ix2>().expect("two axes");
                for row in matrix.rows() {
                    out.iter_mut().zip(row).for_each(|(o, v)| *o += *v);
                }
            }
            Err(_) => unreachable!("a batch of rows of `features` numbers reshapes"),
        }
    }
    let scale = T::one() / T::from(count.max(1)).expect("a count converts");
    out.mapv_inplace(|v| v * scale);
}

impl Batch {
    /// Refuses a training batch in which the statistics of the batch norm
    /// `layer` would average fewer than 2 values: `per_sample` values of each
    /// feature in a sample (1 for `[n]`, T for `[T, d]`, h·w for images).
    pub fn require_statistic_values(
        &self,
        layer: &'static str,
        per_sample: usize,
    ) -> Result<(), Error> {
        let values = self.samples() * per_sample;
        if values >= 2 {
            return Ok(());
        }
        Err(Error::BatchTooSmall {
            network: self.network,
            layer,
            values,
            needed: 2usize.div_ceil(per_sample.max(1)),
        })
    }
}
