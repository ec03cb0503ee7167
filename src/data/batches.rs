//! Shuffling: seeded permutations, shuffled minibatches, and the train/test
//! split.

use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

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
/// use denpa::data::Minibatches;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
