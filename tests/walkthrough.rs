//! The page's walk-through with the user's numbers (`denpa explain --format
//! html FILE --weights W --batch DATA.csv`, and `denpa::page::walkthrough`
//! from Rust): the numbers are those the generated `gradients` computes on
//! the same parameters and samples, every finite difference agrees, the
//! command and the library make the same page, and bad numbers get an error
//! that says where. (`tests/fixtures.rs` compares the walk-through with
//! `gradients` on every pass fixture; with `DENPA_NUMBERS_PAGES=DIR` the
//! test of the examples writes their pages there for the browser.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use denpa::ndarray::{array, Axis};
use denpa::Network;

#[path = "common/onnx.rs"]
mod onnx;

denpa_macros::net!("examples/xor.nn");
denpa_macros::net!("examples/digits_cnn.nn");
denpa_macros::net!("examples/names_mlp_bn.nn");
denpa_macros::net!("examples/names_gpt.nn");
denpa_macros::net!("tests/fixtures/pass/dropout.nn");

fn denpa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_denpa"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// `denpa explain --format html FILE --weights W --batch DATA …extra`.
fn walk_command(file: &str, weights: &Path, batch: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "explain",
        "--format",
        "html",
        file,
        "--weights",
        text(weights),
        "--batch",
        batch,
    ];
    args.extend(extra);
    denpa(&args)
}

/// What a walk-through command printed, checked to have succeeded.
fn printed(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("denpa-walk-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The walk-through of a generated network on a batch of 4 agrees with its
/// `gradients` on the samples it follows, and with finite differences; the
/// page is written to `DENPA_NUMBERS_PAGES` when set.
fn walk<N: Network<Scalar = f32>>(net: &N) {
    let inputs = onnx::batch_of::<f32>(N::INPUTS, N::INPUT_RANGES, 4, 5);
    let targets = onnx::batch_of::<f32>(N::TARGETS, N::TARGET_RANGES, 4, 6);
    let (page, numbers) =
        denpa::page::walkthrough(net, &onnx::args(&inputs), &onnx::args(&targets))
            .unwrap_or_else(|e| panic!("{}: {e}", N::NAME));
    roxmltree::Document::parse(page.trim_start_matches("<!DOCTYPE html>"))
        .unwrap_or_else(|e| panic!("{}: {e}", N::NAME));
    let first = |all: &[onnx::Data<f32>]| -> Vec<onnx::Data<f32>> {
        let n = if numbers.whole_batch { 4 } else { 1 };
        all.iter()
            .map(|d| match d {
                onnx::Data::Numbers(a) => {
                    onnx::Data::Numbers(a.slice_axis(Axis(0), (0..n).into()).to_owned())
                }
                onnx::Data::Indices(a) => {
                    onnx::Data::Indices(a.slice_axis(Axis(0), (0..n).into()).to_owned())
                }
            })
            .collect()
    };
    let (inputs, targets) = (first(&inputs), first(&targets));
    let (loss, gradients) = net
        .gradients_dyn(&onnx::args(&inputs), &onnx::args(&targets))
        .unwrap();
    // The network computes in f32; the walk-through in f64 on the same
    // values: they agree to f32's precision.
    let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 2e-4 * scale.max(1e-3);
    assert!(
        close(numbers.loss, f64::from(loss), numbers.loss.abs()),
        "{}: loss {} against {loss}",
        N::NAME,
        numbers.loss
    );
    for ((name, mine), (_, theirs)) in numbers.gradients.iter().zip(&gradients) {
        let scale = theirs.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
        for (a, b) in mine.iter().zip(theirs) {
            assert!(
                close(*a, f64::from(*b), scale),
                "{}: ∂E/∂{name}: {a} in the walk-through, {b} in `gradients`",
                N::NAME
            );
        }
    }
    for c in &numbers.checks {
        assert!(c.agrees, "{}: {c:?}", N::NAME);
    }
    if let Some(dir) = std::env::var_os("DENPA_NUMBERS_PAGES") {
        std::fs::create_dir_all(&dir).unwrap();
        let path = Path::new(&dir).join(format!("{}.numbers.explain.html", N::NAME));
        std::fs::write(path, &page).unwrap();
    }
}

#[test]
fn the_examples_walk_through_what_gradients_computes() {
    walk(&Xor::with_seed(1));
    walk(&DigitsCnn::with_seed(1));
    // batch_norm: the whole batch is followed, in training mode.
    walk(&NamesMlpBn::with_seed(1));
    walk(&NamesGpt::with_seed(1));
}

#[test]
fn dropout_is_walked_through_with_the_masks_of_gradients() {
    let mut net = Dropout::with_seed(3);
    net.set_dropout_seed(11);
    let x = onnx::data::<f64>(&[2, 3, 4], 1);
    let t = onnx::data::<f64>(&[2, 3], 2);
    net.train_step(
        x.view().into_dimensionality().unwrap(),
        t.view().into_dimensionality().unwrap(),
    )
    .unwrap();
    let x1 = x.slice_axis(Axis(0), (0..1).into()).to_owned();
    let t1 = t.slice_axis(Axis(0), (0..1).into()).to_owned();
    let (page, numbers) = denpa::page::walkthrough(&net, &[x1.view()], &[t1.view()]).unwrap();
    // The masks of seed 11 at step 1: those of the next `train_step`.
    assert!(
        page.contains("seed 11 at step 1"),
        "the page names the masks"
    );
    let (loss, gradients) = net.gradients_dyn(&[x1.view()], &[t1.view()]).unwrap();
    assert!((numbers.loss - loss).abs() < 1e-12);
    for ((_, a), (_, b)) in numbers.gradients.iter().zip(&gradients) {
        assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12));
    }
    assert!(numbers.checks.iter().all(|c| c.agrees));

    // Each row of a batch has its own mask: followed one by one, the two
    // samples' gradients are twice the batch's mean.
    let given = |sample| denpa::page::Given {
        params: net
            .parameters()
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_owned()))
            .collect(),
        statistics: Vec::new(),
        dropout_seed: Network::dropout_seed(&net),
        step: net.optimizer_state().0,
        inputs: vec![x.clone()],
        targets: vec![t.clone()],
        sample,
    };
    let each = [0, 1].map(|k| {
        denpa::page::page_with_numbers(Dropout::SOURCE, None, &given(k))
            .unwrap()
            .1
    });
    let (_, batch) = net.gradients_dyn(&[x.view()], &[t.view()]).unwrap();
    for (p, (name, mean)) in batch.iter().enumerate() {
        let sum = &each[0].gradients[p].1 + &each[1].gradients[p].1;
        for (a, b) in sum.iter().zip(mean) {
            assert!(
                (a - 2.0 * b).abs() < 1e-12,
                "∂E/∂{name}: {a} against 2 × {b}"
            );
        }
    }

    // The command reads the seed and the step from a checkpoint.
    let dir = temp("dropout");
    let checkpoint = dir.join("dropout.safetensors");
    net.save_checkpoint(&checkpoint).unwrap();
    let csv = dir.join("batch.csv");
    let row: Vec<String> = x1
        .iter()
        .chain(t1.iter())
        .map(|v| format!("{v:e}"))
        .collect();
    std::fs::write(&csv, row.join(",") + "\n").unwrap();
    let out = walk_command(
        "tests/fixtures/pass/dropout.nn",
        &checkpoint,
        text(&csv),
        &[],
    );
    assert_eq!(printed(out), page);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_command_and_the_library_make_the_same_page() {
    let net = Xor::with_seed(7);
    let dir = temp("xor");
    let weights = dir.join("xor.safetensors");
    net.save(&weights).unwrap();
    let xor = |extra: &[&str]| {
        let mut args = vec!["--sample", "2"];
        args.extend(extra);
        walk_command("examples/xor.nn", &weights, "examples/data/xor.csv", &args)
    };
    let printed = printed(xor(&[]));
    // Row 2 of examples/data/xor.csv: x = (0, 1), t = 1.
    let (x, t) = (array![[0.0f32, 1.0]], array![[1.0f32]]);
    let (page, numbers) =
        denpa::page::walkthrough(&net, &[x.view().into_dyn()], &[t.view().into_dyn()]).unwrap();
    assert_eq!(
        printed,
        page.replace("sample 0 of the batch", "sample 2 of the batch")
    );
    assert_eq!(numbers.samples, 1);
    let section = &page[page.find("<section id=\"numbers\">").unwrap()..];
    let section = &section[..section.find("<h3>Checked by").unwrap()];
    insta::assert_snapshot!("xor_numbers", section);

    // The same from a CSV of class numbers, with -o.
    let out_dir = dir.join("pages");
    assert!(xor(&["-o", text(&out_dir)]).status.success());
    let written = std::fs::read_to_string(out_dir.join("Xor.explain.html")).unwrap();
    assert_eq!(written, printed);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_vector_target_may_be_given_as_its_class() {
    // digits.nn's t: [10] as one class number, 64 pixels before it.
    let dir = temp("class");
    denpa_macros::net!("examples/digits.nn");
    let net = Digits::with_seed(2);
    let weights = dir.join("digits.safetensors");
    net.save(&weights).unwrap();
    let pixels: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
    let csv = dir.join("one.csv");
    std::fs::write(&csv, format!("{},3\n", pixels.join(","))).unwrap();
    let out = walk_command("examples/digits.nn", &weights, text(&csv), &[]);
    let x = denpa::ndarray::Array2::from_shape_fn((1, 64), |(_, i)| (i % 17) as f32);
    let mut t = denpa::ndarray::Array2::<f32>::zeros((1, 10));
    t[[0, 3]] = 1.0;
    let (page, _) =
        denpa::page::walkthrough(&net, &[x.view().into_dyn()], &[t.view().into_dyn()]).unwrap();
    assert_eq!(printed(out), page);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_numbers_get_an_error_that_says_where() {
    let dir = temp("bad");
    let weights = dir.join("xor.safetensors");
    Xor::with_seed(1).save(&weights).unwrap();
    let run = |file: &str, batch: &str, extra: &[&str]| {
        let csv = dir.join("batch.csv");
        std::fs::write(&csv, batch).unwrap();
        let out = walk_command(file, &weights, text(&csv), extra);
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let csv = text(&dir.join("batch.csv")).to_string();
    let cases: &[(&str, &[&str], String)] = &[
        (
            "x1,x2,t\n0,0,0\n1,0\n",
            &[],
            format!("error: {csv}: line 3: 2 numbers, where `Xor` takes 3 (x: 2, t: 1)\n"),
        ),
        (
            "0,0,0\n1,zero,1\n",
            &[],
            format!("error: {csv}: line 2, column 2: `zero` is not a finite number\n"),
        ),
        (
            "0,0,0\n1,nan,1\n",
            &[],
            format!("error: {csv}: line 2, column 2: `nan` is not a finite number\n"),
        ),
        (
            "# nothing\n",
            &[],
            format!("error: {csv}: the batch has no samples\n"),
        ),
        (
            "0,0,0\n",
            &["--sample", "3"],
            "error: there is no sample 3 in a batch of 1 (they are counted from 0)\n".into(),
        ),
    ];
    for (batch, extra, expected) in cases {
        let (code, stderr) = run("examples/xor.nn", batch, extra);
        assert_eq!(
            (code, stderr.as_str()),
            (Some(1), expected.as_str()),
            "{batch:?}"
        );
    }
    // Weights of another network, and a file that is no safetensors file.
    let (code, stderr) = run("examples/and_gate.nn", "0,0,0\n", &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!("error: {}: ", text(&weights))),
        "{stderr}"
    );
    std::fs::write(&weights, b"not weights").unwrap();
    let (code, stderr) = run("examples/xor.nn", "0,0,0\n", &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("not a safetensors file"), "{stderr}");
    // Weights belong to one network.
    let (code, stderr) = run("tests/fixtures/pass/two_networks.nn", "0\n", &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("weights belong to one"), "{stderr}");
    // Numbers belong to the page.
    let out = denpa(&[
        "explain",
        "--weights",
        text(&weights),
        "--batch",
        &csv,
        "examples/xor.nn",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add `--format html`"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_index_outside_its_range_is_refused_with_its_column() {
    let dir = temp("index");
    let net = NamesMlpBn::with_seed(1);
    let weights = dir.join("w.safetensors");
    net.save(&weights).unwrap();
    let (ctx, range) = (
        NamesMlpBn::INPUTS[0].1[0],
        NamesMlpBn::INPUT_RANGES[0].unwrap(),
    );
    let mut row: Vec<String> = (0..ctx).map(|_| "1".to_string()).collect();
    row[1] = range.to_string();
    row.push("0".into());
    let csv = dir.join("b.csv");
    std::fs::write(&csv, format!("{}\n{}\n", row.join(","), row.join(","))).unwrap();
    let out = walk_command("examples/names_mlp_bn.nn", &weights, text(&csv), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "line 1, column 2: `{}` holds indices in 0..{range}, and {range} is none",
            NamesMlpBn::INPUTS[0].0
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
