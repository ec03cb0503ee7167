//! What each built-in says of itself: its signature and one line of doc, as
//! the language server shows them on hover and completion. The parameters
//! of each signature are the checker's own (a test compares them).

/// The signature and one-line doc of a built-in function, initializer or
/// optimizer.
pub fn builtin_doc(name: &str) -> Option<(&'static str, &'static str)> {
    DOCS.iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, s, d)| (s, d))
}

/// Every documented name, its signature and its doc.
pub const DOCS: &[(&str, &str, &str)] = &[
    ("sigmoid", "sigmoid(x)", "σ(x) = 1 / (1 + e⁻ˣ), elementwise; σ′ = σ(1 − σ)."),
    ("tanh", "tanh(x)", "The hyperbolic tangent, elementwise; tanh′ = 1 − tanh²."),
    ("relu", "relu(x)", "max(x, 0), elementwise; its derivative is 1 where x > 0, else 0."),
    ("leaky_relu", "leaky_relu(x, slope = 0.01)", "x where x > 0, else slope · x."),
    ("softplus", "softplus(x)", "ln(1 + eˣ), elementwise, computed stably; its derivative is σ(x)."),
    ("exp", "exp(x)", "eˣ, elementwise."),
    ("log", "log(x)", "The natural logarithm, elementwise."),
    ("sqrt", "sqrt(x)", "√x, elementwise."),
    ("square", "square(x)", "x², elementwise."),
    ("abs", "abs(x)", "|x|, elementwise."),
    ("step", "step(x)", "1 where x > 0, else 0: the perceptron's activation (its gradient is 0)."),
    ("gelu", "gelu(x)", "x · Φ(x) with the exact normal CDF, as PyTorch's nn.GELU()."),
    ("softmax", "softmax(x)", "e^xᵢ / Σⱼ e^xⱼ over the last axis (each row of a matrix on its own)."),
    ("log_softmax", "log_softmax(x)", "ln softmax(x), computed stably, over the last axis."),
    ("sum", "sum(x, axis = a)", "The sum of every element, or along one axis of the sample (kept with length 1)."),
    ("mean", "mean(x, axis = a)", "The mean of every element, or along one axis of the sample (kept with length 1)."),
    ("transpose", "transpose(x)", "A matrix's transpose: [m, n] → [n, m]."),
    ("causal", "causal(s)", "s with every entry above the diagonal set to −∞: softmax(causal(s)) sees no later position."),
    ("concat", "concat(a, b, ...)", "Values joined along their last axis."),
    ("flatten", "flatten(x)", "An image [c, h, w] or a matrix [T, d] as one vector, row-major."),
    ("dense", "dense(x, m)", "A fully connected layer in `h = …`: declares h_w: [n, m] (glorot) and h_b: [m] (zeros), and means x @ h_w + h_b."),
    ("conv", "conv(x, k, size, stride = 1, padding = 0)", "A convolution layer in `h = …`: declares h_w: [k, c, size, size] (he) and h_b: [k] (zeros)."),
    ("conv2d", "conv2d(x, W, stride = 1, padding = 0)", "Cross-correlation of an image [c, h, w] with kernels W: [k, c, r, s], as PyTorch's conv2d."),
    ("max_pool", "max_pool(x, size, stride = size)", "The maximum of each window; the gradient goes to the first maximum."),
    ("avg_pool", "avg_pool(x, size, stride = size)", "The mean of each window."),
    ("dropout", "dropout(x, p)", "While training, each element kept with probability 1 − p and scaled by 1/(1 − p); x unchanged in inference."),
    ("batch_norm", "batch_norm(x, momentum = 0.1, eps = 1e-5)", "Each feature normalized with the batch's statistics while training, the running ones in inference; declares h_gain, h_bias, h_mean, h_var."),
    ("sse", "sse(y, t)", "The sum of squared errors ½ Σ (y − t)²; its gradient is y − t."),
    ("mse", "mse(y, t)", "The mean of squared errors over the elements."),
    ("cross_entropy", "cross_entropy(y, t)", "−Σ t ln y, for a one-hot, probability or index target; with softmax fused, its gradient is y − t."),
    ("binary_cross_entropy", "binary_cross_entropy(y, t)", "−Σ [t ln y + (1 − t) ln(1 − y)], for probabilities y."),
    ("nll", "nll(lp, t)", "The negative log-likelihood of log-probabilities: −lp[t], fused with log_softmax."),
    ("zeros", "zeros", "Initializer: every element 0."),
    ("ones", "ones", "Initializer: every element 1."),
    ("constant", "constant(c)", "Initializer: every element c."),
    ("normal", "normal(mean = 0, std = 1)", "Initializer: independent normal draws."),
    ("uniform", "uniform(lo = 0, hi = 1)", "Initializer: independent uniform draws in [lo, hi)."),
    ("glorot", "glorot", "Initializer: Glorot (Xavier) uniform, the default of a matrix."),
    ("he", "he", "Initializer: He (Kaiming) normal, for ReLU layers."),
    ("sgd", "sgd(lr)", "Optimizer: W ← W − η ∂E/∂W."),
    ("momentum", "momentum(lr, beta = 0.9)", "Optimizer: SGD with momentum, v ← βv + ∂E/∂W, W ← W − ηv."),
    ("adam", "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)", "Optimizer: Adam, with bias correction, as PyTorch's."),
];

/// The parameter names of a documented signature (`x`, `axis`; `...` not
/// counted).
pub fn parameters(signature: &str) -> Vec<&str> {
    let Some((_, args)) = signature.split_once('(') else {
        return Vec::new();
    };
    args.trim_end_matches(')')
        .split(',')
        .map(|a| a.split('=').next().unwrap_or("").trim())
        .filter(|a| !a.is_empty() && *a != "...")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callable_name_is_documented_with_the_checker_s_parameters() {
        for name in super::super::callable() {
            let (signature, doc) = builtin_doc(name).unwrap_or_else(|| panic!("{name}"));
            assert!(!doc.is_empty());
            if let Some(sig) = super::super::signature(name).filter(|s| !s.params.is_empty()) {
                let checker: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
                assert_eq!(parameters(signature), checker, "{name}");
            }
        }
        for (name, params) in super::super::INITIALIZERS
            .iter()
            .chain(super::super::OPTIMIZERS)
        {
            let (signature, _) = builtin_doc(name).unwrap_or_else(|| panic!("{name}"));
            let checker: Vec<&str> = params.iter().map(|p| p.0).collect();
            assert_eq!(parameters(signature), checker, "{name}");
        }
    }
}
