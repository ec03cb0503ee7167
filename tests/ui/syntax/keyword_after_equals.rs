denpa_macros::net! {
    network Broken {
        input x: [4]
        target t: [2]
        param W: [4, 2] =
        param b: [2]
        output y = sigmoid(x @ W + b)
        loss = sse(y, t)
    }
}

fn main() {}
