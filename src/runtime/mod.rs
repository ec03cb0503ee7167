//! What generated code calls: batch checks, numerically careful kernels,
//! initializers and optimizer updates.
//!
//! These are small and named after the math so that the generated code reads
//! like the derivation; they are public because generated code lives in the
//! user's crate.

pub mod data;
mod gradcheck;
pub mod init;
mod optim;
pub mod weights;

use ndarray::{
    Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Dimension, NdFloat, Zip,
};

pub use gradcheck::{gradcheck, Comparison, GradcheckReport};
pub use init::{Rng, DEFAULT_SEED};
pub use optim::{Adam, Momentum, Sgd};

use crate::Error;

/// Checks the arguments of one call against the network's shapes and agrees
/// on the batch size.
#[derive(Debug, Clone)]
pub struct Batch {
    network: &'static str,
    rows: Option<usize>,
}

impl Batch {
    /// Starts checking the arguments of a call to `network`.
    pub fn new(network: &'static str) -> Self {
        Batch {
            network,
            rows: None,
        }
    }

    /// Checks one argument: a batch of per-sample values of shape `per_sample`.
    pub fn check(
        &mut self,
        argument: &'static str,
        actual: &[usize],
        per_sample: &[usize],
    ) -> Result<(), Error> {
        let rows = actual.first().copied();
        let fits = actual.len() == per_sample.len() + 1 && actual[1..] == *per_sample;
        let rows_agree = match (self.rows, rows) {
            (Some(expected), Some(got)) => expected == got,
            _ => true,
        };
        if !fits || !rows_agree {
            let batch = match self.rows {
                Some(n) => n.to_string(),
                None => "batch".to_string(),
            };
            let mut expected: Vec<String> = vec![batch];
            expected.extend(per_sample.iter().map(usize::to_string));
            return Err(Error::Shape {
                network: self.network,
                argument,
                expected: format!("[{}]", expected.join(", ")),
                actual: format!("{actual:?}"),
            });
        }
        self.rows = rows;
        Ok(())
    }

    /// Refuses an empty batch (a mean over no samples).
    pub fn require_samples(&self) -> Result<(), Error> {
        match self.rows {
            Some(n) if n > 0 => Ok(()),
            _ => Err(Error::EmptyBatch {
                network: self.network,
            }),
        }
    }

    /// The number of samples (0 before any argument was checked).
    pub fn samples(&self) -> usize {
        self.rows.unwrap_or(0)
    }
}

/// One argument of a dynamic call (`Network::loss_dyn`) as an array of the
/// rank the network needs.
pub fn argument<'a, T, D: Dimension>(
    network: &'static str,
    name: &'static str,
    views: &[ndarray::ArrayViewD<'a, T>],
    index: usize,
    per_sample: &[usize],
) -> Result<ndarray::ArrayView<'a, T, D>, Error> {
    let count_error = || Error::Arguments {
        network,
        expected: index + 1,
        actual: views.len(),
    };
    let view = views.get(index).ok_or_else(count_error)?.clone();
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

/// σ(x) = 1 / (1 + e^(−x)), without overflow for large |x|.
pub fn sigmoid<T: NdFloat>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// softplus(x) = ln(1 + eˣ), without overflow for large x.
pub fn softplus<T: NdFloat>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// The outer product a bᵀ.
pub fn outer<T: NdFloat>(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>) -> Array2<T> {
    let a = a.insert_axis(Axis(1));
    let b = b.insert_axis(Axis(0));
    a.dot(&b)
}

/// softmax of one vector, shifted by its maximum so that eˣ cannot overflow.
pub fn softmax<T: NdFloat>(z: ArrayView1<'_, T>) -> Array1<T> {
    softmax_rows(z.insert_axis(Axis(0))).index_axis_move(Axis(0), 0)
}

/// softmax of each row.
pub fn softmax_rows<T: NdFloat>(z: ArrayView2<'_, T>) -> Array2<T> {
    let mut out = z.to_owned();
    for mut row in out.rows_mut() {
        let max = row.fold(T::neg_infinity(), |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    out
}

/// log softmax of one vector: z − max − ln Σ e^(z − max).
pub fn log_softmax<T: NdFloat>(z: ArrayView1<'_, T>) -> Array1<T> {
    log_softmax_rows(z.insert_axis(Axis(0))).index_axis_move(Axis(0), 0)
}

/// log softmax of each row, by log-sum-exp: finite for any finite z.
pub fn log_softmax_rows<T: NdFloat>(z: ArrayView2<'_, T>) -> Array2<T> {
    let mut out = z.to_owned();
    for mut row in out.rows_mut() {
        let max = row.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = row.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        row.mapv_inplace(|v| v - max - log_sum);
    }
    out
}

/// mean((y − t)²) of each row: the mean squared error.
pub fn mse<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    let n = T::from(y.ncols().max(t.ncols())).expect("a count converts");
    per_row(y, t, |y, t| (y - t) * (y - t)).mapv(|v| v / n)
}

/// −Σ [t ln y + (1 − t) ln(1 − y)] of each row, for probabilities y.
pub fn binary_cross_entropy<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    per_row(y, t, |y, t| {
        -(t * y.ln() + (T::one() - t) * (T::one() - y).ln())
    })
}

/// binary_cross_entropy(σ(z), t) of each row from the logits z, as
/// Σ softplus(z) − t·z: finite for any finite z.
pub fn sigmoid_binary_cross_entropy<T: NdFloat>(
    z: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
) -> Array1<T> {
    per_row(z, t, |z, t| softplus(z) - t * z)
}

/// ½ Σ (y − t)² of each row: the sum of squared errors.
pub fn sse<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    per_row(y, t, |y, t| {
        (y - t) * (y - t) * T::from(0.5).expect("0.5 is a float")
    })
}

/// −Σ t ln y of each row: cross-entropy of a probability vector y.
pub fn cross_entropy<T: NdFloat>(y: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    per_row(y, t, |y, t| -(t * y.ln()))
}

/// −Σ t ln softmax(z) of each row, computed from the logits z by
/// log-sum-exp: ln softmax(z)ᵢ = zᵢ − max − ln Σ e^(z − max). Finite for any
/// finite z.
pub fn softmax_cross_entropy<T: NdFloat>(z: ArrayView2<'_, T>, t: ArrayView2<'_, T>) -> Array1<T> {
    let rows = z.nrows().max(t.nrows());
    Array1::from_shape_fn(rows, |i| {
        let zi = z.row(i.min(z.nrows() - 1));
        let ti = t.row(i.min(t.nrows() - 1));
        let max = zi.fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = zi.fold(T::zero(), |s, &v| s + (v - max).exp()).ln();
        Zip::from(&zi)
            .and(&ti)
            .fold(T::zero(), |s, &z, &t| s - t * (z - max - log_sum))
    })
}

/// Σ over each row of f(y, t), broadcasting a single row against many.
fn per_row<T: NdFloat>(
    y: ArrayView2<'_, T>,
    t: ArrayView2<'_, T>,
    f: impl Fn(T, T) -> T,
) -> Array1<T> {
    let rows = y.nrows().max(t.nrows());
    Array1::from_shape_fn(rows, |i| {
        let yi = y.row(i.min(y.nrows() - 1));
        let ti = t.row(i.min(t.nrows() - 1));
        Zip::from(&yi)
            .and(&ti)
            .fold(T::zero(), |s, &y, &t| s + f(y, t))
    })
}

/// An error unless `value` is finite.
pub fn ensure_finite<T: NdFloat>(network: &'static str, what: &str, value: T) -> Result<(), Error> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFinite {
            network,
            what: what.to_string(),
            value: value.to_f64().unwrap_or(f64::NAN),
        })
    }
}

/// An error unless every element is finite.
pub fn ensure_all_finite<T: NdFloat, S: Data<Elem = T>, D: Dimension>(
    network: &'static str,
    what: &str,
    values: &ArrayBase<S, D>,
) -> Result<(), Error> {
    match values.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(v) => ensure_finite(network, what, *v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sigmoid_and_softplus_stay_finite_at_the_extremes() {
        for x in [-1000.0f64, -50.0, 0.0, 50.0, 1000.0] {
            assert!(sigmoid(x).is_finite() && (0.0..=1.0).contains(&sigmoid(x)));
            assert!(softplus(x).is_finite());
        }
        assert_eq!(sigmoid(0.0f64), 0.5);
        assert!((softplus(1000.0f64) - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn softmax_cross_entropy_is_finite_for_huge_logits() {
        let z = array![[1000.0f64, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]];
        let t = array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        let l = softmax_cross_entropy(z.view(), t.view());
        assert!(l[0].abs() < 1e-12, "{l}");
        assert!(
            (l[1] - (1.0 + (1.0f64 + (-1.0f64).exp()).ln())).abs() < 1e-9,
            "{l}"
        );
        let y = softmax_rows(z.view());
        assert!(y.iter().all(|v| v.is_finite()));
        assert!((y.row(0).sum() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn losses_match_their_formulas() {
        let y = array![[0.25f64, 0.75]];
        let t = array![[0.0, 1.0]];
        assert_eq!(sse(y.view(), t.view())[0], 0.5 * (0.0625 + 0.0625));
        assert_eq!(cross_entropy(y.view(), t.view())[0], -(0.75f64.ln()));
        // a single row pairs with every row of the other side
        let ts = array![[0.0, 1.0], [1.0, 0.0]];
        assert_eq!(sse(y.view(), ts.view()).len(), 2);
    }

    #[test]
    fn batch_checks_name_the_argument_and_both_shapes() {
        let mut b = Batch::new("Net");
        assert!(b.check("x", &[4, 2], &[2]).is_ok());
        let e = b.check("t", &[3, 1], &[1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Net: the argument `t` has shape [3, 1], expected [4, 1]"
        );
        let e = Batch::new("Net").check("x", &[4], &[2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Net: the argument `x` has shape [4], expected [batch, 2]"
        );
        assert!(Batch::new("Net").require_samples().is_err());
    }
}
