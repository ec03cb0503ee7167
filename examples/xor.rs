//! Trains the XOR network of `examples/xor.nn` and prints what it learned.
//!
//! Run with `cargo run --release --example xor`. With `--save W.safetensors`
//! it also saves the trained weights (for `denpa explain --format html
//! examples/xor.nn --weights W.safetensors --batch examples/data/xor.csv`),
//! and with `--page FILE.html` it writes the explanation page with the
//! walk-through of the trained network on the sample (1, 0).

use denpa::ndarray::{array, s};

denpa_macros::net!("examples/xor.nn");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let t = array![[0.0], [1.0], [1.0], [0.0]];

    let mut net = Xor::new();
    let epochs = 5000;
    for epoch in 1..=epochs {
        let loss = net.train_step(x.view(), t.view())?;
        if epoch == 1 || epoch % 1000 == 0 {
            println!("epoch {epoch:>5}  loss {loss:.6}");
        }
    }

    let y = net.forward(x.view())?;
    println!();
    println!("x1  x2  xor  prediction");
    for (i, row) in x.rows().into_iter().enumerate() {
        println!(
            " {}   {}   {}   {:.4}",
            row[0],
            row[1],
            t[[i, 0]],
            y[[i, 0]]
        );
    }
    println!();
    println!("final loss {:.6}", net.loss(x.view(), t.view())?);
    if let Some(path) = option("--save") {
        net.save(path)?;
        println!("saved the weights to {path}");
    }
    if let Some(path) = option("--page") {
        // The walk-through follows the first sample of the batch it is given.
        let (x1, t1) = (x.slice(s![1..2, ..]), t.slice(s![1..2, ..]));
        let (page, numbers) = denpa::page::walkthrough(&net, &[x1.into_dyn()], &[t1.into_dyn()])?;
        std::fs::write(path, page)?;
        println!("wrote {path} (loss of the sample {:.6})", numbers.loss);
    }
    Ok(())
}
