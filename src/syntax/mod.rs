//! The front end: `.nn` text to an AST with spans.

pub mod ast;
mod delimiters;
mod errors;
mod format;
mod halfway;
mod parse;

pub use format::format;
pub use parse::{parse, parse_recovering, MAX_NESTING};

#[cfg(test)]
mod tests;
