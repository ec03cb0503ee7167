//! Feature scaling: standardization and min-max scaling, fitted on the
//! training rows.

use ndarray::{Array1, Array2, ArrayView2, NdFloat};

/// Standardization: each column shifted by its mean and divided by its
/// standard deviation, both measured on the training data, so that the
/// training data has mean 0 and variance 1 per column (scikit-learn's
/// `StandardScaler`).
///
/// Fit it on the training rows only and transform every set with it, so
/// that nothing about the test rows leaks into training. A constant column
/// (a pixel that is always blank) has no spread to divide by: it is only
/// shifted, to 0, never divided by 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer<T> {
    /// The mean of each column of the training data.
    pub mean: Array1<T>,
    /// What each column is divided by: its (population) standard
    /// deviation, or 1 for a constant column.
    pub scale: Array1<T>,
}

impl<T: NdFloat> Standardizer<T> {
    /// Measures the mean and standard deviation of each column of `x`, in
    /// f64. With no rows, the standardizer does nothing.
    pub fn fit(x: ArrayView2<'_, T>) -> Self {
        let columns = x.ncols();
        let mut mean = Array1::zeros(columns);
        let mut scale = Array1::ones(columns);
        if x.nrows() == 0 {
            return Standardizer { mean, scale };
        }
        let n = x.nrows() as f64;
        for (j, column) in x.columns().into_iter().enumerate() {
            let values = || column.iter().map(|v| v.to_f64().unwrap_or(f64::NAN));
            let m = values().sum::<f64>() / n;
            mean[j] = from_f64(m);
            // A constant column is detected exactly: its measured spread
            // would be rounding noise.
            let first = column[0];
            if column.iter().all(|&v| v == first) {
                mean[j] = first;
                continue;
            }
            let std = (values().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
            let std: T = from_f64(std);
            if std > T::zero() && std.is_finite() {
                scale[j] = std;
            }
        }
        Standardizer { mean, scale }
    }

    /// `(x − mean) / scale`, column by column.
    ///
    /// # Panics
    ///
    /// If `x` has a different number of columns than the data it was fitted on.
    pub fn transform(&self, x: ArrayView2<'_, T>) -> Array2<T> {
        per_column("Standardizer", x, &self.mean, &self.scale, |v, m, s| {
            (v - m) / s
        })
    }

    /// `x · scale + mean`: back from standardized values to the data's.
    ///
    /// # Panics
    ///
    /// If `x` has a different number of columns than the data it was fitted on.
    pub fn inverse_transform(&self, x: ArrayView2<'_, T>) -> Array2<T> {
        per_column("Standardizer", x, &self.mean, &self.scale, |v, m, s| {
            v * s + m
        })
    }
}

/// Min-max scaling: each column mapped linearly so that its smallest value
/// in the training data becomes 0 and its largest 1 (scikit-learn's
/// `MinMaxScaler`). Values outside the training range map outside [0, 1].
/// A constant column becomes 0, never 0/0.
#[derive(Debug, Clone, PartialEq)]
pub struct MinMaxScaler<T> {
    /// The smallest value of each column of the training data.
    pub min: Array1<T>,
    /// Its largest minus its smallest value, or 1 for a constant column.
    pub range: Array1<T>,
}

impl<T: NdFloat> MinMaxScaler<T> {
    /// Measures the smallest and largest value of each column of `x`
    /// (ignoring NaN). With no rows, the scaler does nothing.
    pub fn fit(x: ArrayView2<'_, T>) -> Self {
        let columns = x.ncols();
        let mut min = Array1::zeros(columns);
        let mut range = Array1::ones(columns);
        for (j, column) in x.columns().into_iter().enumerate() {
            let lo = column.iter().copied().fold(T::infinity(), T::min);
            let hi = column.iter().copied().fold(T::neg_infinity(), T::max);
            if lo.is_finite() {
                min[j] = lo;
            }
            if lo.is_finite() && hi.is_finite() && hi > lo {
                range[j] = hi - lo;
            }
        }
        MinMaxScaler { min, range }
    }

    /// `(x − min) / range`, column by column.
    ///
    /// # Panics
    ///
    /// If `x` has a different number of columns than the data it was fitted on.
    pub fn transform(&self, x: ArrayView2<'_, T>) -> Array2<T> {
        per_column("MinMaxScaler", x, &self.min, &self.range, |v, lo, r| {
            (v - lo) / r
        })
    }
}

/// `f(value, a[column], b[column])` for every element of `x`, as a new array.
fn per_column<T: NdFloat>(
    scaler: &str,
    x: ArrayView2<'_, T>,
    a: &Array1<T>,
    b: &Array1<T>,
    f: impl Fn(T, T, T) -> T,
) -> Array2<T> {
    check_columns(scaler, a.len(), x.ncols());
    let mut out = x.to_owned();
    for mut row in out.rows_mut() {
        ndarray::Zip::from(&mut row)
            .and(a)
            .and(b)
            .for_each(|v, &a, &b| *v = f(*v, a, b));
    }
    out
}

fn from_f64<T: NdFloat>(v: f64) -> T {
    T::from(v).unwrap_or_else(T::nan)
}

fn check_columns(what: &str, fitted: usize, got: usize) {
    assert_eq!(
        fitted, got,
        "{what}: fitted on {fitted} columns, asked to transform {got}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Axis};

    #[test]
    fn standardizing_gives_mean_0_and_variance_1_and_constant_columns_stay_finite() {
        let x = array![
            [1.0f32, 5.0, 0.1],
            [2.0, 5.0, 0.1],
            [3.0, 5.0, 0.1],
            [6.0, 5.0, 0.1]
        ];
        let s = Standardizer::fit(x.view());
        let z = s.transform(x.view());
        assert!(z.iter().all(|v| v.is_finite()), "{z}");
        let mean = z.mean_axis(Axis(0)).unwrap();
        let var = z.var_axis(Axis(0), 0.0);
        assert!(mean.iter().all(|m| m.abs() < 1e-6), "{mean}");
        assert!((var[0] - 1.0).abs() < 1e-5, "{var}");
        assert_eq!(z.column(1), array![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(z.column(2), array![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(s.scale[1], 1.0);
        let back = s.inverse_transform(z.view());
        assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5));
        // new data, including values the constant column never had
        let other = s.transform(array![[3.0f32, 7.0, 0.1]].view());
        assert_eq!(other[[0, 1]], 2.0);
        // no rows: the identity
        let none = Standardizer::<f64>::fit(Array2::zeros((0, 2)).view());
        assert_eq!(
            none.transform(array![[3.0, 4.0]].view()),
            array![[3.0, 4.0]]
        );
    }

    #[test]
    fn min_max_scaling_maps_the_training_range_to_0_1() {
        let x = array![[0.0f64, 16.0, 2.0], [8.0, 16.0, 4.0], [16.0, 16.0, 3.0]];
        let s = MinMaxScaler::fit(x.view());
        let z = s.transform(x.view());
        assert_eq!(z, array![[0.0, 0.0, 0.0], [0.5, 0.0, 1.0], [1.0, 0.0, 0.5]]);
        assert_eq!(s.transform(array![[32.0, 1.0, 0.0]].view())[[0, 0]], 2.0);
    }
}
