denpa_macros::net! {
    network Bigram {
        input prev: [] in 0..27
        target next: [] in 0..27
        param W: [27, 27]
        // an index is not a number
        output p = softmax(W[prev] * prev)
        loss = cross_entropy(p, next)
    }
}

fn main() {}
