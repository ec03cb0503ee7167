//! Saving and loading parameters as safetensors.

use denpa::ndarray::array;
use safetensors::{Dtype, SafeTensors};

denpa_macros::net!("examples/xor.nn");

denpa_macros::net! {
    network Wide {
        dtype f64
        input x: [2]
        target t: [1]
        param W1: [2, 4]
        param b1: [4]
        param W2: [4, 1]
        output y = sigmoid(x @ W1 + b1) @ W2
        loss = sse(y, t)
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("denpa-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_then_load_gives_back_identical_parameters() {
    let path = temp("xor.safetensors");
    let mut net = Xor::with_seed(3);
    let x = array![[0.0f32, 1.0], [1.0, 1.0]];
    let t = array![[1.0f32], [0.0]];
    for _ in 0..10 {
        net.train_step(x.view(), t.view()).unwrap();
    }
    net.save(&path).unwrap();
    let loaded = Xor::load(&path).unwrap();
    assert_eq!(loaded.W1, net.W1);
    assert_eq!(loaded.b1, net.b1);
    assert_eq!(loaded.W2, net.W2);
    assert_eq!(loaded.b2, net.b2);
    assert_eq!(
        loaded.forward(x.view()).unwrap(),
        net.forward(x.view()).unwrap()
    );
}

#[test]
fn the_file_is_readable_by_the_safetensors_crate() {
    let path = temp("wide.safetensors");
    let net = Wide::with_seed(5);
    net.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["W1", "W2", "b1"]);
    let w1 = file.tensor("W1").unwrap();
    assert_eq!(w1.dtype(), Dtype::F64);
    assert_eq!(w1.shape(), [2, 4]);
    let values: Vec<f64> = w1
        .data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values, net.W1.iter().copied().collect::<Vec<_>>());
    assert_eq!(file.tensor("b1").unwrap().shape(), [4]);
}

denpa_macros::net! {
    network Narrow {
        dtype f64
        input x: [2]
        target t: [1]
        param W1: [2, 3]
        param b1: [3]
        param W2: [3, 1]
        output y = sigmoid(x @ W1 + b1) @ W2
        loss = sse(y, t)
    }
}

denpa_macros::net! {
    network Small {
        dtype f64
        input x: [2]
        target t: [1]
        param W1: [2, 4]
        output y = sum(x @ W1)
        loss = sse(y, sum(t))
    }
}

#[test]
fn a_file_of_another_network_is_refused_by_name_shape_or_dtype() {
    let wide = temp("wide-for-others.safetensors");
    Wide::new().save(&wide).unwrap();
    // Same names, another dtype: an f64 file for the f32 network.
    let xor = temp("xor-for-others.safetensors");
    Xor::new().save(&xor).unwrap();
    let err = Wide::load(&xor).unwrap_err().to_string();
    assert!(
        err.ends_with("the file has tensors that `Wide` does not: `b2`"),
        "{err}"
    );
    let err = Narrow::load(&wide).unwrap_err().to_string();
    assert!(
        err.ends_with("the parameter `W1` has shape [2, 4] in the file, the network needs [2, 3]"),
        "{err}"
    );
    let small = temp("small.safetensors");
    Small::new().save(&small).unwrap();
    let err = Wide::load(&small).unwrap_err().to_string();
    assert!(
        err.ends_with("the parameter `b1` is missing from the file"),
        "{err}"
    );
    // An f64 file with the right names for an f32 network of the same shapes.
    denpa_macros::net! {
        network WideF32 {
            input x: [2]
            target t: [1]
            param W1: [2, 4]
            param b1: [4]
            param W2: [4, 1]
            output y = sigmoid(x @ W1 + b1) @ W2
            loss = sse(y, t)
        }
    }
    let err = WideF32::load(&wide).unwrap_err().to_string();
    assert!(
        err.ends_with("the parameter `W1` has dtype F64 in the file, the network uses F32"),
        "{err}"
    );
    assert!(err.starts_with(&wide.display().to_string()), "{err}");
}

#[test]
fn truncated_and_foreign_files_are_refused_without_panic() {
    let path = temp("good.safetensors");
    Xor::new().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        let broken = temp("truncated.safetensors");
        std::fs::write(&broken, &bytes[..cut]).unwrap();
        let err = Xor::load(&broken).unwrap_err();
        assert!(
            err.to_string().contains("not a safetensors file"),
            "cut at {cut}: {err}"
        );
    }
    let foreign = temp("foreign.safetensors");
    std::fs::write(&foreign, b"PK\x03\x04 this is a zip file, not weights").unwrap();
    assert!(Xor::load(&foreign).is_err());
    let missing = temp("does-not-exist.safetensors");
    assert!(matches!(
        Xor::load(&missing).unwrap_err(),
        denpa::Error::Io { .. }
    ));
}

#[test]
fn saving_over_a_file_replaces_it_whole() {
    let path = temp("replace.safetensors");
    Xor::with_seed(1).save(&path).unwrap();
    Xor::with_seed(2).save(&path).unwrap();
    assert_eq!(Xor::load(&path).unwrap().W1, Xor::with_seed(2).W1);
    // No temporary file is left beside it.
    let dir = path.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".replace.safetensors")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
