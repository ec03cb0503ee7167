//! Text for character-level language models: the names file, a vocabulary
//! of characters with `.` as the separator, the split of the names, and the
//! training examples of each rung of the names ladder — fixed contexts of n
//! characters (a bigram model, the MLP of Bengio et al.) and windows of one
//! `.`-separated stream (a GPT).

use std::path::Path;

use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use crate::error::Error;

/// The separator: index 0 of every [`Vocabulary`], before a name's first
/// character (as context) and after its last (as the character to predict).
pub const SEPARATOR: char = '.';

/// The seed of [`split_names`] in the names examples: fixed, and independent
/// of the training seed, so that every training seed is scored on the same
/// test names.
pub const NAMES_SPLIT_SEED: u64 = 42;

/// Reads a file of names, one a line: each line trimmed, blank lines
/// skipped. A name holding the separator `.` or white space is an error
/// naming the file and the line; so is a file with no names.
pub fn read_names(path: impl AsRef<Path>) -> Result<Vec<String>, Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    names_from_text(&text, &name)
}

/// [`read_names`] of a text already read; `name` stands for the file in
/// error messages.
pub fn names_from_text(text: &str, name: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((column, c)) = line
            .chars()
            .enumerate()
            .find(|&(_, c)| c == SEPARATOR || c.is_whitespace())
        {
            let what = if c == SEPARATOR {
                format!("the separator `{SEPARATOR}`")
            } else {
                format!("white space ({c:?})")
            };
            return Err(Error::Io {
                path: format!("{name}:{}:{}", number + 1, column + 1),
                message: format!(
                    "the name {line:?} holds {what}; a names file has one name a line"
                ),
            });
        }
        names.push(line.to_string());
    }
    if names.is_empty() {
        return Err(Error::Io {
            path: name.to_string(),
            message: "the file holds no names".into(),
        });
    }
    Ok(names)
}

/// The characters of a text, each with its index: the separator `.` is 0,
/// the others follow in the order of their code points (`a` = 1 … `z` = 26
/// for lowercase names, 27 in all).
///
/// ```
/// use denpa::data::Vocabulary;
///
/// let vocab = Vocabulary::from_names(&["emma".to_string(), "ava".to_string()]);
/// assert_eq!(vocab.len(), 5); // . a e m v
/// assert_eq!(vocab.encode("mave").unwrap(), [3, 1, 4, 2]);
/// assert_eq!(vocab.decode(&[0, 2, 3, 3, 1, 0]).unwrap(), ".emma.");
/// assert!(vocab.encode("zoe").is_err()); // `z` is not among the names
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    chars: Vec<char>,
}

impl Vocabulary {
    /// The vocabulary of `names`: the separator and every character they
    /// use.
    pub fn from_names(names: &[String]) -> Vocabulary {
        Vocabulary::from_chars(names.iter().flat_map(|n| n.chars()))
    }

    /// The vocabulary of the characters of `chars` (line breaks left out),
    /// with the separator at 0.
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Vocabulary {
        let mut all: Vec<char> = chars
            .into_iter()
            .filter(|&c| c != SEPARATOR && c != '\n' && c != '\r')
            .collect();
        all.sort_unstable();
        all.dedup();
        all.insert(0, SEPARATOR);
        Vocabulary { chars: all }
    }

    /// The number of characters, the separator included: the `V` of a
    /// network's `in 0..V`.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Never true: the separator is always there.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters in the order of their indices.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The index of `c`, if it is in the vocabulary.
    pub fn index(&self, c: char) -> Option<usize> {
        if c == SEPARATOR {
            return Some(0);
        }
        self.chars[1..].binary_search(&c).ok().map(|i| i + 1)
    }

    /// The character of index `i`, if there is one.
    pub fn char(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// The indices of the characters of `text` (the separator is 0); a
    /// character outside the vocabulary is an error naming it, its position
    /// (1-based, in characters) and the vocabulary.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, Error> {
        text.chars()
            .enumerate()
            .map(|(position, c)| {
                self.index(c).ok_or_else(|| Error::Text {
                    what: format!("the text {text:?}"),
                    problem: format!(
                        "the character {c:?} at position {} is not in the vocabulary \"{}\"",
                        position + 1,
                        self.chars.iter().collect::<String>()
                    ),
                })
            })
            .collect()
    }

    /// The text of `indices`; an index outside `0..len()` is an error naming
    /// it and its position (1-based).
    pub fn decode(&self, indices: &[usize]) -> Result<String, Error> {
        indices
            .iter()
            .enumerate()
            .map(|(position, &i)| {
                self.char(i).ok_or_else(|| Error::Text {
                    what: "the indices".into(),
                    problem: format!(
                        "the index {i} at position {} is outside the vocabulary's 0..{}",
                        position + 1,
                        self.len()
                    ),
                })
            })
            .collect()
    }
}

/// The names of a split, in shuffled order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSplit {
    /// 80% of the names, to train on.
    pub train: Vec<String>,
    /// 10%, to watch the loss on while training.
    pub validation: Vec<String>,
    /// The last 10%, to score the trained model on once.
    pub test: Vec<String>,
}

/// Shuffles `names` (ChaCha8 from `seed`, as every shuffle of
/// [`crate::data`]) and cuts them at ⌊0.8·n⌋ and ⌊0.9·n⌋: 80% to train on,
/// 10% to validate, 10% to test (makemore's cut). The names examples use
/// [`NAMES_SPLIT_SEED`], whatever the training seed.
pub fn split_names(names: &[String], seed: u64) -> NameSplit {
    let mut shuffled = names.to_vec();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n = shuffled.len();
    let (first, second) = (n * 8 / 10, n * 9 / 10);
    let test = shuffled.split_off(second);
    let validation = shuffled.split_off(first);
    NameSplit {
        train: shuffled,
        validation,
        test,
    }
}

/// The training examples of a model that reads the `n` characters before
/// the one it predicts: for every character of every name and for the `.`
/// that ends it, the `n` characters before it, `.`-padded at the start.
/// `emma` with n = 3 gives `...→e`, `..e→m`, `.em→m`, `emm→a`, `mma→.`.
/// Returns the contexts `[examples, n]` and the characters to predict.
pub fn context_examples(
    names: &[String],
    vocab: &Vocabulary,
    n: usize,
) -> Result<(Array2<usize>, Array1<usize>), Error> {
    let mut contexts = Vec::new();
    let mut next = Vec::new();
    for name in names {
        let mut context = vec![0; n];
        for c in vocab.encode(name)?.into_iter().chain([0]) {
            contexts.extend_from_slice(&context);
            next.push(c);
            if n > 0 {
                context.rotate_left(1);
                context[n - 1] = c;
            }
        }
    }
    let rows = next.len();
    let contexts = Array2::from_shape_vec((rows, n), contexts).expect("n indices an example");
    Ok((contexts, Array1::from(next)))
}

/// The names joined into one stream of indices, each name after a `.`
/// and the stream ending in one: `.emma.olivia.` — what a sequence model
/// reads in [`Windows`].
pub fn name_stream(names: &[String], vocab: &Vocabulary) -> Result<Vec<usize>, Error> {
    let mut stream = vec![0];
    for name in names {
        stream.extend(vocab.encode(name)?);
        stream.push(0);
    }
    Ok(stream)
}

/// Windows of `len` indices of a stream and, position by position, the
/// index that follows each: the inputs and targets of a causal sequence
/// model (`ctx: [T] in 0..V`, `next: [T] in 0..V`).
///
/// ```
/// use denpa::data::Windows;
///
/// let stream = [0, 5, 13, 13, 1, 0, 1, 22, 1, 0];
/// let windows = Windows::new(&stream, 4, 7);
/// let (x, y) = windows.strided(4);
/// assert_eq!(x.row(0).to_vec(), [0, 5, 13, 13]);
/// assert_eq!(y.row(0).to_vec(), [5, 13, 13, 1]);
/// assert_eq!(x.nrows(), 2); // starts 0 and 4: the next would need 13 indices
/// let (xb, yb) = windows.batch(0, 3); // step 0's three random windows
/// assert_eq!((xb.dim(), yb.dim()), ((3, 4), (3, 4)));
/// assert_eq!(windows.batch(0, 3), (xb, yb)); // the same for the same step
/// ```
#[derive(Debug, Clone)]
pub struct Windows<'a> {
    stream: &'a [usize],
    len: usize,
    seed: u64,
}

impl<'a> Windows<'a> {
    /// Windows of `len` indices of `stream`, drawn from `seed` in
    /// [`Windows::batch`].
    ///
    /// # Panics
    ///
    /// If `len` is 0 or the stream has fewer than `len + 1` indices (no
    /// window with its targets fits).
    pub fn new(stream: &'a [usize], len: usize, seed: u64) -> Self {
        assert!(len > 0, "Windows: the window length must be at least 1");
        assert!(
            stream.len() > len,
            "Windows: a stream of {} indices has no window of {len} with its next indices",
            stream.len()
        );
        Windows { stream, len, seed }
    }

    /// The number of positions a window can start at.
    pub fn starts(&self) -> usize {
        self.stream.len() - self.len
    }

    /// `size` windows starting at uniformly random positions, drawn for
    /// training step `step` (ChaCha8 from the seed, stream `step`): the same
    /// seed and step give the same windows, so a run can be resumed.
    pub fn batch(&self, step: u64, size: usize) -> (Array2<usize>, Array2<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(step);
        let starts: Vec<usize> = (0..size)
            .map(|_| rng.random_range(0..self.starts()))
            .collect();
        self.at(&starts)
    }

    /// The windows starting at 0, `stride`, 2·`stride`, … as long as a whole
    /// window and its targets fit: every position scored once for a stride
    /// equal to the length (the tail of fewer than `len + 1` indices left
    /// out).
    ///
    /// # Panics
    ///
    /// If `stride` is 0.
    pub fn strided(&self, stride: usize) -> (Array2<usize>, Array2<usize>) {
        assert!(stride > 0, "Windows: the stride must be at least 1");
        let starts: Vec<usize> = (0..self.starts()).step_by(stride).collect();
        self.at(&starts)
    }

    /// The windows starting at `starts` and their targets.
    fn at(&self, starts: &[usize]) -> (Array2<usize>, Array2<usize>) {
        let shape = (starts.len(), self.len);
        let x = Array2::from_shape_fn(shape, |(i, j)| self.stream[starts[i] + j]);
        let y = Array2::from_shape_fn(shape, |(i, j)| self.stream[starts[i] + j + 1]);
        (x, y)
    }
}

/// `size` row numbers in `0..rows`, drawn uniformly with replacement for
/// training step `step` (ChaCha8 from `seed`, stream `step`): the random
/// minibatches of makemore, reproducible step by step.
///
/// # Panics
///
/// If `rows` is 0.
pub fn random_rows(rows: usize, size: usize, seed: u64, step: u64) -> Vec<usize> {
    assert!(rows > 0, "random_rows: there are no rows to draw from");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(step);
    (0..size).map(|_| rng.random_range(0..rows)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn contexts_are_padded_and_every_name_ends_in_the_separator() {
        let list = names(&["emma", "bo"]);
        let vocab = Vocabulary::from_names(&list);
        let (x, y) = context_examples(&list, &vocab, 3).unwrap();
        let text = |row: &[usize]| vocab.decode(row).unwrap();
        let pairs: Vec<(String, char)> = x
            .rows()
            .into_iter()
            .zip(&y)
            .map(|(r, &t)| (text(&r.to_vec()), vocab.char(t).unwrap()))
            .collect();
        let expected = [
            ("...", 'e'),
            ("..e", 'm'),
            (".em", 'm'),
            ("emm", 'a'),
            ("mma", '.'),
            ("...", 'b'),
            ("..b", 'o'),
            (".bo", '.'),
        ];
        let expected: Vec<(String, char)> =
            expected.iter().map(|&(s, c)| (s.to_string(), c)).collect();
        assert_eq!(pairs, expected);
        // A bigram's context is the one character before.
        let (x1, y1) = context_examples(&list, &vocab, 1).unwrap();
        assert_eq!(vocab.decode(&x1.column(0).to_vec()).unwrap(), ".emma.bo");
        assert_eq!(vocab.decode(&y1.to_vec()).unwrap(), "emma.bo.");
    }

    #[test]
    fn the_split_is_80_10_10_and_depends_only_on_its_seed() {
        let list: Vec<String> = (0..1000).map(|i| format!("n{i}")).collect();
        let split = split_names(&list, NAMES_SPLIT_SEED);
        assert_eq!(
            (split.train.len(), split.validation.len(), split.test.len()),
            (800, 100, 100)
        );
        assert_eq!(split, split_names(&list, NAMES_SPLIT_SEED));
        assert_ne!(split.test, split_names(&list, 1).test);
        let mut all: Vec<String> = [split.train, split.validation, split.test].concat();
        all.sort();
        let mut sorted = list.clone();
        sorted.sort();
        assert_eq!(all, sorted);
    }

    #[test]
    fn the_stream_separates_names_and_windows_score_each_position_once() {
        let list = names(&["ab", "c"]);
        let vocab = Vocabulary::from_names(&list);
        let stream = name_stream(&list, &vocab).unwrap();
        assert_eq!(vocab.decode(&stream).unwrap(), ".ab.c.");
        let windows = Windows::new(&stream, 2, 0);
        let (x, y) = windows.strided(2);
        assert_eq!(x, ndarray::array![[0, 1], [2, 0]]);
        assert_eq!(y, ndarray::array![[1, 2], [0, 3]]);
        // Random windows: targets are the inputs shifted by one.
        let (x, y) = windows.batch(5, 50);
        for (xr, yr) in x.rows().into_iter().zip(y.rows()) {
            let start = (0..windows.starts())
                .find(|&s| stream[s..s + 2] == xr.to_vec()[..])
                .unwrap();
            assert_eq!(yr.to_vec(), stream[start + 1..start + 3]);
        }
        assert_ne!(windows.batch(5, 50), windows.batch(6, 50));
    }

    #[test]
    fn bad_text_and_bad_files_are_errors_that_say_where() {
        let vocab = Vocabulary::from_names(&names(&["abc"]));
        let e = vocab.encode("abé").unwrap_err().to_string();
        assert_eq!(
            e,
            "the text \"abé\": the character 'é' at position 3 is not in the vocabulary \".abc\""
        );
        let e = vocab.decode(&[1, 9]).unwrap_err().to_string();
        assert_eq!(
            e,
            "the indices: the index 9 at position 2 is outside the vocabulary's 0..4"
        );
        let e = names_from_text("emma\n\nan na\n", "n.txt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "n.txt:3:3: the name \"an na\" holds white space (' '); a names file has one name a line"
        );
        let e = names_from_text("a.b\n", "n.txt").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("n.txt:1:2: the name \"a.b\" holds the separator `.`"));
        let e = names_from_text("\n \n", "n.txt").unwrap_err();
        assert_eq!(e.to_string(), "n.txt: the file holds no names");
        let e = read_names("/no/such/names.txt").unwrap_err().to_string();
        assert!(e.starts_with("/no/such/names.txt: "), "{e}");
    }
}
