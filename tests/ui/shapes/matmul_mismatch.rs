denpa_macros::net! {
    network Broken {
        input x: [3]
        target t: [1]
        // W has 2 rows, x has 3 elements
        param W: [2, 1]
        output y = sigmoid(x @ W)
        loss = sse(y, t)
    }
}

fn main() {}
