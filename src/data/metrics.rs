//! Targets and scores: one-hot rows, the predicted class, accuracy and the
//! confusion matrix.

use std::fmt::Write as _;

use ndarray::{Array2, ArrayView2};
use num_traits::{One, Zero};

/// Class numbers as one-hot rows: row i has a 1 in column `labels[i]` and
/// 0 elsewhere, the targets of `cross_entropy(softmax(z), t)`.
///
/// # Panics
///
/// If a label is not below `classes`.
pub fn one_hot<T: Clone + Zero + One>(labels: &[usize], classes: usize) -> Array2<T> {
    let mut t = Array2::zeros((labels.len(), classes));
    for (i, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "one_hot: the label {label} of sample {i} is not below the number of classes, {classes}"
        );
        t[[i, label]] = T::one();
    }
    t
}

/// The column of the largest value of each row: the predicted class of
/// each sample from its scores (logits or probabilities). Ties go to the
/// first column; NaN is never the largest (a row of NaN gives 0).
///
/// # Panics
///
/// If there are rows but no columns.
pub fn argmax<T: PartialOrd>(scores: ArrayView2<'_, T>) -> Vec<usize> {
    assert!(
        scores.ncols() > 0 || scores.nrows() == 0,
        "argmax: the scores have no columns"
    );
    scores
        .rows()
        .into_iter()
        .map(|row| {
            let mut best: Option<(usize, &T)> = None;
            for (j, v) in row.iter().enumerate() {
                // a value that is not comparable with itself is NaN
                if v.partial_cmp(v).is_none() {
                    continue;
                }
                if best.is_none_or(|(_, b)| v > b) {
                    best = Some((j, v));
                }
            }
            best.map_or(0, |(j, _)| j)
        })
        .collect()
}

/// The fraction of samples whose predicted class, the [`argmax`] of their
/// row of `scores`, is their label; NaN when there are no samples.
///
/// # Panics
///
/// If `scores` has a different number of rows than there are labels.
pub fn accuracy<T: PartialOrd>(scores: ArrayView2<'_, T>, labels: &[usize]) -> f64 {
    assert_eq!(
        scores.nrows(),
        labels.len(),
        "accuracy: the scores have {} rows but there are {} labels",
        scores.nrows(),
        labels.len()
    );
    let correct = argmax(scores)
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    correct as f64 / labels.len() as f64
}

/// The confusion matrix of a classifier: entry `[i, j]` counts the samples
/// of label `i` whose predicted class (the [`argmax`] of their row of
/// `scores`) is `j`. One row and column per column of `scores`; the diagonal
/// holds the correct predictions (scikit-learn's layout).
///
/// # Panics
///
/// If `scores` has a different number of rows than there are labels, or a
/// label is not below the number of columns.
pub fn confusion_matrix<T: PartialOrd>(
    scores: ArrayView2<'_, T>,
    labels: &[usize],
) -> Array2<usize> {
    assert_eq!(
        scores.nrows(),
        labels.len(),
        "confusion_matrix: the scores have {} rows but there are {} labels",
        scores.nrows(),
        labels.len()
    );
    let classes = scores.ncols();
    let mut matrix = Array2::zeros((classes, classes));
    for (i, (&label, predicted)) in labels.iter().zip(argmax(scores)).enumerate() {
        assert!(
            label < classes,
            "confusion_matrix: the label {label} of sample {i} is not below the number of classes, {classes}"
        );
        matrix[[label, predicted]] += 1;
    }
    matrix
}

/// A confusion matrix as a text table: one row per true class, one column
/// per predicted class, and the fraction of each class predicted correctly
/// (its recall). `names` labels the classes; when it is empty (or too
/// short), classes are numbered.
pub fn format_confusion_matrix(matrix: ArrayView2<'_, usize>, names: &[&str]) -> String {
    let classes = matrix.nrows();
    let name = |i: usize| {
        names
            .get(i)
            .map_or_else(|| i.to_string(), |n| n.to_string())
    };
    let corner = "true \\ predicted";
    let label_width = (0..classes)
        .map(|i| name(i).chars().count())
        .chain([corner.chars().count()])
        .max()
        .unwrap_or(0);
    let width = (0..classes)
        .map(|i| name(i).chars().count())
        .chain(matrix.iter().map(|n| n.to_string().len()))
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    let _ = write!(out, "{corner:<label_width$}");
    for j in 0..classes {
        let _ = write!(out, "  {:>width$}", name(j));
    }
    out.push_str("  recall\n");
    for (i, row) in matrix.rows().into_iter().enumerate() {
        let _ = write!(out, "{:<label_width$}", name(i));
        for n in row {
            let _ = write!(out, "  {n:>width$}");
        }
        let total: usize = row.sum();
        let diagonal = row.get(i).copied().unwrap_or(0);
        if total == 0 {
            out.push_str("       -\n");
        } else {
            let _ = writeln!(out, "  {:>5.1}%", 100.0 * diagonal as f64 / total as f64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_hot_argmax_accuracy_and_confusion() {
        let t: Array2<f32> = one_hot(&[2, 0, 1], 3);
        assert_eq!(t, array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        assert_eq!(argmax(t.view()), [2, 0, 1]);
        let scores = array![
            [0.1f32, 0.7, 0.2],
            [0.5, 0.5, 0.0], // a tie goes to the first
            [f32::NAN, -1.0, -2.0],
            [f32::NAN, f32::NAN, f32::NAN],
        ];
        assert_eq!(argmax(scores.view()), [1, 0, 1, 0]);
        assert_eq!(accuracy(scores.view(), &[1, 0, 1, 2]), 0.75);
        let matrix = confusion_matrix(scores.view(), &[1, 0, 1, 2]);
        assert_eq!(matrix, array![[1, 0, 0], [0, 2, 0], [1, 0, 0]]);
        assert_eq!(matrix.sum(), 4);
        let empty = Array2::<f32>::zeros((0, 3));
        assert!(accuracy(empty.view(), &[]).is_nan());
        let table = format_confusion_matrix(matrix.view(), &["a", "bb"]);
        assert_eq!(
            table,
            "true \\ predicted   a  bb   2  recall\n\
             a                  1   0   0  100.0%\n\
             bb                 0   2   0  100.0%\n\
             2                  1   0   0    0.0%\n"
        );
    }

    #[test]
    #[should_panic(expected = "the label 3 of sample 1 is not below the number of classes, 3")]
    fn one_hot_refuses_a_label_beyond_the_classes() {
        let _: Array2<f32> = one_hot(&[0, 3], 3);
    }
}
