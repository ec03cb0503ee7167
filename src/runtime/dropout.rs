//! Dropout masks (LANGUAGE.md §13): inverted dropout, each element kept with
//! probability 1 − p and scaled by 1/(1 − p), else 0.
//!
//! A mask is a pure function of the network's dropout seed, its step count,
//! the `dropout` call (its site), the sample's row and the element: ChaCha8
//! keyed by the seed, the site and the word `dropout` (a key no initializer
//! uses), its stream the step, its position the row's first element. So
//! `gradients` draws the masks the next `train_step` uses, a resumed run
//! draws those of an uninterrupted one, and a row's mask does not depend on
//! the batch size.

use ndarray::{ArrayViewMutD, Axis, NdFloat};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Fills `out` with the mask of dropout call `site` at `step` of a network
/// whose dropout seed is `seed`: 1/(1 − p) with probability 1 − p, else 0.
/// `batched`: the first axis is the batch (each row its own mask); else one
/// mask for the whole value.
pub fn dropout_mask_into<T: NdFloat>(
    seed: u64,
    step: u64,
    site: usize,
    p: f64,
    batched: bool,
    mut out: ArrayViewMutD<'_, T>,
) {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(site as u64).to_le_bytes());
    key[16..23].copy_from_slice(b"dropout");
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(step);
    // Kept where the 32-bit draw is at least p·2³², so with probability 1 − p.
    let threshold = (p * 4_294_967_296.0).ceil() as u64;
    let keep = T::from(1.0 / (1.0 - p)).expect("a float converts");
    let mut fill = |row: usize, mut values: ArrayViewMutD<'_, T>| {
        rng.set_word_pos((row * values.len()) as u128);
        for v in values.iter_mut() {
            *v = if u64::from(rng.next_u32()) >= threshold {
                keep
            } else {
                T::zero()
            };
        }
    };
    if batched && out.ndim() > 0 {
        for (row, values) in out.axis_iter_mut(Axis(0)).enumerate() {
            fill(row, values);
        }
    } else {
        fill(0, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, IxDyn};

    fn mask(seed: u64, step: u64, site: usize, p: f64, rows: usize, len: usize) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros((rows, len));
        dropout_mask_into(seed, step, site, p, true, out.view_mut().into_dyn());
        out
    }

    #[test]
    fn a_mask_keeps_about_one_minus_p_scaled_by_its_inverse() {
        let m = mask(7, 0, 0, 0.25, 100, 100);
        let kept = m.iter().filter(|v| **v != 0.0).count();
        assert!(
            (7300..7700).contains(&kept),
            "{kept} of 10000 kept at p = 0.25"
        );
        assert!(m.iter().all(|v| *v == 0.0 || *v == 1.0 / 0.75));
        // The mean stays 1: that is what the scaling is for.
        assert!((m.mean().unwrap() - 1.0).abs() < 0.02);
    }

    #[test]
    fn masks_depend_on_seed_step_site_and_row_but_not_on_the_batch() {
        let base = mask(1, 3, 0, 0.5, 4, 64);
        assert_eq!(base, mask(1, 3, 0, 0.5, 4, 64), "a pure function");
        assert_ne!(base, mask(2, 3, 0, 0.5, 4, 64), "the seed");
        assert_ne!(base, mask(1, 4, 0, 0.5, 4, 64), "the step");
        assert_ne!(base, mask(1, 3, 1, 0.5, 4, 64), "the site");
        assert_ne!(base.row(0), base.row(1), "each row its own");
        // The first two rows of a batch of 4 are those of a batch of 2.
        let two = mask(1, 3, 0, 0.5, 2, 64);
        assert_eq!(base.slice_axis(Axis(0), ndarray::Slice::from(..2)), two);
    }

    #[test]
    fn p_zero_keeps_everything_and_an_unbatched_value_gets_one_mask() {
        assert!(mask(5, 0, 0, 0.0, 3, 10).iter().all(|v| *v == 1.0));
        let mut one = ArrayD::<f32>::zeros(IxDyn(&[3, 4]));
        dropout_mask_into(5, 0, 0, 0.5, false, one.view_mut());
        let mut again = ArrayD::<f32>::zeros(IxDyn(&[3, 4]));
        dropout_mask_into(5, 0, 0, 0.5, false, again.view_mut());
        assert_eq!(one, again);
    }
}
