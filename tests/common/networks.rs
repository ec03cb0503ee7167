//! Large valid networks, generated: the shapes of input that show a pass
//! whose time grows faster than the network (`benches/compile.rs`, and the
//! deep-network test in `tests/robustness.rs`).

/// The three shapes of large network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `h1 = tanh(h0 + b)`, `h2 = tanh(h1 + b)`, …: one long chain of
    /// bindings sharing one parameter.
    Chain,
    /// Many independent layers of the input, `hi = tanh(dense(x, 4))`,
    /// summed into the output: many parameters side by side.
    Wide,
    /// `hi = tanh(dense(h(i-1), 4))`: a deep stack of layers, each with
    /// its own parameters.
    Deep,
}

impl Shape {
    /// Every shape, in the order the benchmark prints them.
    pub const ALL: [Shape; 3] = [Shape::Chain, Shape::Wide, Shape::Deep];

    /// The shape's name in the benchmark's table.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::Wide => "wide",
            Shape::Deep => "deep-dense",
        }
    }
}

/// A network of the given shape with `n` bindings.
pub fn network(shape: Shape, n: usize) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "network Big {\n    input x: [4]\n    target t: [4]\n    param b: [4]\n    h0 = tanh(x + b)\n",
    );
    for i in 1..n {
        let p = i - 1;
        match shape {
            Shape::Chain => writeln!(s, "    h{i} = tanh(h{p} + b)"),
            Shape::Wide if i % 2 == 1 => writeln!(s, "    h{i} = tanh(dense(x, 4))"),
            // Every other binding adds the layer just before it to the sum.
            Shape::Wide => writeln!(s, "    h{i} = h{} + h{p}", i.saturating_sub(2)),
            Shape::Deep => writeln!(s, "    h{i} = tanh(dense(h{p}, 4))"),
        }
        .expect("writing to a String");
    }
    let last = n - 1;
    writeln!(
        s,
        "    output y = h{last}\n    loss = sse(y, t)\n    train sgd(lr = 0.1)\n}}"
    )
    .expect("writing to a String");
    s
}
