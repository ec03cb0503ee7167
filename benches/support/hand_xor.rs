//! The textbook's XOR network (2-2-1, sigmoid, ½Σ(y − t)², SGD) as a careful
//! hand program writes it: the nine parameters in locals, one scalar loop
//! over the batch with the forward pass and the backward pass of each sample
//! together, the update written back once. The baseline of W1 (issue 15).

/// 2-2-1 with sigmoid units and the sum of squared errors.
pub struct HandXor {
    /// W1[p][j]: input p to hidden unit j.
    w1: [[f32; 2]; 2],
    b1: [f32; 2],
    /// W2[j]: hidden unit j to the output.
    w2: [f32; 2],
    b2: f32,
    lr: f32,
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl HandXor {
    /// From parameters in denpa's order and layout: W1 `[2, 2]` row-major,
    /// b1 `[2]`, W2 `[2, 1]`, b2 `[1]`.
    pub fn new(params: [&[f32]; 4], lr: f32) -> HandXor {
        let [w1, b1, w2, b2] = params;
        HandXor {
            w1: [[w1[0], w1[1]], [w1[2], w1[3]]],
            b1: [b1[0], b1[1]],
            w2: [w2[0], w2[1]],
            b2: b2[0],
            lr,
        }
    }

    /// The parameters in denpa's order and layout.
    pub fn parameters(&self) -> [Vec<f32>; 4] {
        let w1 = self.w1;
        [
            vec![w1[0][0], w1[0][1], w1[1][0], w1[1][1]],
            self.b1.to_vec(),
            self.w2.to_vec(),
            vec![self.b2],
        ]
    }

    /// One SGD step on rows of two inputs `x` and one target `t`: the mean
    /// loss before the step.
    pub fn train_step(&mut self, x: &[f32], t: &[f32]) -> f32 {
        let (w1, b1, w2, b2) = (self.w1, self.b1, self.w2, self.b2);
        let (mut g_w1, mut g_b1, mut g_w2, mut g_b2) =
            ([[0.0f32; 2]; 2], [0.0f32; 2], [0.0f32; 2], 0.0);
        let mut loss = 0.0;
        for (x, &t) in x.chunks_exact(2).zip(t) {
            let h = [
                sigmoid(x[0] * w1[0][0] + x[1] * w1[1][0] + b1[0]),
                sigmoid(x[0] * w1[0][1] + x[1] * w1[1][1] + b1[1]),
            ];
            let y = sigmoid(h[0] * w2[0] + h[1] * w2[1] + b2);
            let e = y - t;
            loss += 0.5 * e * e;
            let dz2 = e * y * (1.0 - y);
            g_b2 += dz2;
            for j in 0..2 {
                g_w2[j] += h[j] * dz2;
                let dz1 = dz2 * w2[j] * h[j] * (1.0 - h[j]);
                g_b1[j] += dz1;
                g_w1[0][j] += x[0] * dz1;
                g_w1[1][j] += x[1] * dz1;
            }
        }
        let samples = t.len() as f32;
        let step = self.lr / samples;
        for j in 0..2 {
            self.w1[0][j] = w1[0][j] - step * g_w1[0][j];
            self.w1[1][j] = w1[1][j] - step * g_w1[1][j];
            self.b1[j] = b1[j] - step * g_b1[j];
            self.w2[j] = w2[j] - step * g_w2[j];
        }
        self.b2 = b2 - step * g_b2;
        loss / samples
    }
}
