//! One sample's values in fixed-size arrays: the kernels of the scalar form
//! of tiny networks (`codegen/scalar.rs`), which computes each sample's
//! forward and backward pass in locals (`[f32; 3]`) rather than in arrays of
//! the whole batch. The same numerics as the batched kernels, one row at a time.

use ndarray::NdFloat;

use super::{ensure_finite, softmax_row};
use crate::error::Error;

/// softmax of one sample's logits, shifted by their maximum.
pub fn softmax_array<T: NdFloat, const N: usize>(z: [T; N]) -> [T; N] {
    let mut y = [T::zero(); N];
    softmax_row(&z, &mut y);
    y
}

/// log softmax of one sample's logits: z − max − ln Σ e^(z − max).
pub fn log_softmax_array<T: NdFloat, const N: usize>(z: [T; N]) -> [T; N] {
    let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let log_sum = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
    z.map(|v| v - max - log_sum)
}

/// −Σ t ln softmax(z) of one sample, from its logits by log-sum-exp.
pub fn softmax_cross_entropy_array<T: NdFloat, const N: usize>(z: [T; N], t: [T; N]) -> T {
    let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let log_sum = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
    z.iter()
        .zip(&t)
        .fold(T::zero(), |s, (&z, &t)| s - t * (z - max - log_sum))
}

/// An error unless every value is finite (a gradient summed in locals).
#[inline]
pub fn ensure_finite_values<T: NdFloat>(
    network: &'static str,
    what: &str,
    values: &[T],
) -> Result<(), Error> {
    // `&`, not `&&`: no branch per value.
    if values.iter().fold(true, |ok, v| ok & v.is_finite()) {
        return Ok(());
    }
    match values.iter().find(|v| !v.is_finite()) {
        Some(v) => ensure_finite(network, what, *v),
        None => Ok(()),
    }
}

/// An error unless every value of every group is finite, naming the first
/// group with one that is not: each parameter's gradient summed in locals,
/// checked in one pass with one branch for all of them.
// Inlined whole, so that the groups (a constant list of locals) unroll.
#[inline(always)]
pub fn ensure_finite_groups<T: NdFloat>(
    network: &'static str,
    groups: &[(&str, &[T])],
) -> Result<(), Error> {
    // The sum of finite values is finite unless it overflows (then the slow
    // path finds every value finite after all); one NaN or ±∞ makes it NaN
    // or ±∞. Each group summed on its own, so the additions overlap.
    let sum = groups.iter().fold(T::zero(), |s, (_, values)| {
        s + values.iter().fold(T::zero(), |a, &v| a + v)
    });
    if sum.is_finite() {
        return Ok(());
    }
    first_not_finite(network, groups)
}

/// The error of the first group with a value that is not finite.
#[cold]
#[inline(never)]
fn first_not_finite<T: NdFloat>(
    network: &'static str,
    groups: &[(&str, &[T])],
) -> Result<(), Error> {
    for (what, values) in groups {
        ensure_finite_values(network, what, values)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr2, Array1};

    #[test]
    fn the_array_kernels_agree_with_the_batched_ones() {
        let z: [f64; 3] = [0.3, -1.2, 2.5];
        let t: [f64; 3] = [0.2, 0.3, 0.5];
        let rows = arr2(&[z]);
        let batched = super::super::softmax_rows(rows.view());
        for (a, b) in softmax_array(z).iter().zip(batched.iter()) {
            assert!((a - b).abs() < 1e-15);
        }
        let batched = super::super::log_softmax_rows(rows.view());
        for (a, b) in log_softmax_array(z).iter().zip(batched.iter()) {
            assert!((a - b).abs() < 1e-15);
        }
        let batched: Array1<f64> =
            super::super::softmax_cross_entropy(rows.view(), arr2(&[t]).view());
        assert!((softmax_cross_entropy_array(z, t) - batched[0]).abs() < 1e-15);
        // Large logits stay finite.
        assert!(softmax_cross_entropy_array([1000.0f64, -1000.0], [1.0, 0.0]).is_finite());
    }

    #[test]
    fn a_value_that_is_not_finite_is_named() {
        assert!(ensure_finite_values("N", "the gradient of W", &[1.0, 2.0]).is_ok());
        let err = ensure_finite_values("N", "the gradient of W", &[1.0, f64::NAN]).unwrap_err();
        assert!(err.to_string().contains("the gradient of W"), "{err}");
        let groups: [(&str, &[f64]); 2] = [("a", &[1.0]), ("b", &[2.0, f64::INFINITY])];
        let err = ensure_finite_groups("N", &groups).unwrap_err();
        assert!(err.to_string().contains('b'), "{err}");
        assert!(ensure_finite_groups("N", &groups[..1]).is_ok());
        // Finite values whose sum overflows are finite all the same.
        let huge: [(&str, &[f64]); 1] = [("a", &[f64::MAX, f64::MAX])];
        assert!(ensure_finite_groups("N", &huge).is_ok());
        let opposite: [(&str, &[f64]); 1] = [("a", &[f64::INFINITY, f64::NEG_INFINITY])];
        assert!(ensure_finite_groups("N", &opposite).is_err());
    }
}
