//! A hand-written convolutional network for the benchmark's baseline:
//! 3×3 convolutions with padding 1 as im2col + one GEMM over the whole batch
//! (matrixmultiply, through ndarray), bias and ReLU fused into one pass over
//! the product, 2×2 max pools that remember their argmax (found without
//! branches), a dense softmax layer, and SGD folded into the kernel-gradient
//! GEMM (W ← W − η/B·δ·colsᵀ with β = 1). Every buffer is allocated once; a
//! step allocates nothing.

use std::hint::select_unpredictable;

use denpa::ndarray::linalg::general_mat_mul;
use denpa::ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use denpa::runtime::Rng;

/// One layer: conv 3×3 (padding 1) → ReLU → max pool 2×2.
struct Layer {
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    /// The kernel as a matrix `[k, c·9]`.
    kernel: Array2<f32>,
    bias: Array1<f32>,
    /// im2col of the input, `[c·9, B·h·w]`.
    cols: Array2<f32>,
    /// The activations `[k, B·h·w]` (ReLU applied in place).
    out: Array2<f32>,
    /// The pooled output `[B, k, h/2, w/2]`, row-major.
    pooled: Vec<f32>,
    /// The column of `out` of each pooled element's maximum.
    argmax: Vec<usize>,
    /// δ of `out`.
    d_out: Array2<f32>,
    /// Wᵀ·δ, `[c·9, B·h·w]`.
    d_cols: Array2<f32>,
    /// δ of the input `[B, c, h, w]`.
    d_input: Vec<f32>,
}

impl Layer {
    fn new(rng: &mut Rng, batch: usize, (c, h, w): (usize, usize, usize), k: usize) -> Layer {
        let n = batch * h * w;
        let std = (2.0 / (c * 9) as f64).sqrt();
        Layer {
            c,
            h,
            w,
            k,
            kernel: denpa::runtime::init::normal(rng, (k, c * 9), 0.0, std),
            bias: Array1::zeros(k),
            cols: Array2::zeros((c * 9, n)),
            out: Array2::zeros((k, n)),
            pooled: vec![0.0; batch * k * (h / 2) * (w / 2)],
            argmax: vec![0; batch * k * (h / 2) * (w / 2)],
            d_out: Array2::zeros((k, n)),
            d_cols: Array2::zeros((c * 9, n)),
            d_input: vec![0.0; batch * c * h * w],
        }
    }

    fn forward(&mut self, x: &[f32], batch: usize) {
        let (c, h, w, k) = (self.c, self.h, self.w, self.k);
        let hw = h * w;
        let cols = self.cols.as_slice_mut().expect("standard layout");
        let n = batch * hw;
        for ci in 0..c {
            for r in 0..3 {
                for s in 0..3 {
                    let row = &mut cols[((ci * 9) + r * 3 + s) * n..][..n];
                    for b in 0..batch {
                        let image = &x[(b * c + ci) * hw..][..hw];
                        for i in 0..h {
                            let dst = &mut row[b * hw + i * w..][..w];
                            let y = i + r;
                            if y < 1 || y > h {
                                dst.fill(0.0);
                                continue;
                            }
                            let src = &image[(y - 1) * w..][..w];
                            // dst[j] = src[j + s − 1] where it exists.
                            match s {
                                0 => {
                                    dst[0] = 0.0;
                                    dst[1..].copy_from_slice(&src[..w - 1]);
                                }
                                1 => dst.copy_from_slice(src),
                                _ => {
                                    dst[..w - 1].copy_from_slice(&src[1..]);
                                    dst[w - 1] = 0.0;
                                }
                            }
                        }
                    }
                }
            }
        }
        general_mat_mul(1.0, &self.kernel, &self.cols, 0.0, &mut self.out);
        for (mut row, &b) in self.out.rows_mut().into_iter().zip(&self.bias) {
            row.mapv_inplace(|v| (v + b).max(0.0));
        }
        let out = self.out.as_slice().expect("standard layout");
        let (ph, pw) = (h / 2, w / 2);
        for b in 0..batch {
            for kk in 0..k {
                for i in 0..ph {
                    for j in 0..pw {
                        let at = kk * n + b * hw + 2 * i * w + 2 * j;
                        // The first maximum, by selects (no branch to
                        // mispredict on which cell wins).
                        let (mut best, mut max) = (at, out[at]);
                        for candidate in [at + 1, at + w, at + w + 1] {
                            let larger = out[candidate] > max;
                            best = select_unpredictable(larger, candidate, best);
                            max = select_unpredictable(larger, out[candidate], max);
                        }
                        let p = ((b * k + kk) * ph + i) * pw + j;
                        self.pooled[p] = max;
                        self.argmax[p] = best;
                    }
                }
            }
        }
    }

    /// From δ of the pooled output: the update, and δ of the input where
    /// `input_grad`.
    fn backward(&mut self, d_pooled: &[f32], lr_over_batch: f32, input_grad: bool, batch: usize) {
        let d_out = self.d_out.as_slice_mut().expect("standard layout");
        d_out.fill(0.0);
        for (&at, &d) in self.argmax.iter().zip(d_pooled) {
            d_out[at] += d;
        }
        // ReLU: δ where the activation was positive.
        let out = self.out.as_slice().expect("standard layout");
        for (d, &o) in d_out.iter_mut().zip(out) {
            if o <= 0.0 {
                *d = 0.0;
            }
        }
        if input_grad {
            general_mat_mul(1.0, &self.kernel.t(), &self.d_out, 0.0, &mut self.d_cols);
            self.col2im(batch);
        }
        for (b, row) in self.bias.iter_mut().zip(self.d_out.rows()) {
            *b -= lr_over_batch * row.sum();
        }
        general_mat_mul(
            -lr_over_batch,
            &self.d_out,
            &self.cols.t(),
            1.0,
            &mut self.kernel,
        );
    }

    fn col2im(&mut self, batch: usize) {
        let (c, h, w) = (self.c, self.h, self.w);
        let hw = h * w;
        let n = batch * hw;
        let cols = self.d_cols.as_slice().expect("standard layout");
        self.d_input.fill(0.0);
        for ci in 0..c {
            for r in 0..3 {
                for s in 0..3 {
                    let row = &cols[((ci * 9) + r * 3 + s) * n..][..n];
                    for b in 0..batch {
                        let image = &mut self.d_input[(b * c + ci) * hw..][..hw];
                        for i in 0..h {
                            let y = i + r;
                            if y < 1 || y > h {
                                continue;
                            }
                            let src = &row[b * hw + i * w..][..w];
                            let dst = &mut image[(y - 1) * w..][..w];
                            match s {
                                0 => dst[..w - 1]
                                    .iter_mut()
                                    .zip(&src[1..])
                                    .for_each(|(d, v)| *d += v),
                                1 => dst.iter_mut().zip(src).for_each(|(d, v)| *d += v),
                                _ => dst[1..]
                                    .iter_mut()
                                    .zip(&src[..w - 1])
                                    .for_each(|(d, v)| *d += v),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// conv → ReLU → pool, twice, then dense softmax with cross-entropy.
pub struct HandCnn {
    layers: [Layer; 2],
    dense_w: Array2<f32>,
    dense_b: Array1<f32>,
    y: Array2<f32>,
    d_flat: Array2<f32>,
    batch: usize,
    lr: f32,
}

impl HandCnn {
    /// For images `[c, h, w]` and the two layers' kernel counts.
    pub fn new(batch: usize, image: (usize, usize, usize), k: [usize; 2], lr: f32) -> HandCnn {
        let mut rng = Rng::new(2);
        let first = Layer::new(&mut rng, batch, image, k[0]);
        let (h, w) = (image.1 / 2, image.2 / 2);
        let second = Layer::new(&mut rng, batch, (k[0], h, w), k[1]);
        let flat = k[1] * (h / 2) * (w / 2);
        HandCnn {
            layers: [first, second],
            dense_w: denpa::runtime::init::normal(&mut rng, (flat, 10), 0.0, 0.1),
            dense_b: Array1::zeros(10),
            y: Array2::zeros((batch, 10)),
            d_flat: Array2::zeros((batch, flat)),
            batch,
            lr,
        }
    }

    /// One SGD step on a batch of images `[B, c·h·w]` (row-major images)
    /// with one-hot targets.
    pub fn train_step(&mut self, x: ArrayView2<f32>, t: ArrayView2<f32>) {
        let batch = self.batch;
        let [first, second] = &mut self.layers;
        first.forward(x.as_slice().expect("standard layout"), batch);
        second.forward(&first.pooled, batch);
        let flat = ArrayView2::from_shape((batch, self.d_flat.ncols()), &second.pooled[..])
            .expect("the pooled output");
        general_mat_mul(1.0, &flat, &self.dense_w, 0.0, &mut self.y);
        softmax_minus_target(self.y.view_mut(), &self.dense_b, t);
        let scale = self.lr / batch as f32;
        general_mat_mul(1.0, &self.y, &self.dense_w.t(), 0.0, &mut self.d_flat);
        general_mat_mul(-scale, &flat.t(), &self.y, 1.0, &mut self.dense_w);
        for (b, column) in self.dense_b.iter_mut().zip(self.y.columns()) {
            *b -= scale * column.sum();
        }
        let d_flat = self.d_flat.as_slice().expect("standard layout");
        second.backward(d_flat, scale, true, batch);
        first.backward(&second.d_input, scale, false, batch);
    }
}

/// z + b → softmax(z + b) − t, row by row, in place: δ of the logits.
fn softmax_minus_target(mut z: ArrayViewMut2<f32>, b: &Array1<f32>, t: ArrayView2<f32>) {
    for (mut row, t) in z.rows_mut().into_iter().zip(t.rows()) {
        row += b;
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let s = row.sum();
        row.zip_mut_with(&t, |v, &t| *v = *v / s - t);
    }
}
