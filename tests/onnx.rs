//! ONNX export of the examples and the image networks, run in ONNX Runtime
//! against denpa's own forward pass (f32, to 1e-5); `denpa export` from a
//! weights file; and the errors of an export that cannot be faithful.
//! (Every pass fixture is exported and run by `tests/fixtures.rs`.)

mod common;
#[path = "common/onnx.rs"]
mod onnx;

use denpa::Network;

denpa_macros::net!("examples/xor.nn");
denpa_macros::net!("examples/and_gate.nn");
denpa_macros::net!("examples/iris.nn");
denpa_macros::net!("examples/digits.nn");
denpa_macros::net!("examples/digits_cnn.nn");
// The GPT of LANGUAGE.md §12 as written.
denpa_macros::net!("examples/names_gpt.nn");

denpa_macros::net! {
    /// A 28×28 network: padding, a strided 2×2 kernel, both pools, an
    /// overlapping max pool, and a second output of images.
    network Mnist {
        input img: [1, 28, 28]
        target t: [10]
        c1 = relu(conv(img, 8, 3, padding = 1))
        p1 = avg_pool(c1, 2)
        c2 = relu(conv(p1, 16, 2, stride = 2))
        p2 = max_pool(c2, 3, stride = 2)
        output y = softmax(dense(flatten(p2), 10))
        output features = p2
        loss = cross_entropy(y, t)
        train sgd(lr = 0.05)
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("denpa-onnx-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn case<N: Network>(dir: &std::path::Path, name: &str, seed: u64) -> onnx::Case {
    let net = N::with_seed(seed);
    onnx::case(dir, name, &net, None, &onnx::inputs::<N>(5), 1e-5)
}

#[test]
fn the_examples_and_image_networks_run_in_onnx_runtime() {
    let dir = temp("examples");
    let cases = vec![
        case::<Xor>(&dir, "xor", 1),
        case::<AndGate>(&dir, "and_gate", 1),
        case::<Iris>(&dir, "iris", 1),
        case::<Digits>(&dir, "digits", 1),
        case::<DigitsCnn>(&dir, "digits_cnn", 1),
        case::<Mnist>(&dir, "mnist", 1),
        case::<NamesGpt>(&dir, "names_gpt", 1),
    ];
    onnx::check(&dir, &cases);
    std::fs::remove_dir_all(&dir).ok();
}

/// Saves `net`'s weights in `dir` and has `denpa export` write the model of
/// `source` from them (with `extra` arguments), as `dir/{name}.onnx`.
fn export_saved<N: Network>(
    net: &N,
    dir: &std::path::Path,
    source: &str,
    extra: &[&str],
    name: &str,
) -> std::path::PathBuf {
    let weights = dir.join(format!("{name}.safetensors"));
    denpa::runtime::weights::save(net, &weights).unwrap();
    let model = dir.join(format!("{name}.onnx"));
    let mut args = vec!["export", source];
    args.extend_from_slice(extra);
    args.extend([
        "--weights",
        weights.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
    ]);
    let out = common::run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

#[test]
fn denpa_export_writes_the_model_of_a_weights_file() {
    let dir = temp("cli");
    let net = Digits::with_seed(7);
    let model = export_saved(&net, &dir, "examples/digits.nn", &[], "digits");
    // The same bytes as the network's own export (its doc comments, in
    // the model's doc string, included).
    let own = denpa::onnx::to_bytes(&net).unwrap();
    assert_eq!(std::fs::read(&model).unwrap(), own);
    // And a case the checker runs: the model of the file, denpa's outputs.
    let mut from_file = onnx::case(&dir, "digits", &net, None, &onnx::inputs::<Digits>(3), 1e-5);
    from_file.model = model;
    onnx::check(&dir, &[from_file]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn denpa_export_writes_the_gpt_with_its_index_input() {
    let dir = temp("gpt");
    let net = NamesGpt::with_seed(3);
    let model = export_saved(
        &net,
        &dir,
        "examples/names_gpt.nn",
        &["--network", "NamesGpt"],
        "gpt",
    );
    let bytes = std::fs::read(&model).unwrap();
    assert_eq!(bytes, denpa::onnx::to_bytes(&net).unwrap());
    // The index input's range is in the model's metadata.
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("denpa.range.ctx"), "no range of `ctx`");
    let mut from_file = onnx::case(&dir, "gpt", &net, None, &onnx::inputs::<NamesGpt>(2), 1e-5);
    from_file.model = model;
    onnx::check(&dir, &[from_file]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn denpa_export_refuses_weights_that_do_not_fit_and_keeps_the_old_model() {
    let dir = temp("bad");
    let model = dir.join("xor.onnx");
    std::fs::write(&model, b"the old model").unwrap();
    // Weights of another network.
    let weights = dir.join("iris.safetensors");
    Iris::with_seed(1).save(&weights).unwrap();
    let export = |weights: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "export",
            "examples/xor.nn",
            "--weights",
            weights.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        common::run(&args)
    };
    let out = export(&weights, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(weights.to_str().unwrap()), "{stderr}");
    assert!(
        stderr.contains("the file has tensors that `Xor` does not"),
        "{stderr}"
    );
    // Not a weights file at all.
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"\x01\x02not safetensors").unwrap();
    let out = export(&junk, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a safetensors file"), "{stderr}");
    // A network the file does not have.
    let out = export(&junk, &["--network", "Nope"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no network named `Nope`"), "{stderr}");
    assert_eq!(std::fs::read(&model).unwrap(), b"the old model");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_output_computed_from_a_loss_is_refused_by_name() {
    let source = "network Scored {
        input x: [3]
        target t: [3]
        param w: [3]
        y = x * w
        output score = sse(y, x)
        loss = sse(y, t)
    }";
    let file = denpa::syntax::parse(source).unwrap();
    let (nets, _) = denpa::check::check(&file).unwrap();
    let weights = [denpa::onnx::Weight {
        name: "w".into(),
        shape: vec![3],
        values: vec![1.0; 3],
    }];
    let error = denpa::onnx::model_bytes(&nets[0], source, &weights, None).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("Scored: cannot export to ONNX: `score` needs `sse`"),
        "{message}"
    );
}
