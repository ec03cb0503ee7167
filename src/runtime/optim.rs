//! The optimizers' updates, with the conventions of PyTorch.
//!
//! With g = ∂E/∂W for the batch and t the step number (from 1); each update
//! takes the gradient as a sum over the batch and the `scale` 1/N that makes
//! it the mean, so the mean is never stored:
//! - SGD: W ← W − η g
//! - momentum: v ← β v + g (v starts at 0); W ← W − η v
//! - Adam: m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²;
//!   W ← W − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)

use ndarray::{Array, ArrayBase, Data, Dimension, NdFloat, Zip};

/// Subnormal numbers become 0. Weight decay drives weights that nothing else
/// moves (a pixel that is always blank, a dead unit) towards 0 geometrically;
/// once subnormal, every operation on them is many times slower, so a long
/// run would slow down for numbers that are 0 in all but name.
#[inline]
fn flush<T: NdFloat>(x: T) -> T {
    if x.abs() < T::min_positive_value() {
        T::zero()
    } else {
        x
    }
}

/// Stochastic gradient descent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd<T> {
    /// The learning rate η.
    pub lr: T,
}

impl<T: NdFloat> Sgd<T> {
    /// W ← W − η g, with g = scale · grad
    pub fn update<S: Data<Elem = T>, D: Dimension>(
        &self,
        param: &mut Array<T, D>,
        grad: &ArrayBase<S, D>,
        scale: T,
    ) {
        let step = -self.lr * scale;
        Zip::from(param)
            .and(grad)
            .for_each(|w, &g| *w = flush(*w + step * g));
    }
}

/// Gradient descent with momentum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Momentum<T> {
    /// The learning rate η.
    pub lr: T,
    /// The momentum β.
    pub beta: T,
}

impl<T: NdFloat> Momentum<T> {
    /// v ← β v + g; W ← W − η v, with g = scale · grad
    pub fn update<S: Data<Elem = T>, D: Dimension>(
        &self,
        param: &mut Array<T, D>,
        grad: &ArrayBase<S, D>,
        scale: T,
        velocity: &mut Array<T, D>,
    ) {
        Zip::from(param)
            .and(velocity)
            .and(grad)
            .for_each(|w, v, &g| {
                *v = self.beta * *v + scale * g;
                *w = flush(*w - self.lr * *v);
                *v = flush(*v);
            });
    }
}

/// Adam, with bias correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam<T> {
    /// The learning rate η.
    pub lr: T,
    /// The decay of the first moment, β₁.
    pub beta1: T,
    /// The decay of the second moment, β₂.
    pub beta2: T,
    /// Added to the denominator, ε.
    pub eps: T,
}

impl<T: NdFloat> Adam<T> {
    /// One update at step `step` (counted from 1).
    pub fn update<S: Data<Elem = T>, D: Dimension>(
        &self,
        step: u64,
        param: &mut Array<T, D>,
        grad: &ArrayBase<S, D>,
        scale: T,
        (m, v): (&mut Array<T, D>, &mut Array<T, D>),
    ) {
        let t = i32::try_from(step).unwrap_or(i32::MAX);
        let correct1 = T::one() - self.beta1.powi(t);
        let correct2 = T::one() - self.beta2.powi(t);
        Zip::from(param)
            .and(m)
            .and(v)
            .and(grad)
            .for_each(|w, m, v, &g| {
                let g = scale * g;
                *m = self.beta1 * *m + (T::one() - self.beta1) * g;
                *v = self.beta2 * *v + (T::one() - self.beta2) * g * g;
                let m_hat = *m / correct1;
                let v_hat = *v / correct2;
                *w = flush(*w - self.lr * m_hat / (v_hat.sqrt() + self.eps));
                *m = flush(*m);
                *v = flush(*v);
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn momentum_follows_the_formula_by_hand() {
        // W = 1, g = 0.5 twice, β = 0.9, η = 0.1:
        // v1 = 0.5, W1 = 1 − 0.05 = 0.95; v2 = 0.45 + 0.5 = 0.95, W2 = 0.95 − 0.095 = 0.855
        let opt = Momentum { lr: 0.1, beta: 0.9 };
        let mut w = array![1.0f64];
        let mut v = array![0.0f64];
        let g = array![0.5f64];
        opt.update(&mut w, &g, 1.0, &mut v);
        assert!((w[0] - 0.95).abs() < 1e-15 && (v[0] - 0.5).abs() < 1e-15);
        opt.update(&mut w, &g, 1.0, &mut v);
        assert!((w[0] - 0.855).abs() < 1e-15 && (v[0] - 0.95).abs() < 1e-15);
    }

    #[test]
    fn adam_follows_the_formula_by_hand() {
        // Step 1: m = 0.1 g, v = 0.001 g²; m̂ = g, v̂ = g², so W moves by η g/(|g| + ε) ≈ η.
        let opt = Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut w = array![1.0f64, -2.0];
        let (mut m, mut v) = (array![0.0f64, 0.0], array![0.0f64, 0.0]);
        let g = array![0.5f64, -4.0];
        opt.update(1, &mut w, &g, 1.0, (&mut m, &mut v));
        assert!(
            (w[0] - (1.0 - 0.01 * 0.5 / (0.5 + 1e-8))).abs() < 1e-15,
            "{w}"
        );
        assert!(
            (w[1] - (-2.0 + 0.01 * 4.0 / (4.0 + 1e-8))).abs() < 1e-15,
            "{w}"
        );
        // Step 2 with g' = 0.25 for the first element, worked from the formulas:
        // m = 0.9·0.05 + 0.1·0.25 = 0.07; v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
        // m̂ = 0.07 / 0.19; v̂ = 0.00031225 / 0.001999
        let g2 = array![0.25f64, -4.0];
        let before = w[0];
        opt.update(2, &mut w, &g2, 1.0, (&mut m, &mut v));
        let m_hat = 0.07 / (1.0 - 0.81);
        let v_hat: f64 = 0.000_312_25 / (1.0 - 0.998_001);
        assert!((m[0] - 0.07).abs() < 1e-15 && (v[0] - 0.000_312_25).abs() < 1e-15);
        assert!((w[0] - (before - 0.01 * m_hat / (v_hat.sqrt() + 1e-8))).abs() < 1e-14);
    }

    #[test]
    fn weights_decayed_into_subnormals_become_zero() {
        let opt = Adam {
            lr: 0.001f32,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut w = array![1e-38f32, 1.0];
        let (mut m, mut v) = (array![0.0f32, 0.0], array![0.0f32, 0.0]);
        // A tiny gradient on a tiny weight: the result is below f32's
        // smallest normal number.
        opt.update(1, &mut w, &array![1e-45f32, 0.0], 1.0, (&mut m, &mut v));
        assert_eq!(w[0], 0.0);
        assert!(m.iter().chain(v.iter()).all(|x| *x == 0.0 || x.is_normal()));
        let mut s = array![f32::MIN_POSITIVE / 2.0];
        Sgd { lr: 0.1f32 }.update(&mut s, &array![0.0], 1.0);
        assert_eq!(s[0], 0.0);
    }

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut w = array![[1.0f32, 2.0]];
        Sgd { lr: 0.5f32 }.update(&mut w, &array![[4.0, -4.0]], 0.5);
        assert_eq!(w, array![[0.0, 3.0]]);
    }
}
