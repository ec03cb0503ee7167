//! The items of a network whose layers differ between training and use
//! (LANGUAGE.md §13): `training_loss`, the dropout seed and its accessors,
//! and their `denpa::Network` methods. A network without such layers gets
//! none of them, and its items are what they were before modes existed.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::api::Api;
use super::function_body;
use crate::check::Net;
use crate::ir::{Graph, Op};

/// What the modes add to a network's items (each empty without them).
#[derive(Default)]
pub(super) struct Modes {
    /// Fields of the network struct.
    pub fields: TokenStream,
    /// Their values in `with_seed` (which has `seed` in scope).
    pub inits: TokenStream,
    /// Inherent methods.
    pub methods: TokenStream,
    /// Methods of the `denpa::Network` impl.
    pub trait_items: TokenStream,
    /// Whether `with_seed` reads its seed for them.
    pub uses_seed: bool,
    /// Rustdoc paragraphs for the network, its `forward` and its `loss`.
    pub net_doc: Vec<String>,
    /// The training functions' checks of the batch (each statistic
    /// averages at least 2 values).
    pub checks: TokenStream,
}

impl Modes {
    /// The mode items of `net`, whose derived training graph is `g`;
    /// `differ` says whether its inference graph is another.
    pub fn of(
        net: &Net,
        g: &Graph,
        differ: bool,
        names: &[String],
        api: &Api,
        comments: &mut BTreeMap<String, Vec<String>>,
    ) -> Modes {
        if !differ {
            return Modes::default();
        }
        let Api {
            t,
            input_args,
            target_args,
            input_names,
            target_names,
            input_checks,
            target_checks,
            args_doc,
            dyn_args,
            ..
        } = api;
        let net_name = &net.name;
        let (body, ret) = function_body(net, g, names, &[g.loss], "training_loss", comments, None);
        let value = &ret[0];
        let dropout = g
            .nodes
            .iter()
            .any(|n| matches!(n.op, Op::DropoutMask { .. }));
        let checks = checks(net, g);
        let mut modes = Modes {
            checks: checks.clone(),
            methods: quote! {
                /// The loss E on a batch in training mode: what [`Self::gradients`]
                /// and [`Self::train_step`] return and differentiate (dropout
                /// drops with the masks of the next step). [`Self::loss`] is the
                /// inference mode's. Changes nothing.
                #(#[doc = #args_doc])*
                pub fn training_loss(&self, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<#t, ::denpa::Error> {
                    let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                    #(#input_checks)*
                    #(#target_checks)*
                    shapes.require_samples()?;
                    #checks
                    #body
                    Ok(#value)
                }
            },
            trait_items: quote! {
                fn training_loss_dyn<'a, 'b, A: ::denpa::runtime::AsArg<'a, #t>, B: ::denpa::runtime::AsArg<'b, #t>>(
                    &self,
                    inputs: &[A],
                    targets: &[B],
                ) -> ::core::result::Result<#t, ::denpa::Error> {
                    #dyn_args
                    self.training_loss(#(#input_names,)* #(#target_names),*)
                }
            },
            net_doc: vec![
                String::new(),
                " # Training and inference".into(),
                String::new(),
                format!(
                    " Some layers of {net_name} behave differently while training ({}).",
                    g.mode_layers().join("; ")
                ),
                " Training mode: `train_step`, `gradients`, `gradients_into`, `gradcheck`,".into(),
                " `training_loss`. Inference mode: `forward`, `forward_into`, `loss`, the".into(),
                " ONNX export. `gradients` and `train_step` return the training-mode loss".into(),
                " (`training_loss`), `loss` the inference mode's.".into(),
            ],
            ..Modes::default()
        };
        // batch_norm: the running statistics, public fields beside the
        // parameters, and the check that a training batch can have them.
        if !net.statistics.is_empty() {
            let idents: Vec<proc_macro2::Ident> = net
                .statistics
                .iter()
                .map(|s| quote::format_ident!("{}", s.name))
                .collect();
            let names: Vec<&str> = net.statistics.iter().map(|s| s.name.as_str()).collect();
            let docs: Vec<String> = net
                .statistics
                .iter()
                .map(|s| format!(" {}", s.docs.join(" ")))
                .collect();
            let types: Vec<TokenStream> = net
                .statistics
                .iter()
                .map(|s| super::array_type(t, s.shape.len()))
                .collect();
            let inits: Vec<TokenStream> = net
                .statistics
                .iter()
                .map(|s| super::init::init_tokens(t, &s.shape, &s.init))
                .collect();
            modes.fields.extend(quote! {
                #(#[doc = #docs] pub #idents: #types,)*
            });
            modes.inits.extend(quote!(#(#idents: #inits,)*));
            modes.trait_items.extend(quote! {
                fn statistics(&self) -> ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewD<'_, #t>)> {
                    ::std::vec![#((#names, self.#idents.view().into_dyn())),*]
                }

                fn statistics_mut(&mut self) -> ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewMutD<'_, #t>)> {
                    ::std::vec![#((#names, self.#idents.view_mut().into_dyn())),*]
                }
            });
        }
        if dropout {
            modes.uses_seed = true;
            modes.fields.extend(quote! {
                /// The seed of the dropout masks: with the optimizer's step
                /// count, the sample's row and the element, it decides every
                /// mask (a stream of its own, not the initializers').
                dropout_seed: u64,
            });
            modes.inits.extend(quote!(dropout_seed: seed,));
            modes.methods.extend(quote! {
                /// The seed of the dropout masks (`with_seed`'s seed, saved in
                /// checkpoints). The masks of a step are a pure function of it,
                /// the step count, the sample's row and the element: the same
                /// for [`Self::gradients`] and the [`Self::train_step`] after it.
                pub fn dropout_seed(&self) -> u64 {
                    self.dropout_seed
                }

                /// Sets the seed of the dropout masks.
                pub fn set_dropout_seed(&mut self, seed: u64) {
                    self.dropout_seed = seed;
                }
            });
            modes.trait_items.extend(quote! {
                fn dropout_seed(&self) -> ::core::option::Option<u64> {
                    Some(self.dropout_seed)
                }

                fn set_dropout_seed(&mut self, seed: u64) {
                    self.dropout_seed = seed;
                }
            });
        }
        modes
    }
}

/// `shapes.require_statistic_values("h", T)?;` for each batch normalization:
/// a training batch must give each statistic at least 2 values.
fn checks(net: &Net, g: &Graph) -> TokenStream {
    let mut checks = TokenStream::new();
    for n in &g.nodes {
        if let Op::BatchStat { running } = n.op {
            let s = &net.statistics[running];
            if s.variance {
                continue;
            }
            let layer = &s.layer;
            let per = super::tiny::dim(g.node(n.args[0]).ty.values_per_feature());
            checks.extend(quote!(shapes.require_statistic_values(#layer, #per)?;));
        }
    }
    checks
}
