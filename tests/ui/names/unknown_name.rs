denpa_macros::net! {
    network Broken {
        input x: [2]
        target t: [1]
        param W: [2, 1]
        /// The hidden layer.
        h = sigmoid(x @ W)
        output y = h * scale
        loss = sse(y, t)
    }
}

fn main() {}
