//! The same model everywhere: the names GPT, trained a little, exported to
//! ONNX and run in ONNX Runtime on int64 contexts, gives the next-character
//! distributions of denpa's `forward` (to 1e-5), and the Rust generation
//! loop writes the same names from either for one seed.

#[path = "../../../tests/common/onnx.rs"]
mod onnx;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use denpa::data::Generator;
use denpa_accuracy::names::{self, Options};

denpa_macros::net!("../names_gpt.nn");

#[test]
fn the_gpt_writes_the_same_names_from_onnx_runtime_as_from_forward() {
    let mut options = Options::defaults(&names::GPT, 0);
    options.data = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/names.txt").into();
    options.steps = 300;
    options.eval_every = options.steps;
    let corpus = names::load::<NamesGpt>(&options).unwrap();
    let (net, _) = names::train::<NamesGpt>(&options, &corpus, |_, _, _| {}).unwrap();

    let dir = std::env::temp_dir().join(format!("denpa-names-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("names_gpt.onnx");
    denpa::onnx::save(&net, &model).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/onnx/next.py");
    let mut runtime = Command::new(onnx::python())
        .arg(script)
        .arg(&model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut ask = runtime.stdin.take().unwrap();
    let mut answers = BufReader::new(runtime.stdout.take().unwrap()).lines();

    // The distributions ONNX Runtime gives, each next to forward's.
    let mut forward = Generator::from_network(&net);
    let mut worst = 0.0f32;
    let mut contexts = 0;
    let from_onnx = |context: &[usize]| -> Result<Vec<f32>, denpa::Error> {
        let line: Vec<String> = context.iter().map(|c| c.to_string()).collect();
        writeln!(ask, "{}", line.join(" ")).unwrap();
        let answer = answers
            .next()
            .expect("ONNX Runtime answers each context")
            .unwrap();
        let theirs: Vec<f32> = answer.split(' ').map(|v| v.parse().unwrap()).collect();
        let ours = forward(context)?;
        assert_eq!(theirs.len(), ours.len());
        for (a, b) in theirs.iter().zip(&ours) {
            worst = worst.max((a - b).abs());
        }
        contexts += 1;
        Ok(theirs)
    };
    let mut generator = Generator::new(&corpus.vocab, corpus.context, 0);
    let onnx_names = generator.names(20, from_onnx).unwrap();
    let denpa_names = names::generate(&net, &corpus, 20, 0).unwrap();
    // Closing the script's input ends it.
    drop(ask);
    let status = runtime.wait().expect("python ends");
    assert!(status.success(), "tests/onnx/next.py failed: {status}");
    println!("{contexts} contexts, largest difference {worst:.2e}; names {onnx_names:?}");
    assert!(worst <= 1e-5, "ONNX Runtime and forward differ by {worst}");
    assert_eq!(onnx_names, denpa_names);
    assert!(contexts >= 40, "too few contexts to tell: {contexts}");
    std::fs::remove_dir_all(&dir).ok();
}
