denpa_macros::net! {
    network Broken {
        input x: [2]
        target t: [1]
        output y = x @ V
    }
}

fn main() {}
