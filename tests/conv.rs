//! Convolutional networks end to end: the max-pool gradient goes to the
//! first maximum of each window (PyTorch's rule) where the window ties, and
//! kernels of rank 4 go through safetensors in PyTorch's layout `[k, c, r, s]`.

use denpa::ndarray::{Array2, Array4, ArrayD, IxDyn};
use denpa::Network;
use safetensors::SafeTensors;

denpa_macros::net! {
    /// Everything ties: P is all zeros, so each window's maximum is at all
    /// of its elements.
    network Ties {
        dtype f64
        input  img: [1, 4, 4]
        target t: [1]
        param P: [1, 4, 4] = zeros
        param w: [4, 1] = [[1.0], [1.0], [1.0], [1.0]]
        m = max_pool(img + P, 2)
        output y = flatten(m) @ w
        loss = sse(y, t)
    }
}

denpa_macros::net! {
    /// Overlapping windows (size 3, stride 1) that all tie: each window
    /// routes its δ to its own first element.
    network OverlappingTies {
        dtype f64
        input  img: [1, 4, 4]
        target t: [1]
        param P: [1, 4, 4] = zeros
        param w: [4, 1] = [[1.0], [1.0], [1.0], [1.0]]
        m = max_pool(img + P, 3, stride = 1)
        output y = flatten(m) @ w
        loss = sse(y, t)
    }
}

denpa_macros::net!("examples/digits_cnn.nn");

/// ∂E/∂P of a network whose image and target are zeros and ones.
fn gradient_of_p<N: Network<Scalar = f64>>(net: &N) -> ArrayD<f64> {
    let img = ArrayD::<f64>::zeros(IxDyn(&[1, 1, 4, 4]));
    let t = ArrayD::<f64>::ones(IxDyn(&[1, 1]));
    let (_, grads) = net.gradients_dyn(&[img.view()], &[t.view()]).unwrap();
    grads
        .into_iter()
        .find(|(name, _)| *name == "P")
        .map(|(_, g)| g)
        .unwrap()
}

#[test]
fn a_tied_window_sends_its_gradient_to_its_first_element() {
    // y = Σ of the four maxima = 0, ℓ = ½(y − 1)²: δ = −1 for every window.
    let g = gradient_of_p(&Ties::new());
    let mut expected = ArrayD::<f64>::zeros(IxDyn(&[1, 4, 4]));
    for (i, j) in [(0, 0), (0, 2), (2, 0), (2, 2)] {
        expected[[0, i, j]] = -1.0;
    }
    assert_eq!(g, expected);
}

#[test]
fn overlapping_tied_windows_each_send_to_their_own_first_element() {
    let g = gradient_of_p(&OverlappingTies::new());
    let mut expected = ArrayD::<f64>::zeros(IxDyn(&[1, 4, 4]));
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        expected[[0, i, j]] = -1.0;
    }
    assert_eq!(g, expected);
}

/// PyTorch's conv2d (cross-correlation, zero padding) on one image, written
/// from its definition: out[k, i, j] = b[k] + Σ_c Σ_r Σ_s W[k, c, r, s] ·
/// x[c, i + r − p, j + s − p].
fn torch_conv2d(x: &Array4<f32>, w: &Array4<f32>, b: &[f32], padding: usize) -> Array4<f32> {
    let (_, c, h, wd) = x.dim();
    let (k, _, r, s) = w.dim();
    let (oh, ow) = (h + 2 * padding - r + 1, wd + 2 * padding - s + 1);
    Array4::from_shape_fn((1, k, oh, ow), |(_, kk, i, j)| {
        let mut sum = b[kk];
        for cc in 0..c {
            for rr in 0..r {
                for ss in 0..s {
                    let (y, z) = (i + rr, j + ss);
                    if y >= padding && z >= padding && y - padding < h && z - padding < wd {
                        sum += w[[kk, cc, rr, ss]] * x[[0, cc, y - padding, z - padding]];
                    }
                }
            }
        }
        sum
    })
}

#[test]
fn kernels_round_trip_through_safetensors_in_pytorch_layout() {
    let dir = std::env::temp_dir().join(format!("denpa-conv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("digits_cnn.safetensors");
    let net = DigitsCnn::with_seed(4);
    net.save(&path).unwrap();
    let loaded = DigitsCnn::load(&path).unwrap();
    assert_eq!(loaded, net);

    // The file as PyTorch's `safetensors.torch.load_file` reads it: each
    // kernel [out_channels, in_channels, kH, kW], row-major little-endian f32.
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let tensor = |name: &str| {
        let t = file.tensor(name).unwrap();
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (t.shape().to_vec(), values)
    };
    let (shape, kernel) = tensor("b1_c_w");
    assert_eq!(shape, [16, 1, 3, 3]);
    assert_eq!(tensor("b2_c_w").0, [32, 16, 3, 3]);
    let (bias_shape, bias) = tensor("b1_c_b");
    assert_eq!(bias_shape, [16]);
    let kernel = Array4::from_shape_vec((16, 1, 3, 3), kernel).unwrap();
    assert_eq!(kernel, net.b1_c_w);

    // The first layer of the network computed from the file's tensors by
    // PyTorch's definition equals the network's own: same layout, same
    // cross-correlation, same padding.
    let img = Array4::from_shape_fn((1, 1, 8, 8), |(_, _, i, j)| ((i * 8 + j) % 7) as f32 - 3.0);
    let expected = torch_conv2d(&img, &kernel, &bias, 1);
    let conv = denpa::runtime::conv2d(img.view(), net.b1_c_w.view(), 1, 1)
        + net
            .b1_c_b
            .view()
            .insert_axis(denpa::ndarray::Axis(1))
            .insert_axis(denpa::ndarray::Axis(2));
    let close = |a: &Array4<f32>, b: &Array4<f32>| {
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x - y).abs() <= 1e-5 * x.abs().max(1.0))
    };
    assert!(close(&conv, &expected));
    // And the whole network runs on the image.
    let y: Array2<f32> = net.forward(img.view()).unwrap();
    assert_eq!(y.dim(), (1, 10));
}

#[test]
fn a_wrong_shaped_image_batch_is_refused_with_names_and_shapes() {
    let net = DigitsCnn::new();
    let img = Array4::<f32>::zeros((2, 8, 8, 1));
    let err = net.forward(img.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DigitsCnn: the argument `img` has shape [2, 8, 8, 1], expected [batch, 1, 8, 8]"
    );
}
