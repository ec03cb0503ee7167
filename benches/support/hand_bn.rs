//! The digits MLP with a batch-normalized hidden layer, written by hand the
//! way the issue-16 baseline is (preallocated buffers, the same GEMM, the
//! backward pass by hand, the SGD update folded into the weight products):
//! `h = relu(batch_norm(x·W1 + b1))`, `y = softmax(h·W2 + b2)`,
//! cross-entropy, SGD, PyTorch's running statistics (momentum 0.1, the
//! unbiased variance remembered). Generic over the element type so that it
//! can first agree with denpa in f64.

use denpa::ndarray::linalg::general_mat_mul;
use denpa::ndarray::{Array1, Array2, ArrayView2, NdFloat, Zip};

/// The network and every buffer a step needs.
pub struct HandBn<T: NdFloat> {
    pub w1: Array2<T>,
    pub b1: Array1<T>,
    pub gain: Array1<T>,
    pub bias: Array1<T>,
    pub w2: Array2<T>,
    pub b2: Array1<T>,
    pub running_mean: Array1<T>,
    pub running_var: Array1<T>,
    lr: T,
    z: Array2<T>,
    xhat: Array2<T>,
    h: Array2<T>,
    y: Array2<T>,
    dh: Array2<T>,
    dz: Array2<T>,
    mu: Array1<T>,
    var: Array1<T>,
    inv: Array1<T>,
    sum_d: Array1<T>,
    sum_dx: Array1<T>,
    /// The gradient sums over the batch (Σ_b ∂ℓ_b/∂W), for the agreement check.
    pub g_w1: Array2<T>,
    pub g_b1: Array1<T>,
    pub g_gain: Array1<T>,
    pub g_bias: Array1<T>,
    pub g_w2: Array2<T>,
    pub g_b2: Array1<T>,
}

fn c<T: NdFloat>(v: f64) -> T {
    T::from(v).expect("a float converts")
}

impl<T: NdFloat> HandBn<T> {
    /// The network with the given parameters, for batches of `batch`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        w1: Array2<T>,
        b1: Array1<T>,
        gain: Array1<T>,
        bias: Array1<T>,
        w2: Array2<T>,
        b2: Array1<T>,
        batch: usize,
        lr: f64,
    ) -> Self {
        let (n, m) = (w1.ncols(), w2.ncols());
        HandBn {
            g_w1: Array2::zeros(w1.raw_dim()),
            g_w2: Array2::zeros(w2.raw_dim()),
            w1,
            b1,
            gain,
            bias,
            w2,
            b2,
            running_mean: Array1::zeros(n),
            running_var: Array1::ones(n),
            lr: c(lr),
            z: Array2::zeros((batch, n)),
            xhat: Array2::zeros((batch, n)),
            h: Array2::zeros((batch, n)),
            y: Array2::zeros((batch, m)),
            dh: Array2::zeros((batch, n)),
            dz: Array2::zeros((batch, n)),
            mu: Array1::zeros(n),
            var: Array1::zeros(n),
            inv: Array1::zeros(n),
            sum_d: Array1::zeros(n),
            sum_dx: Array1::zeros(n),
            g_b1: Array1::zeros(n),
            g_gain: Array1::zeros(n),
            g_bias: Array1::zeros(n),
            g_b2: Array1::zeros(m),
        }
    }

    /// Forward in training mode and the gradient sums; returns the loss.
    /// With `descent` (−η/B), the weight products go straight into the
    /// weights instead (W ← W + descent·aᵀδ, one GEMM with β = 1), as the
    /// issue-16 baseline folds SGD.
    pub fn gradients(&mut self, x: ArrayView2<T>, t: ArrayView2<T>, descent: Option<T>) -> T {
        let b = c::<T>(x.nrows() as f64);
        let eps = c::<T>(1e-5);
        // z = x·W1 + b1; the batch's mean and (biased) variance, two passes.
        general_mat_mul(T::one(), &x, &self.w1, T::zero(), &mut self.z);
        for mut row in self.z.rows_mut() {
            row += &self.b1;
        }
        self.mu.fill(T::zero());
        for row in self.z.rows() {
            self.mu += &row;
        }
        self.mu.mapv_inplace(|v| v / b);
        self.var.fill(T::zero());
        for row in self.z.rows() {
            Zip::from(&mut self.var)
                .and(&row)
                .and(&self.mu)
                .for_each(|v, &z, &m| *v += (z - m) * (z - m));
        }
        self.var.mapv_inplace(|v| v / b);
        Zip::from(&mut self.inv)
            .and(&self.var)
            .for_each(|i, &v| *i = T::one() / (v + eps).sqrt());
        // x̂ and h = relu(x̂·gain + bias), one pass per row.
        let n = self.mu.len();
        let (mu, inv, gain, bias) = (
            self.mu.as_slice().unwrap(),
            self.inv.as_slice().unwrap(),
            self.gain.as_slice().unwrap(),
            self.bias.as_slice().unwrap(),
        );
        let z = self.z.as_slice().unwrap();
        let xhat = self.xhat.as_slice_mut().unwrap();
        let h = self.h.as_slice_mut().unwrap();
        for k in 0..z.len() {
            let j = k % n;
            xhat[k] = (z[k] - mu[j]) * inv[j];
            h[k] = (xhat[k] * gain[j] + bias[j]).max(T::zero());
        }
        // y = softmax(h·W2 + b2); the loss; δ = y − t.
        general_mat_mul(T::one(), &self.h, &self.w2, T::zero(), &mut self.y);
        let mut loss = T::zero();
        for (mut row, t) in self.y.rows_mut().into_iter().zip(t.rows()) {
            row += &self.b2;
            let max = row.fold(T::neg_infinity(), |m, &v| m.max(v));
            let sum = row.fold(T::zero(), |s, &v| s + (v - max).exp());
            let log_sum = sum.ln() + max;
            for (y, &t) in row.iter_mut().zip(t) {
                loss -= t * (*y - log_sum);
                *y = (*y - log_sum).exp() - t;
            }
        }
        // δ_h = δ·W2ᵀ ⊙ [h > 0] (before W2 changes); Σ_b hᵀδ and Σ_b δ.
        general_mat_mul(T::one(), &self.y, &self.w2.t(), T::zero(), &mut self.dh);
        match descent {
            Some(step) => general_mat_mul(step, &self.h.t(), &self.y, T::one(), &mut self.w2),
            None => general_mat_mul(T::one(), &self.h.t(), &self.y, T::zero(), &mut self.g_w2),
        }
        self.g_b2.fill(T::zero());
        for row in self.y.rows() {
            self.g_b2 += &row;
        }
        Zip::from(&mut self.dh)
            .and(&self.h)
            .for_each(|d, &h| *d = if h > T::zero() { *d } else { T::zero() });
        // Gain and bias; δ̂ = δ_h ⊙ gain and its two sums over the batch.
        self.g_gain.fill(T::zero());
        self.g_bias.fill(T::zero());
        self.sum_d.fill(T::zero());
        self.sum_dx.fill(T::zero());
        {
            let (dh, xhat) = (self.dh.as_slice().unwrap(), self.xhat.as_slice().unwrap());
            let gain = self.gain.as_slice().unwrap();
            let (gg, gb) = (
                self.g_gain.as_slice_mut().unwrap(),
                self.g_bias.as_slice_mut().unwrap(),
            );
            let (sd, sdx) = (
                self.sum_d.as_slice_mut().unwrap(),
                self.sum_dx.as_slice_mut().unwrap(),
            );
            for k in 0..dh.len() {
                let j = k % n;
                let (d, xh) = (dh[k], xhat[k]);
                gg[j] += d * xh;
                gb[j] += d;
                sd[j] += d * gain[j];
                sdx[j] += d * gain[j] * xh;
            }
        }
        // δ_z = (δ̂ − Σδ̂/B − x̂ ⊙ Σ(δ̂ ⊙ x̂)/B) / σ_B, then the first layer.
        {
            let (dh, xhat) = (self.dh.as_slice().unwrap(), self.xhat.as_slice().unwrap());
            let (gain, inv) = (self.gain.as_slice().unwrap(), self.inv.as_slice().unwrap());
            let (sd, sdx) = (
                self.sum_d.as_slice().unwrap(),
                self.sum_dx.as_slice().unwrap(),
            );
            let dz = self.dz.as_slice_mut().unwrap();
            for k in 0..dz.len() {
                let j = k % n;
                dz[k] = (dh[k] * gain[j] - sd[j] / b - xhat[k] * sdx[j] / b) * inv[j];
            }
        }
        match descent {
            Some(step) => general_mat_mul(step, &x.t(), &self.dz, T::one(), &mut self.w1),
            None => general_mat_mul(T::one(), &x.t(), &self.dz, T::zero(), &mut self.g_w1),
        }
        self.g_b1.fill(T::zero());
        for row in self.dz.rows() {
            self.g_b1 += &row;
        }
        loss / b
    }

    /// One step: the gradients, SGD, then the running statistics.
    pub fn train_step(&mut self, x: ArrayView2<T>, t: ArrayView2<T>) -> T {
        let b = x.nrows() as f64;
        let step = -self.lr / c(b);
        let loss = self.gradients(x, t, Some(step));
        self.b1.scaled_add(step, &self.g_b1);
        self.gain.scaled_add(step, &self.g_gain);
        self.bias.scaled_add(step, &self.g_bias);
        self.b2.scaled_add(step, &self.g_b2);
        let (m, unbiased) = (c::<T>(0.1), c::<T>(b / (b - 1.0)));
        Zip::from(&mut self.running_mean)
            .and(&self.mu)
            .for_each(|r, &v| *r = (T::one() - m) * *r + m * v);
        Zip::from(&mut self.running_var)
            .and(&self.var)
            .for_each(|r, &v| *r = (T::one() - m) * *r + m * v * unbiased);
        loss
    }
}
