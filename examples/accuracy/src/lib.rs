//! The accuracy of the digits examples and the test losses of the names
//! ladder, measured over several seeds by
//! `tests/`. A crate of its own so that its profile can optimize it (the
//! workspace's `Cargo.toml`): training a convolutional network five times is
//! seconds optimized and many minutes in a debug build. The networks and the
//! training program are the examples' own files, included from `examples/`.

// Each example includes its one training program, and each program its own
// copy of `shared/cli.rs`; this crate includes two programs, so two copies.
#![allow(clippy::duplicate_mod)]

#[path = "../../shared/digits.rs"]
#[macro_use]
pub mod shared;

#[path = "../../shared/names.rs"]
pub mod names;
