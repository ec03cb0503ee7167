denpa_macros::net! {
    // The second call's image is 3×3: a 2×2 pool by 2 does not tile it.
    block conv_pool(x, k) {
        c = relu(conv(x, k, 3, padding = 1))
        return max_pool(c, 2)
    }

    network Broken {
        input img: [1, 6, 6]
        target t: [2]
        b1 = conv_pool(img, 4)
        b2 = conv_pool(b1, 8)
        output y = softmax(dense(flatten(b2), 2))
        loss = cross_entropy(y, t)
    }
}

fn main() {}
