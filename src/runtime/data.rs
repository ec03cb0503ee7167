//! Data for training, as every training library has it: loading the bundled
//! CSV files, holding out a test set, scaling features, shuffled minibatches,
//! one-hot targets, and scoring a classifier.
//!
//! Arrays hold one row per sample, as the generated networks take them.
//! Everything random is drawn from ChaCha8 seeded by a `u64`, through `rand`'s
//! portable shuffle, so a seed gives the same split and the same batches on
//! every run and platform.
//!
//! ```
//! use denpa::ndarray::array;
//! use denpa::runtime::data::{accuracy, one_hot, train_test_split, Minibatches, Standardizer};
//!
//! let x = array![[1.0f32, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]];
//! let labels = [0, 1, 0, 1, 1];
//! let split = train_test_split(x.view(), &labels, 0.2, 7);
//! let scaler = Standardizer::fit(split.train_x.view());
//! let train_x = scaler.transform(split.train_x.view());
//! let train_t = one_hot::<f32>(&split.train_labels, 2);
//! let batches = Minibatches::new(train_x.view(), train_t.view(), 2, 7);
//! for epoch in 0..3 {
//!     for (xb, tb) in batches.epoch(epoch) {
//!         assert_eq!(xb.nrows(), tb.nrows());
//!         // net.train_step(xb.view(), tb.view())?;
//!     }
//! }
//! // the scores of a network: one row per sample, one column per class
//! let scores = array![[0.9f32, 0.1], [0.2, 0.8]];
//! assert_eq!(accuracy(scores.view(), &[0, 0]), 0.5);
//! ```
//!
//! Misuse that a program can only get wrong by mistake (arrays of different
//! lengths, a label beyond the number of classes) panics with a message that
//! says what, as indexing does. Bad files are errors, never panics: the
//! loaders say which line and column and what is wrong with it.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2, Axis, NdFloat};
use num_traits::{One, Zero};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::Error;

// ---------------------------------------------------------------------------
// Shuffling

/// The numbers `0..n` in an order drawn from `seed`: the same seed gives the
/// same order on every run and platform.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    permutation_in_stream(n, seed, 0)
}

/// `0..n` shuffled by ChaCha8 from `seed` on stream `stream`: the streams of
/// one seed are independent sequences (0 for [`permutation`], `e + 1` for
/// epoch `e` of [`Minibatches`]).
fn permutation_in_stream(n: usize, seed: u64, stream: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

/// Shuffled minibatches of row-aligned inputs `x` and targets `t`, in an
/// order fixed by a seed and the epoch number.
///
/// Each epoch visits every sample once, in batches of `batch_size` rows; the
/// last batch of an epoch is smaller when the batch size does not divide the
/// number of samples. The order of epoch `e` depends only on the seed and
/// `e` (ChaCha8 from the seed, stream `e + 1`; stream 0 is [`permutation`]'s,
/// so that no epoch repeats the shuffle of a split by the same seed), so
/// training is reproducible and can be resumed at any epoch.
///
/// ```
/// use denpa::ndarray::array;
/// use denpa::runtime::data::Minibatches;
///
/// let x = array![[0.0f32], [1.0], [2.0], [3.0], [4.0]];
/// let t = array![[0.0f32], [10.0], [20.0], [30.0], [40.0]];
/// let batches = Minibatches::new(x.view(), t.view(), 2, 42);
/// assert_eq!(batches.len(), 3);
/// let sizes: Vec<usize> = batches.epoch(0).map(|(xb, _)| xb.nrows()).collect();
/// assert_eq!(sizes, [2, 2, 1]);
/// for (xb, tb) in batches.epoch(1) {
///     assert_eq!(tb, xb.mapv(|v| v * 10.0)); // rows stay paired
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Minibatches<'a, T> {
    x: ArrayView2<'a, T>,
    t: ArrayView2<'a, T>,
    batch_size: usize,
    seed: u64,
}

impl<'a, T: Clone> Minibatches<'a, T> {
    /// Batches of `batch_size` rows of `x` and `t`, shuffled from `seed`.
    ///
    /// # Panics
    ///
    /// If `x` and `t` have different numbers of rows, or `batch_size` is 0.
    pub fn new(x: ArrayView2<'a, T>, t: ArrayView2<'a, T>, batch_size: usize, seed: u64) -> Self {
        assert_eq!(
            x.nrows(),
            t.nrows(),
            "Minibatches: x has {} rows but t has {}; they must be row-aligned",
            x.nrows(),
            t.nrows()
        );
        assert!(
            batch_size > 0,
            "Minibatches: the batch size must be at least 1"
        );
        Minibatches {
            x,
            t,
            batch_size,
            seed,
        }
    }

    /// The number of rows in a full batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of samples an epoch visits.
    pub fn samples(&self) -> usize {
        self.x.nrows()
    }

    /// The number of batches in an epoch: ⌈samples / batch_size⌉.
    pub fn len(&self) -> usize {
        self.samples().div_ceil(self.batch_size)
    }

    /// True when there are no samples, so an epoch has no batches.
    pub fn is_empty(&self) -> bool {
        self.samples() == 0
    }

    /// The order in which epoch `epoch` visits the rows.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        permutation_in_stream(self.samples(), self.seed, epoch.wrapping_add(1))
    }

    /// The batches of epoch `epoch`, each an owned `(x, t)` pair of arrays
    /// (`.view()` them for `train_step`).
    pub fn epoch(&self, epoch: u64) -> Epoch<'a, T> {
        Epoch {
            x: self.x,
            t: self.t,
            order: self.order(epoch),
            batch_size: self.batch_size,
            next: 0,
        }
    }
}

/// The batches of one epoch of [`Minibatches`]: `(x, t)` pairs of owned
/// arrays with the same rows in the same order.
#[derive(Debug, Clone)]
pub struct Epoch<'a, T> {
    x: ArrayView2<'a, T>,
    t: ArrayView2<'a, T>,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
}

impl<T: Clone> Iterator for Epoch<'_, T> {
    type Item = (Array2<T>, Array2<T>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let rows = &self.order[self.next..end];
        self.next = end;
        Some((self.x.select(Axis(0), rows), self.t.select(Axis(0), rows)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl<T: Clone> ExactSizeIterator for Epoch<'_, T> {}

/// A data set cut in two by [`train_test_split`]: rows of `x` with their
/// labels, for training and for testing.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<T, L> {
    /// The training rows.
    pub train_x: Array2<T>,
    /// The labels of the training rows.
    pub train_labels: Vec<L>,
    /// The held-out rows.
    pub test_x: Array2<T>,
    /// The labels of the held-out rows.
    pub test_labels: Vec<L>,
}

/// Shuffles the rows of `x` with their `labels` (by [`permutation`] from
/// `seed`) and holds out ⌈`test_fraction` · rows⌉ of them for testing, as
/// scikit-learn's `train_test_split` does. Both parts keep the shuffled
/// order.
///
/// # Panics
///
/// If `x` and `labels` have different lengths, or `test_fraction` is not in
/// [0, 1].
pub fn train_test_split<T: Clone, L: Clone>(
    x: ArrayView2<'_, T>,
    labels: &[L],
    test_fraction: f64,
    seed: u64,
) -> Split<T, L> {
    assert_eq!(
        x.nrows(),
        labels.len(),
        "train_test_split: x has {} rows but there are {} labels",
        x.nrows(),
        labels.len()
    );
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "train_test_split: the test fraction must be in [0, 1], not {test_fraction}"
    );
    let n = labels.len();
    let order = permutation(n, seed);
    let held_out = ((test_fraction * n as f64).ceil() as usize).min(n);
    let (test, train) = order.split_at(held_out);
    let pick = |rows: &[usize]| rows.iter().map(|&i| labels[i].clone()).collect();
    Split {
        train_x: x.select(Axis(0), train),
        train_labels: pick(train),
        test_x: x.select(Axis(0), test),
        test_labels: pick(test),
    }
}

// ---------------------------------------------------------------------------
// Targets and scores

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

// ---------------------------------------------------------------------------
// Feature scaling

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

// ---------------------------------------------------------------------------
// Loading

/// The number of features of the digits data set: 8 × 8 pixels.
pub const DIGITS_FEATURES: usize = 64;
/// The number of classes of the digits data set: the digits 0 to 9.
pub const DIGITS_CLASSES: usize = 10;
/// The number of features of the iris data set: sepal length and width,
/// petal length and width, in cm.
pub const IRIS_FEATURES: usize = 4;
/// The classes of the iris data set, in the order of their labels.
pub const IRIS_CLASSES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// What [`read_labeled_csv`] expects of a file: comma-separated numbers,
/// one sample per line, the features first and the class number last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvFormat {
    /// The first line is scikit-learn's header `rows,features,name,...`
    /// (the number of samples, of features, and the class names), and the
    /// data is checked against it.
    pub sklearn_header: bool,
    /// The number of features on every line; when `None`, as many as on the
    /// first data line.
    pub features: Option<usize>,
    /// The number of classes: every label must be below it. When `None`,
    /// any label is accepted (or, with a header, as many as it names).
    pub classes: Option<usize>,
    /// The class names the header must give, in order; when empty, any.
    pub class_names: Vec<String>,
}

/// Loads the digits data set (`examples/data/digits.csv.gz`): 1797 images
/// of 8 × 8 pixels, each pixel a count 0..16, as one row of 64 features
/// per image, and the digit each shows.
///
/// Plain or gzipped CSV (told apart by the gzip magic bytes), no header.
/// Any line that is not 64 numbers and a label 0..9 is an error naming the
/// file, the line and what is wrong.
pub fn load_digits(path: impl AsRef<Path>) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let format = CsvFormat {
        features: Some(DIGITS_FEATURES),
        classes: Some(DIGITS_CLASSES),
        ..CsvFormat::default()
    };
    read_labeled_csv(path, &format)
}

/// Loads Fisher's iris data set (`examples/data/iris.csv`): 150 flowers,
/// 4 measurements each in cm, and the species, numbered as in
/// [`IRIS_CLASSES`].
///
/// The first line must be the header `150,4,setosa,versicolor,virginica`
/// (the row count may differ; the data is checked against it). Any line that
/// is not 4 numbers and a label 0..2 is an error naming the file, the line
/// and what is wrong.
pub fn load_iris(path: impl AsRef<Path>) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let format = CsvFormat {
        sklearn_header: true,
        features: Some(IRIS_FEATURES),
        classes: Some(IRIS_CLASSES.len()),
        class_names: IRIS_CLASSES.iter().map(|s| s.to_string()).collect(),
    };
    read_labeled_csv(path, &format)
}

/// Reads a labeled CSV file, plain or gzipped (told apart by the gzip magic
/// bytes): one sample per line, its features as numbers, then its class
/// number. Blank lines are skipped; spaces around values are allowed.
///
/// Returns the features, one row per sample, and the labels. Every problem
/// is an [`Error::Io`] naming the file and, for its contents, the line (and
/// column) and what is wrong: a value that is not a finite number, a line
/// with the wrong number of values, a label that is not a class number, a
/// header that does not match the data, a file that is not text or is
/// corrupt gzip.
pub fn read_labeled_csv(
    path: impl AsRef<Path>,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    read_labeled_csv_from(file, &name, format)
}

/// [`read_labeled_csv`] from any reader; `name` stands for the file in
/// error messages.
pub fn read_labeled_csv_from(
    reader: impl Read,
    name: &str,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let error = |message: String| Error::Io {
        path: name.to_string(),
        message,
    };
    let mut reader = BufReader::new(reader);
    let start = reader
        .fill_buf()
        .map_err(|e| error(format!("could not read: {e}")))?;
    let gzipped = start.starts_with(&[0x1f, 0x8b]);
    let text: Box<dyn BufRead + '_> = if gzipped {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    parse_csv(text, format).map_err(error)
}

/// The header of a scikit-learn CSV file.
struct Header {
    line: usize,
    rows: usize,
    features: usize,
    classes: usize,
}

fn parse_csv(
    mut text: impl BufRead,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), String> {
    let mut features = format.features;
    let mut classes = format.classes;
    let mut header: Option<Header> = None;
    let mut values: Vec<f32> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    let mut bytes = Vec::new();
    let mut number = 0;
    loop {
        bytes.clear();
        number += 1;
        match text.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("line {number}: could not read: {e}")),
        }
        let Ok(line) = std::str::from_utf8(&bytes) else {
            return Err(format!("line {number}: not UTF-8 text"));
        };
        let content = line.trim();
        if content.is_empty() {
            continue;
        }
        if format.sklearn_header && header.is_none() {
            let h = parse_header(content, number, format)?;
            features = Some(h.features);
            classes = Some(h.classes);
            header = Some(h);
            continue;
        }
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        let n = *features.get_or_insert(fields.len().saturating_sub(1));
        if fields.len() != n + 1 {
            return Err(format!(
                "line {number}: {}, expected {} ({} and a label)",
                counted(fields.len(), "value"),
                n + 1,
                counted(n, "feature")
            ));
        }
        for (column, field) in fields[..n].iter().enumerate() {
            values.push(parse_feature(field).map_err(|what| {
                format!("line {number}, column {}: `{field}` {what}", column + 1)
            })?);
        }
        let label = parse_label(fields[n], classes)
            .map_err(|what| format!("line {number}, column {}: {what}", n + 1))?;
        labels.push(label);
    }
    if let Some(h) = &header {
        if h.rows != labels.len() {
            return Err(format!(
                "the header on line {} says {}, but the file has {}",
                h.line,
                counted(h.rows, "sample"),
                labels.len()
            ));
        }
    } else if format.sklearn_header {
        return Err("the file is empty; expected a header `rows,features,class names`".into());
    }
    if labels.is_empty() {
        return Err("the file has no samples".into());
    }
    let columns = features.unwrap_or(0);
    let x = Array2::from_shape_vec((labels.len(), columns), values)
        .map_err(|e| format!("could not shape the features: {e}"))?;
    Ok((x, labels))
}

/// "1 value", "2 values".
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn parse_header(content: &str, number: usize, format: &CsvFormat) -> Result<Header, String> {
    let fields: Vec<&str> = content.split(',').map(str::trim).collect();
    let expected = "a header `rows,features,class names...`";
    let count = |i: usize, what: &str| -> Result<usize, String> {
        let field = fields.get(i).copied().unwrap_or("");
        field.parse().map_err(|_| {
            format!("line {number}: expected {expected}, found `{content}` (the {what} `{field}` is not a count)")
        })
    };
    let rows = count(0, "number of rows")?;
    let features = count(1, "number of features")?;
    let names = &fields[2..];
    if names.is_empty() {
        return Err(format!(
            "line {number}: the header `{content}` names no classes"
        ));
    }
    if let Some(n) = format.features {
        if n != features {
            return Err(format!(
                "line {number}: the header says {}, expected {n}",
                counted(features, "feature")
            ));
        }
    }
    if let Some(c) = format.classes {
        if c != names.len() {
            return Err(format!(
                "line {number}: the header names {} classes, expected {c}",
                names.len()
            ));
        }
    }
    if !format.class_names.is_empty() && names != format.class_names.as_slice() {
        return Err(format!(
            "line {number}: the header names the classes {}, expected {}",
            names.join(", "),
            format.class_names.join(", ")
        ));
    }
    Ok(Header {
        line: number,
        rows,
        features,
        classes: names.len(),
    })
}

fn parse_feature(field: &str) -> Result<f32, &'static str> {
    if field.is_empty() {
        return Err("is empty; expected a number");
    }
    match field.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("is not a finite number"),
        Err(_) => Err("is not a number"),
    }
}

fn parse_label(field: &str, classes: Option<usize>) -> Result<usize, String> {
    let label = field.parse::<usize>().ok().or_else(|| {
        // a class number written as a float, "3.0"
        let v = field.parse::<f64>().ok()?;
        (v >= 0.0 && v.fract() == 0.0 && v < 9.0e15).then_some(v as usize)
    });
    let classes_text = classes.map_or_else(String::new, |c| format!(" 0..{}", c.saturating_sub(1)));
    match label {
        None => Err(format!(
            "the label `{field}` is not a class number{classes_text}"
        )),
        Some(l) if classes.is_some_and(|c| l >= c) => {
            Err(format!("the label {l} is not a class number{classes_text}"))
        }
        Some(l) => Ok(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::io::Write;

    fn parse(text: &str, format: &CsvFormat) -> Result<(Array2<f32>, Vec<usize>), String> {
        read_labeled_csv_from(text.as_bytes(), "test.csv", format).map_err(|e| e.to_string())
    }

    fn digits_like() -> CsvFormat {
        CsvFormat {
            features: Some(2),
            classes: Some(3),
            ..CsvFormat::default()
        }
    }

    #[test]
    fn permutations_are_fixed_by_the_seed() {
        let a = permutation(100, 1);
        assert_eq!(a, permutation(100, 1));
        assert_ne!(a, permutation(100, 2));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        // pinned: the order must not change between versions or platforms
        assert_eq!(permutation(8, 0), [2, 0, 6, 1, 3, 5, 7, 4]);
        assert_eq!(permutation(0, 3), Vec::<usize>::new());
        assert_eq!(permutation(1, 3), vec![0]);
    }

    #[test]
    fn minibatches_visit_every_row_once_per_epoch_in_a_seeded_order() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| (10 * i + j) as f32);
        let t = Array2::from_shape_fn((10, 1), |(i, _)| i as f32);
        let batches = Minibatches::new(x.view(), t.view(), 4, 9);
        assert_eq!(batches.len(), 3);
        assert_eq!(batches.epoch(0).len(), 3);
        let mut seen = Vec::new();
        for (xb, tb) in batches.epoch(0) {
            assert!(xb.nrows() <= 4);
            for (xr, tr) in xb.rows().into_iter().zip(tb.rows()) {
                let i = tr[0] as usize;
                assert_eq!(xr, x.row(i), "x and t rows stay paired");
                seen.push(i);
            }
        }
        assert_eq!(seen.len(), 10);
        assert_eq!(seen, batches.order(0));
        let sizes: Vec<usize> = batches.epoch(0).map(|(b, _)| b.nrows()).collect();
        assert_eq!(sizes, [4, 4, 2]);
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        // each epoch has its own order, the same on every call
        assert_ne!(batches.order(0), batches.order(1));
        assert_eq!(batches.order(1), batches.order(1));
        let again = Minibatches::new(x.view(), t.view(), 4, 9);
        assert_eq!(again.order(5), batches.order(5));
        let other = Minibatches::new(x.view(), t.view(), 4, 10);
        assert_ne!(other.order(0), batches.order(0));
    }

    #[test]
    fn minibatches_of_nothing_have_no_batches() {
        let x = Array2::<f32>::zeros((0, 3));
        let t = Array2::<f32>::zeros((0, 1));
        let batches = Minibatches::new(x.view(), t.view(), 8, 0);
        assert!(batches.is_empty());
        assert_eq!(batches.epoch(0).count(), 0);
    }

    #[test]
    #[should_panic(expected = "x has 3 rows but t has 2")]
    fn minibatches_refuse_misaligned_arrays() {
        let x = Array2::<f32>::zeros((3, 1));
        let t = Array2::<f32>::zeros((2, 1));
        Minibatches::new(x.view(), t.view(), 1, 0);
    }

    #[test]
    fn the_split_holds_out_the_ceiling_of_the_fraction() {
        let x = Array2::from_shape_fn((11, 1), |(i, _)| i as f64);
        let labels: Vec<usize> = (0..11).collect();
        let split = train_test_split(x.view(), &labels, 0.2, 3);
        assert_eq!(split.test_labels.len(), 3); // ⌈2.2⌉
        assert_eq!(split.train_labels.len(), 8);
        assert_eq!(split.test_x.nrows(), 3);
        for (row, &label) in split.train_x.rows().into_iter().zip(&split.train_labels) {
            assert_eq!(row[0], label as f64);
        }
        let mut all: Vec<usize> = split
            .train_labels
            .iter()
            .chain(&split.test_labels)
            .copied()
            .collect();
        all.sort();
        assert_eq!(all, labels);
        assert_eq!(split, train_test_split(x.view(), &labels, 0.2, 3));
        assert_ne!(split, train_test_split(x.view(), &labels, 0.2, 4));
        let none = train_test_split(x.view(), &labels, 0.0, 3);
        assert!(none.test_labels.is_empty());
        let all = train_test_split(x.view(), &labels, 1.0, 3);
        assert!(all.train_labels.is_empty() && all.test_x.nrows() == 11);
    }

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

    #[test]
    fn csv_files_parse_with_and_without_a_header() {
        let (x, labels) = parse("1,2,0\n3, 4 ,2\n\n5.5,-6e1,1.0\r\n", &digits_like()).unwrap();
        assert_eq!(x, array![[1.0, 2.0], [3.0, 4.0], [5.5, -60.0]]);
        assert_eq!(labels, [0, 2, 1]);
        let format = CsvFormat {
            sklearn_header: true,
            class_names: vec!["a".into(), "b".into()],
            ..CsvFormat::default()
        };
        let (x, labels) = parse("2,3,a,b\n1,2,3,1\n4,5,6,0\n", &format).unwrap();
        assert_eq!(x.dim(), (2, 3));
        assert_eq!(labels, [1, 0]);
        // without a fixed count, the first line sets it
        let (x, _) = parse("1,2,3,4,0\n", &CsvFormat::default()).unwrap();
        assert_eq!(x.ncols(), 4);
    }

    /// The error of parsing `text` as `format`.
    fn refusal(text: &str, format: &CsvFormat) -> String {
        parse(text, format).unwrap_err()
    }

    #[test]
    fn bad_csv_says_which_line_and_what() {
        let plain = &digits_like();
        let header = &CsvFormat {
            sklearn_header: true,
            ..CsvFormat::default()
        };
        let named = &CsvFormat {
            class_names: vec!["a".into(), "b".into()],
            ..header.clone()
        };
        for (text, format, expected) in [
            (
                "1,2,0\n1,2\n",
                plain,
                "line 2: 2 values, expected 3 (2 features and a label)",
            ),
            (
                "1,2,0\n1,x,1\n",
                plain,
                "line 2, column 2: `x` is not a number",
            ),
            (
                "1,,0\n",
                plain,
                "line 1, column 2: `` is empty; expected a number",
            ),
            (
                "1,NaN,0\n",
                plain,
                "line 1, column 2: `NaN` is not a finite number",
            ),
            (
                "1,2,0\n\n1,2,3\n",
                plain,
                "line 3, column 3: the label 3 is not a class number 0..2",
            ),
            (
                "1,2,-1\n",
                plain,
                "line 1, column 3: the label `-1` is not a class number 0..2",
            ),
            (
                "1,2,0.5\n",
                plain,
                "line 1, column 3: the label `0.5` is not a class number 0..2",
            ),
            ("", plain, "the file has no samples"),
            (
                "",
                header,
                "the file is empty; expected a header `rows,features,class names`",
            ),
            (
                "1,2,0\n",
                header,
                "the header on line 1 says 1 sample, but the file has 0",
            ),
            (
                "rows,2,a\n",
                header,
                "line 1: expected a header `rows,features,class names...`, found `rows,2,a` \
                 (the number of rows `rows` is not a count)",
            ),
            (
                "3,1,a,b\n1,0\n2,1\n",
                header,
                "the header on line 1 says 3 samples, but the file has 2",
            ),
            (
                "1,1,a,b\n1,2\n",
                header,
                "line 2, column 2: the label 2 is not a class number 0..1",
            ),
            (
                "1,1,a,c\n1,0\n",
                named,
                "line 1: the header names the classes a, c, expected a, b",
            ),
        ] {
            assert_eq!(
                refusal(text, format),
                format!("test.csv: {expected}"),
                "{text:?}"
            );
        }
        let bytes = b"1,2,0\n1,\xff,0\n";
        let got = read_labeled_csv_from(&bytes[..], "b.csv", plain).unwrap_err();
        assert_eq!(got.to_string(), "b.csv: line 2: not UTF-8 text");
    }

    #[test]
    fn gzip_is_read_and_corrupt_gzip_is_an_error() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"1,2,0\n3,4,1\n").unwrap();
        let gz = encoder.finish().unwrap();
        let (x, labels) = read_labeled_csv_from(&gz[..], "a.csv.gz", &digits_like()).unwrap();
        assert_eq!(x, array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(labels, [0, 1]);
        let cut = &gz[..gz.len() - 12];
        let err = read_labeled_csv_from(cut, "a.csv.gz", &digits_like()).unwrap_err();
        assert!(err.to_string().starts_with("a.csv.gz: line "), "{err}");
        let mut broken = gz.clone();
        broken[12] ^= 0xff;
        let err = read_labeled_csv_from(&broken[..], "a.csv.gz", &digits_like()).unwrap_err();
        assert!(err.to_string().starts_with("a.csv.gz: "), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = load_digits("no/such/file.csv.gz").unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == "no/such/file.csv.gz"),
            "{err}"
        );
    }

    #[test]
    fn the_bundled_data_sets_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
        let (x, labels) = load_digits(root.join("digits.csv.gz")).unwrap();
        assert_eq!(x.dim(), (1797, 64));
        assert_eq!(labels.len(), 1797);
        assert!(x.iter().all(|&v| (0.0..=16.0).contains(&v)));
        assert_eq!(labels[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let (x, labels) = load_iris(root.join("iris.csv")).unwrap();
        assert_eq!(x.dim(), (150, 4));
        assert_eq!(x.row(0), array![5.1, 3.5, 1.4, 0.2]);
        assert_eq!(
            (0..3)
                .map(|c| labels.iter().filter(|&&l| l == c).count())
                .collect::<Vec<_>>(),
            [50, 50, 50]
        );
    }
}
