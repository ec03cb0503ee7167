denpa_macros::net! {
    network Embedding {
        input ctx: [8] in 0..27
        target t: [8, 4]
        // 26 rows for indices in 0..27
        param E: [26, 4]
        output y = E[ctx]
        loss = sse(y, t)
    }
}

fn main() {}
