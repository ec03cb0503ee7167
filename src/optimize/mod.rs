//! Passes over the derived graph, run in this order:
//!
//! 1. [`fold`]: operations on constants become constants, so that no
//!    generated loop computes `sigmoid(0.5)` at run time.
//! 2. [`share`]: identical computations become one node (common
//!    subexpressions), so a product that several gradients need is computed
//!    once, forward and backward alike.
//! 3. [`dead`]: nodes that no output, loss or gradient needs are dropped and
//!    the arena is compacted, keeping topological order.
//!
//! Elementwise fusion happens at emission (`codegen`), where chains of
//! elementwise nodes used once become one loop.

mod dead;
mod fold;
mod share;

pub use dead::dead;
pub use fold::fold;
pub use share::share;

use crate::ir::Graph;

/// Runs every pass, in order.
pub fn run(graph: Graph) -> Graph {
    let graph = fold(graph);
    let graph = share(graph);
    dead(graph)
}
