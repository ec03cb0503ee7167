denpa_macros::net! {
    network Broken {
        input x: [2]
        target t: [1]
        param W: [2, 1]
        param W: [2, 1]
        output y = x @ W
        loss = sse(y, t)
    }
}

fn main() {}
