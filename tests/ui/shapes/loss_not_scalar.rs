denpa_macros::net! {
    network Broken {
        input x: [2]
        target t: [2]
        output y = sigmoid(x)
        loss = y - t
    }
}

fn main() {}
