//! The front end: `.nn` text to an AST with spans.

pub mod ast;
mod delimiters;
mod parse;

pub use parse::{parse, MAX_NESTING};

#[cfg(test)]
mod tests;
