//! The optimizer of `train_step`: its state struct (step count and moments),
//! its initial value, and its update of every parameter from the gradient
//! sums (or, for SGD, from the products its update is folded into).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::array_type;
use super::init::dims_tokens;
use super::train::StepGradient;
use crate::check::{Net, Optimizer};
use crate::lang::literal;

/// The optimizer's state struct, its initial value and the update of
/// `train_step`.
pub(super) struct OptimizerCode {
    pub(super) name: Ident,
    pub(super) item: TokenStream,
    pub(super) init: TokenStream,
    pub(super) update: TokenStream,
    /// The state arrays' field names, in order.
    pub(super) fields: Vec<Ident>,
}

pub(super) fn optimizer(net: &Net, t: &TokenStream, grads: &[StepGradient<'_>]) -> OptimizerCode {
    let name = format_ident!("{}Optimizer", net.name);
    let params: Vec<Ident> = net
        .params
        .iter()
        .map(|p| format_ident!("{}", p.name))
        .collect();
    let types: Vec<TokenStream> = net
        .params
        .iter()
        .map(|p| array_type(t, p.shape.len()))
        .collect();
    let zeros: Vec<TokenStream> = net
        .params
        .iter()
        .map(|p| {
            let dims = dims_tokens(&p.shape);
            let array = super::array_path(t, p.shape.len());
            quote!(#array::zeros(#dims))
        })
        .collect();
    // One state array per parameter and moment: (field prefix, doc).
    let moments: &[(&str, &str)] = match net.optimizer {
        Optimizer::Sgd { .. } => &[],
        Optimizer::Momentum { .. } => &[("velocity", "The velocity v of")],
        Optimizer::Adam { .. } => &[
            ("m", "The first moment m of"),
            ("v", "The second moment v of"),
        ],
    };
    let mut fields = TokenStream::new();
    let mut field_names = Vec::new();
    let mut inits = TokenStream::new();
    let mut state: Vec<Vec<TokenStream>> = vec![Vec::new(); params.len()];
    for (prefix, doc) in moments {
        for (i, p) in params.iter().enumerate() {
            let field = format_ident!("{prefix}_{p}");
            let doc = format!(" {doc} `{p}`.");
            let (ty, zero) = (&types[i], &zeros[i]);
            fields.extend(quote!(#[doc = #doc] pub #field: #ty,));
            field_names.push(field.clone());
            inits.extend(quote!(#field: #zero,));
            state[i].push(quote!(&mut self.optimizer.#field));
        }
    }
    let num = |v: f64| literal(v).0;
    // Only SGD folds; the others keep every sum.
    let sums: Vec<&TokenStream> = grads.iter().filter_map(|g| g.ok()).collect();
    let update = match net.optimizer {
        Optimizer::Sgd { lr } => {
            let lr = num(lr);
            let updates: Vec<TokenStream> = grads
                .iter()
                .zip(&params)
                .map(|(grad, p)| match grad {
                    Ok(sum) => quote!(sgd.update(&mut self.#p, &#sum, scale);),
                    // W ← W − (η/N)·(the product), in the product.
                    Err(fold) => fold.tokens(quote!(descent), true, quote!(self.#p)),
                })
                .collect();
            let descent = if grads.iter().any(|g| g.is_err()) {
                quote!(let descent = -sgd.lr * scale;)
            } else {
                quote!()
            };
            quote! {
                let sgd = ::denpa::runtime::Sgd { lr: #lr };
                #descent
                #(#updates)*
                self.optimizer.step += 1;
            }
        }
        Optimizer::Momentum { lr, beta } => {
            let (lr, beta) = (num(lr), num(beta));
            let v: Vec<&TokenStream> = state.iter().map(|s| &s[0]).collect();
            quote! {
                let momentum = ::denpa::runtime::Momentum { lr: #lr, beta: #beta };
                #(momentum.update(&mut self.#params, &#sums, scale, #v);)*
                self.optimizer.step += 1;
            }
        }
        Optimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            let (lr, beta1, beta2, eps) = (num(lr), num(beta1), num(beta2), num(eps));
            let m: Vec<&TokenStream> = state.iter().map(|s| &s[0]).collect();
            let v: Vec<&TokenStream> = state.iter().map(|s| &s[1]).collect();
            quote! {
                self.optimizer.step += 1;
                let step = self.optimizer.step;
                let adam = ::denpa::runtime::Adam { lr: #lr, beta1: #beta1, beta2: #beta2, eps: #eps };
                #(adam.update(step, &mut self.#params, &#sums, scale, (#m, #v));)*
            }
        }
    };
    let doc = format!(
        " The state of the optimizer of [`{}`]: `{}`.",
        net.name,
        net.optimizer.text()
    );
    let item = quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(non_snake_case)] // fields are named after the parameters
        pub struct #name {
            /// How many updates `train_step` has made.
            pub step: u64,
            #fields
        }
    };
    let init = quote!(#name { step: 0, #inits });
    OptimizerCode {
        name,
        item,
        init,
        update,
        fields: field_names,
    }
}
