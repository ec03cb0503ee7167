//! Trains the XOR network of `examples/xor.nn` and prints what it learned.
//!
//! Run with `cargo run --release --example xor`.

use denpa::ndarray::array;

denpa_macros::net!("examples/xor.nn");

fn main() -> Result<(), denpa::Error> {
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
    Ok(())
}
