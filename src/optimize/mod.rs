//! Passes over the derived graph, run in this order:
//!
//! 1. [`share`]: identical computations become one node (common
//!    subexpressions), so a product that several gradients need is computed
//!    once, forward and backward alike.
//! 2. [`dead`]: nodes that no output, loss or gradient needs are dropped and
//!    the arena is compacted, keeping topological order.
//!
//! Elementwise fusion happens at emission (`codegen`), where chains of
//! elementwise nodes used once become one loop.

mod dead;
mod share;

pub use dead::dead;
pub use share::share;

use crate::ir::Graph;

/// Runs every pass, in order.
pub fn run(graph: Graph) -> Graph {
    let graph = share(graph);
    dead(graph)
}
