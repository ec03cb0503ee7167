//! `net!`: networks written in denpa's `.nn` language, compiled to Rust at
//! compile time.
//!
//! ```ignore
//! denpa_macros::net! {
//!     network Xor { ... }
//! }
//! denpa_macros::net!("nets/xor.nn");
//! ```
//!
//! This crate is a thin shell over the compiler in `denpa`: it finds the
//! text, calls `denpa::compile`, and turns diagnostics into `compile_error!`
//! at the tokens they point at.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod source;

use proc_macro::TokenStream;

/// Compiles networks written inline (`net! { network Xor { ... } }`) or in a
/// file (`net!("path/to/file.nn")`, relative to the calling crate's
/// `Cargo.toml` directory) into Rust items: for each network a struct with
/// `new`, `with_seed`, `forward`, `loss`, `gradients` and `train_step`, and a
/// `…Grads` struct.
#[proc_macro]
pub fn net(input: TokenStream) -> TokenStream {
    let tokens = proc_macro2::TokenStream::from(input.clone());
    let expanded = match syn::parse2::<syn::LitStr>(tokens) {
        Ok(path) => source::from_file(&path),
        Err(_) => source::inline(input),
    };
    expanded.into()
}
