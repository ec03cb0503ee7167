//! Data for training, as every training library has it: loading the bundled
//! CSV files, holding out a test set, scaling features, shuffled minibatches,
//! one-hot targets, and scoring a classifier; and for language models, a
//! names file, a character vocabulary, contexts and windows of text, and the
//! loop that generates text from a model's probabilities.
//!
//! This is for the training program; generated code does not call it (it
//! calls [`crate::runtime`]).
//!
//! Arrays hold one row per sample, as the generated networks take them.
//! Everything random is drawn from ChaCha8 seeded by a `u64`, through `rand`'s
//! portable shuffle, so a seed gives the same split and the same batches on
//! every run and platform.
//!
//! ```
//! use denpa::ndarray::array;
//! use denpa::data::{accuracy, one_hot, train_test_split, Minibatches, Standardizer};
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

mod batches;
mod csv;
mod generate;
mod metrics;
mod scale;
mod text;

pub use batches::{permutation, train_test_split, Epoch, Minibatches, Split};
pub use csv::{
    load_digits, load_iris, read_labeled_csv, read_labeled_csv_from, CsvFormat, DIGITS_CLASSES,
    DIGITS_FEATURES, IRIS_CLASSES, IRIS_FEATURES,
};
pub use generate::{sample_index, Context, Generator};
pub use metrics::{accuracy, argmax, confusion_matrix, format_confusion_matrix, one_hot};
pub use scale::{MinMaxScaler, Standardizer};
pub use text::{
    context_examples, name_stream, names_from_text, random_rows, read_names, split_names,
    NameSplit, Vocabulary, Windows, NAMES_SPLIT_SEED, SEPARATOR,
};
