//! Generating text one character at a time: sampling an index from a row of
//! probabilities (with a temperature and top-k), and the loop that feeds a
//! model its own output until it writes the separator.

use ndarray::{ArrayD, IxDyn};
use num_traits::Float;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::text::Vocabulary;
use crate::error::Error;
use crate::runtime::{Arg, Network};

/// How a model reads its context, and where its prediction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The last `n` characters, `.`-padded at the start (a bigram model for
    /// n = 1, the MLP of Bengio et al.): one row of probabilities out.
    Last(usize),
    /// A causal sequence model over windows of `T` positions: the text so
    /// far, `.`-started and left-aligned in the window (its last `T`
    /// characters once it is longer); one row of probabilities per position,
    /// the prediction read at the last real one.
    Causal(usize),
}

impl Context {
    /// The context of a network with one input of indices: `Causal(T)` when
    /// the input is `[T]` and the first output has a row per position
    /// (`[T, V]`), else `Last(n)` for an input `[n]` (`Last(1)` for `[]`).
    /// `None` for a network whose first input is not one of indices of rank
    /// 0 or 1.
    pub fn of<N: Network>() -> Option<Context> {
        let (&(_, input), &range) = N::INPUTS.first().zip(N::INPUT_RANGES.first())?;
        range?;
        let output = N::OUTPUTS.first()?.1;
        match *input {
            [] => Some(Context::Last(1)),
            [t] if output.len() == 2 && output[0] == t => Some(Context::Causal(t)),
            [n] => Some(Context::Last(n)),
            _ => None,
        }
    }

    /// The number of indices the model reads.
    pub fn len(&self) -> usize {
        match *self {
            Context::Last(n) | Context::Causal(n) => n,
        }
    }

    /// True for a context of no characters (a model of unigrams).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Draws an index from `probs` (a row of probabilities; any non-negative
/// weights): with `temperature` τ each weight is raised to 1/τ (softmax of
/// the logits divided by τ: below 1 sharper, above 1 flatter), and with
/// `top_k` only the k largest are kept (ties to the smaller index). One
/// uniform number from `rng` picks the index.
///
/// A row that is empty, holds a negative or non-finite weight, or sums to
/// zero is an error saying so (a diverged network's output), never a panic.
pub fn sample_index<T: Float>(
    probs: &[T],
    temperature: f64,
    top_k: Option<usize>,
    rng: &mut ChaCha8Rng,
) -> Result<usize, Error> {
    let bad = |problem: String| Error::Text {
        what: "the probabilities of the next character".into(),
        problem,
    };
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(bad(format!(
            "the temperature {temperature} is not a positive number"
        )));
    }
    let mut weights = Vec::with_capacity(probs.len());
    for (i, p) in probs.iter().enumerate() {
        let p = p.to_f64().unwrap_or(f64::NAN);
        if !(p >= 0.0 && p.is_finite()) {
            return Err(bad(format!("entry {i} is {p}")));
        }
        weights.push(p);
    }
    let largest = weights.iter().copied().fold(0.0, f64::max);
    if largest == 0.0 {
        return Err(bad(format!(
            "the {} entries are all 0 (or there are none)",
            weights.len()
        )));
    }
    if temperature != 1.0 {
        // (p/p_max)^(1/τ): exp of the log-ratio, so that no weight overflows.
        for w in &mut weights {
            *w = if *w == 0.0 {
                0.0
            } else {
                ((*w / largest).ln() / temperature).exp()
            };
        }
    }
    if let Some(k) = top_k.filter(|&k| k < weights.len()) {
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        for &i in &order[k.max(1)..] {
            weights[i] = 0.0;
        }
    }
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            if u < w {
                return Ok(i);
            }
            u -= w;
            last = i;
        }
    }
    // Round-off left u at the very end: the last index with weight.
    Ok(last)
}

/// Writes names (any text that ends at the separator) one character at a
/// time from a model's probabilities of the next character.
///
/// The model is a function from a context of indices (as long as the
/// [`Context`] says) to its output for that one sample, flattened: a row of
/// V probabilities for [`Context::Last`], T rows for [`Context::Causal`] (the
/// generator reads the row of the last real position). [`Generator::from_network`]
/// makes that function of a network's `forward`; any other source (ONNX
/// Runtime, a table of counts) works alike, and with the same seed gives the
/// same names from the same probabilities.
///
/// ```
/// use denpa::data::{Context, Generator, Vocabulary};
///
/// let vocab = Vocabulary::from_chars("ab".chars());
/// // A model that, whatever the context, writes `a` or `b` or stops.
/// let uniform = |_: &[usize]| Ok::<_, denpa::Error>(vec![1.0f32 / 3.0; 3]);
/// let mut generator = Generator::new(&vocab, Context::Last(2), 7);
/// let names = generator.names(5, uniform).unwrap();
/// assert_eq!(names.len(), 5);
/// assert!(names.iter().all(|n| n.chars().all(|c| c == 'a' || c == 'b')));
/// ```
#[derive(Debug, Clone)]
pub struct Generator<'v> {
    vocab: &'v Vocabulary,
    context: Context,
    rng: ChaCha8Rng,
    /// τ of [`sample_index`]; 1 samples the model's own distribution.
    pub temperature: f64,
    /// Keep only the k likeliest characters at each step; `None` keeps all.
    pub top_k: Option<usize>,
    /// The longest text written: a model that never writes the separator
    /// stops here.
    pub max_len: usize,
}

impl<'v> Generator<'v> {
    /// A generator for a model of `context` over `vocab`, its draws seeded
    /// by `seed`: temperature 1, no top-k, at most 64 characters a name.
    pub fn new(vocab: &'v Vocabulary, context: Context, seed: u64) -> Self {
        Generator {
            vocab,
            context,
            rng: ChaCha8Rng::seed_from_u64(seed),
            temperature: 1.0,
            top_k: None,
            max_len: 64,
        }
    }

    /// One name: characters drawn from `model`'s probabilities until it
    /// draws the separator (not written) or `max_len` characters.
    pub fn name<T: Float>(
        &mut self,
        mut model: impl FnMut(&[usize]) -> Result<Vec<T>, Error>,
    ) -> Result<String, Error> {
        let v = self.vocab.len();
        let mut text: Vec<usize> = Vec::new();
        let mut window = vec![0; self.context.len()];
        while text.len() < self.max_len {
            let row = match self.context {
                Context::Last(n) => {
                    window.fill(0);
                    let known = text.len().min(n);
                    window[n - known..].copy_from_slice(&text[text.len() - known..]);
                    0
                }
                Context::Causal(t) => {
                    // `.` then the text, its last t indices.
                    let all = std::iter::once(0).chain(text.iter().copied());
                    let skip = (text.len() + 1).saturating_sub(t);
                    window.fill(0);
                    let mut used = 0;
                    for (slot, c) in window.iter_mut().zip(all.skip(skip)) {
                        *slot = c;
                        used += 1;
                    }
                    used - 1
                }
            };
            let out = model(&window)?;
            let probs = out.get(row * v..(row + 1) * v).ok_or_else(|| Error::Text {
                what: "the model's output".into(),
                problem: format!(
                    "{} numbers, where row {row} of {v} probabilities was expected",
                    out.len()
                ),
            })?;
            let next = sample_index(probs, self.temperature, self.top_k, &mut self.rng)?;
            if next == 0 {
                break;
            }
            text.push(next);
        }
        self.vocab.decode(&text)
    }

    /// `count` names, one after another from the same stream of draws.
    pub fn names<T: Float>(
        &mut self,
        count: usize,
        mut model: impl FnMut(&[usize]) -> Result<Vec<T>, Error>,
    ) -> Result<Vec<String>, Error> {
        (0..count).map(|_| self.name(&mut model)).collect()
    }

    /// The model function of a network's `forward` at batch 1: the context
    /// as its first input (indices), its first output flattened.
    pub fn from_network<N: Network>(
        net: &N,
    ) -> impl FnMut(&[usize]) -> Result<Vec<N::Scalar>, Error> + '_ {
        move |context: &[usize]| {
            let shape: Vec<usize> = std::iter::once(1)
                .chain(N::INPUTS[0].1.iter().copied())
                .collect();
            let input = ArrayD::from_shape_vec(IxDyn(&shape), context.to_vec()).map_err(|_| {
                Error::Text {
                    what: format!("the context of `{}`", N::NAME),
                    problem: format!(
                        "{} indices, where its input `{}` takes {:?}",
                        context.len(),
                        N::INPUTS[0].0,
                        N::INPUTS[0].1
                    ),
                }
            })?;
            let outputs = net.forward_dyn(&[Arg::Indices(input.view())])?;
            Ok(outputs
                .into_iter()
                .next()
                .map(|(_, out)| out.iter().copied().collect())
                .unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_follows_the_probabilities_temperature_and_top_k() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let probs = [0.1f64, 0.6, 0.3];
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[sample_index(&probs, 1.0, None, &mut rng).unwrap()] += 1;
        }
        for (c, p) in counts.iter().zip(probs) {
            assert!((*c as f64 / 30_000.0 - p).abs() < 0.01, "{counts:?}");
        }
        // Top-1 is the argmax; a low temperature nearly so.
        for _ in 0..100 {
            assert_eq!(sample_index(&probs, 1.0, Some(1), &mut rng).unwrap(), 1);
        }
        let mut cold = [0usize; 3];
        for _ in 0..1000 {
            cold[sample_index(&probs, 0.1, None, &mut rng).unwrap()] += 1;
        }
        assert!(cold[1] > 990, "{cold:?}");
        // Top-2 never draws the least likely.
        for _ in 0..1000 {
            assert_ne!(sample_index(&probs, 2.0, Some(2), &mut rng).unwrap(), 0);
        }
    }

    #[test]
    fn bad_rows_are_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let e = sample_index(&[0.5f32, f32::NAN], 1.0, None, &mut rng).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the probabilities of the next character: entry 1 is NaN"
        );
        assert!(sample_index(&[0.0f32, 0.0], 1.0, None, &mut rng).is_err());
        assert!(sample_index::<f32>(&[], 1.0, None, &mut rng).is_err());
        assert!(sample_index(&[0.5f32, -0.1], 1.0, None, &mut rng).is_err());
        assert!(sample_index(&[1.0f32], 0.0, None, &mut rng).is_err());
    }

    #[test]
    fn the_causal_window_is_left_aligned_and_read_at_the_last_real_position() {
        let vocab = Vocabulary::from_chars("abc".chars());
        let mut seen = Vec::new();
        // Writes a, b, c, a, b, c, … then stops after six characters; each
        // position's row puts all weight on the character after its own.
        let model = |w: &[usize]| {
            seen.push(w.to_vec());
            let mut out = vec![0.0f32; 4 * 4];
            for (row, &c) in w.iter().enumerate() {
                let next = if seen.len() > 6 { 0 } else { c % 3 + 1 };
                out[row * 4 + next] = 1.0;
            }
            Ok(out)
        };
        let mut generator = Generator::new(&vocab, Context::Causal(4), 0);
        assert_eq!(generator.name(model).unwrap(), "abcabc");
        assert_eq!(
            seen,
            [
                vec![0, 0, 0, 0],
                vec![0, 1, 0, 0],
                vec![0, 1, 2, 0],
                vec![0, 1, 2, 3],
                vec![1, 2, 3, 1],
                vec![2, 3, 1, 2],
                vec![3, 1, 2, 3],
            ]
        );
        // A fixed context is `.`-padded on the left.
        let mut seen = Vec::new();
        let model = |w: &[usize]| {
            seen.push(w.to_vec());
            let next = if seen.len() > 3 { 0 } else { 2 };
            let mut out = vec![0.0f32; 4];
            out[next] = 1.0;
            Ok(out)
        };
        let mut generator = Generator::new(&vocab, Context::Last(2), 0);
        assert_eq!(generator.name(model).unwrap(), "bbb");
        assert_eq!(seen, [vec![0, 0], vec![0, 2], vec![2, 2], vec![2, 2]]);
    }
}
