//! A compact text form of the graph, one node a line, for tests and debugging.
//!
//! ```text
//! %5 = matmul %0, %2 : B×[2]   z_h
//! ```

use std::fmt;

use super::{Graph, Role};

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "graph {} ({})", self.name, self.dtype.rust_name())?;
        for id in self.ids() {
            let n = self.node(id);
            let args: Vec<String> = n.args.iter().map(|a| a.to_string()).collect();
            let batch = if n.ty.batched { "B×" } else { "" };
            write!(f, "{id} = {}", n.op.mnemonic())?;
            if !args.is_empty() {
                write!(f, " {}", args.join(", "))?;
            }
            write!(f, " : {batch}{}", n.ty.shape_text())?;
            if let Some(name) = n.name.as_ref().or(n.hint.as_ref()) {
                write!(f, "   {name}")?;
            }
            match n.role {
                Role::Forward { .. } | Role::Backward => {}
                Role::Adjoint(of) => write!(f, "   ∂E/∂{of}")?,
                Role::Gradient(p) => write!(f, "   gradient of param {p}")?,
            }
            writeln!(f)?;
        }
        for (name, id) in &self.outputs {
            writeln!(f, "output {name} = {id}")?;
        }
        writeln!(f, "loss = {}", self.loss)
    }
}
