denpa_macros::net! {
    network Broken {
        input img: [1, 6, 6]
        target t: [2]
        // A kernel for 3 channels on a 1-channel image.
        param W: [4, 3, 3, 3] = he
        c = relu(conv2d(img, W))
        output y = softmax(dense(flatten(c), 2))
        loss = cross_entropy(y, t)
    }
}

fn main() {}
