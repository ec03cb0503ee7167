//! The derived gradients of a checked network, by name, as `explain`
//! writes them (see [`crate::explain::derivation`]).

pub use crate::explain::derivation::{Derivation, Shared};

use crate::check::Net;
use crate::explain::{self, Format};

/// The derivation of a checked network.
pub fn of(net: &Net) -> Derivation {
    let text = explain::explain(net, &crate::derived(net), Format::Text);
    Derivation::read(&text)
}
