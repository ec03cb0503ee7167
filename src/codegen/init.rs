//! How parameters start: the expressions of `with_seed` (zeros, constants,
//! draws from the seeded generator, literal values) and each initializer as
//! written in `.nn`.

use proc_macro2::TokenStream;
use quote::quote;

use super::tiny::dim;
use crate::check::{Init, Net};
use crate::lang::literal;

/// `with_seed`'s parameter (`_seed` when nothing is drawn), the generator it
/// makes, and each parameter's initial value.
pub(super) fn with_seed(
    net: &Net,
    t: &TokenStream,
) -> (TokenStream, TokenStream, Vec<TokenStream>) {
    let random = net.params.iter().any(|p| {
        matches!(
            p.init,
            Init::Normal { .. } | Init::Uniform { .. } | Init::Glorot | Init::He
        )
    });
    let seed = if random { quote!(seed) } else { quote!(_seed) };
    let rng = if random {
        quote!(let mut rng = ::denpa::runtime::Rng::new(seed);)
    } else {
        quote!()
    };
    let inits = net
        .params
        .iter()
        .map(|p| init_tokens(t, &p.shape, &p.init))
        .collect();
    (seed, rng, inits)
}

/// The dimensions of an array of `shape`, as `zeros` takes them.
pub(super) fn dims_tokens(shape: &[usize]) -> TokenStream {
    let dims: Vec<TokenStream> = shape.iter().map(|d| dim(*d)).collect();
    match shape {
        [_] => dims[0].clone(),
        _ => quote!((#(#dims),*)),
    }
}

/// How a parameter is created in `with_seed`.
pub(super) fn init_tokens(t: &TokenStream, shape: &[usize], init: &Init) -> TokenStream {
    let array = super::array_path(t, shape.len());
    let dims = dims_tokens(shape);
    let num = |v: f64| literal(v).0;
    match init {
        Init::Zeros => quote!(#array::zeros(#dims)),
        Init::Ones => quote!(#array::ones(#dims)),
        Init::Constant(c) => {
            let c = num(*c);
            quote!(#array::from_elem(#dims, #c))
        }
        Init::Normal { mean, std } => {
            let (m, s) = (num(*mean), num(*std));
            quote!(::denpa::runtime::init::normal(&mut rng, #dims, #m, #s))
        }
        Init::Uniform { lo, hi } => {
            let (l, h) = (num(*lo), num(*hi));
            quote!(::denpa::runtime::init::uniform(&mut rng, #dims, #l, #h))
        }
        Init::Glorot if shape.len() == 4 => {
            quote!(::denpa::runtime::init::glorot_kernel(&mut rng, #dims))
        }
        Init::He if shape.len() == 4 => {
            quote!(::denpa::runtime::init::he_kernel(&mut rng, #dims))
        }
        Init::Glorot => quote!(::denpa::runtime::init::glorot(&mut rng, #dims)),
        Init::He => quote!(::denpa::runtime::init::he(&mut rng, #dims)),
        Init::Literal(values) => {
            // Nested like the shape, innermost axis first: `[[1.0, 2.0], …]`.
            let mut items: Vec<TokenStream> = values.iter().map(|v| num(*v)).collect();
            for &n in shape[1..].iter().rev() {
                items = items.chunks(n).map(|row| quote!([#(#row),*])).collect();
            }
            quote!(::denpa::ndarray::array![#(#items),*])
        }
    }
}

/// An initializer as written in `.nn`.
pub fn init_text(init: &Init) -> String {
    match init {
        Init::Zeros => "zeros".into(),
        Init::Ones => "ones".into(),
        Init::Constant(c) => format!("constant({c})"),
        Init::Normal { mean, std } => format!("normal({mean}, {std})"),
        Init::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
        Init::Glorot => "glorot".into(),
        Init::He => "he".into(),
        Init::Literal(_) => "the values written in the source".into(),
    }
}
