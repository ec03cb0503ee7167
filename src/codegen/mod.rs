//! Graph → Rust: the items a network becomes, as a `TokenStream`.
//!
//! The output is what `net!` expands to and what `denpa expand` prints (with
//! comments added by [`pretty`]): one emission for both. Generated code names
//! everything by absolute paths (`::denpa::…`), so it compiles in any module,
//! and uses no `unsafe`.

mod api;
mod body;
mod comments;
mod init;
mod kernels;
mod loops;
mod modes;
mod optimizer;
mod plan;
pub mod pretty;
mod products;
mod reduce;
mod scalar;
mod sequences;
mod tiny;
mod train;

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

pub use init::init_text;
pub use plan::{physical_rank, Emitter, MAX_FUSED};

use crate::check::Net;
use crate::ir::{names, Graph};
use crate::lang::{literal, Dtype};
use api::Api;
use body::{array_path, array_type, function_body, Workspace};
use train::InPlace;

/// The Rust items of one network, with the comments for people.
#[derive(Debug, Clone)]
pub struct Output {
    /// The network's name.
    pub name: String,
    /// The items: the struct, its gradients struct, and their impls.
    pub tokens: TokenStream,
    /// Comment lines for each `let` in the generated functions, keyed
    /// `function/name` (`gradients/delta_z_h`).
    pub comments: BTreeMap<String, Vec<String>>,
    /// Whether `train_step` takes the scalar form of tiny networks
    /// (`scalar.rs`): every value a local, one loop over the batch.
    pub scalar_step: bool,
}

/// Emits the items of one network from its derived training graph `g` and,
/// when its layers differ between the modes (LANGUAGE.md §13), its inference
/// graph: `loss`, `forward` and `forward_into` compute that one. `source` is
/// the network's own text, kept in the generated `SOURCE` constant;
/// `explanation` its worked derivation (`explain`'s text), returned by the
/// generated `explain()`.
pub fn emit(
    net: &Net,
    g: &Graph,
    inference: Option<&Graph>,
    source: &str,
    explanation: &str,
) -> Output {
    let names = names(net, g);
    let (ig, inames) = match inference {
        Some(ig) => (ig, body::inference_names(net, g, &names, ig)),
        None => (g, names.clone()),
    };
    let name = format_ident!("{}", net.name);
    let grads_name = format_ident!("{}Grads", net.name);
    let net_name = &net.name;
    let mut comments = BTreeMap::new();
    let api = Api::of(net, g);
    let t = &api.t;

    // loss
    let (loss_body, loss_ret) =
        function_body(net, ig, &inames, &[ig.loss], "loss", &mut comments, None);
    let loss_value = &loss_ret[0];

    // gradients
    let mut grad_roots = vec![g.loss];
    grad_roots.extend(g.gradients.iter().copied());
    let (grads_body, grads_ret) = function_body(
        net,
        g,
        &names,
        &grad_roots,
        "gradients",
        &mut comments,
        None,
    );
    let grads_loss = &grads_ret[0];
    let grads_values = &grads_ret[1..];

    // train_step, gradients_into and forward_into, in one workspace; for a
    // tiny network, train_step in the scalar form instead
    let step = InPlace::plan(
        net,
        g,
        &names,
        (ig, &inames),
        t,
        &api.param_idents,
        &mut comments,
    );
    let modes = modes::Modes::of(net, g, inference.is_some(), &names, &api, &mut comments);
    let scalar_step = scalar::train_step(net, g, &names, &train::train_roots(g), &mut comments);
    let gradients_into_doc: Vec<String> = format!(
        " [`Self::gradients`] into a gradients struct the caller owns (start from\n [`{}Grads::zeros`]), with the intermediates in a workspace the caller keeps:\n no allocation once the workspace has seen the batch size. Returns the loss.",
        net.name
    )
    .lines()
    .map(String::from)
    .collect();
    let grads_zeros_doc = format!(
        " Gradients of zeros, shaped like the parameters: a buffer for [`{}::gradients_into`].",
        net.name
    );
    let workspace_name = format_ident!("{}Workspace", net.name);
    let packing_field = if step.workspace.packing {
        quote! {
            /// The packed panels of the larger products.
            packing: ::denpa::runtime::Packing<#t>,
        }
    } else {
        quote!()
    };
    let conv_field = if step.workspace.conv {
        quote! {
            /// The columns (im2col) of the convolutions and their products.
            conv_scratch: ::denpa::runtime::ConvScratch<#t>,
        }
    } else {
        quote!()
    };
    let columns: Vec<Ident> = step
        .workspace
        .columns
        .iter()
        .map(|c| format_ident!("{c}"))
        .collect();
    // forward_dyn: each output as a dynamic-rank array (a scalar one as
    // rank 0), under its name.
    let output_vars: Vec<Ident> = (0..g.outputs.len())
        .map(|k| format_ident!("output_{k}"))
        .collect();
    let output_strs: Vec<&str> = g.outputs.iter().map(|o| o.0.as_str()).collect();
    let output_dyn: Vec<TokenStream> = g
        .outputs
        .iter()
        .zip(&output_vars)
        .map(|((_, id), v)| {
            if plan::physical_rank(&g.node(*id).ty) == 0 {
                quote!(::denpa::ndarray::arr0(#v).into_dyn())
            } else {
                quote!(#v.into_dyn())
            }
        })
        .collect();
    let output_pattern = match output_vars.as_slice() {
        [one] => quote!(#one),
        all => quote!((#(#all),*)),
    };
    let output_dims: Vec<Vec<TokenStream>> = g
        .outputs
        .iter()
        .map(|(_, id)| g.node(*id).ty.shape.iter().map(|d| tiny::dim(*d)).collect())
        .collect();
    let ws_names: Vec<&Ident> = step.workspace.fields.iter().map(|f| &f.0).collect();
    let ws_types: Vec<&TokenStream> = step.workspace.fields.iter().map(|f| &f.1).collect();
    let ws_dims: Vec<&TokenStream> = step.workspace.fields.iter().map(|f| &f.2).collect();
    // `Array2::<f32>` builds; the field's type is `Array2<f32>`.
    let ws_fields: Vec<TokenStream> = step
        .workspace
        .fields
        .iter()
        .map(|f| {
            syn::parse_str::<TokenStream>(&f.1.to_string().replace(":: <", "<")).expect("a type")
        })
        .collect();
    let ws_doc = format!(
        " The arrays [`{}::train_step`] reuses from step to step, so that a step allocates nothing once the batch size is set.",
        net.name
    );
    let (fd_step, fd_floor) = match net.dtype {
        Dtype::F64 => (literal(1e-6).0, literal(1e-6).0),
        Dtype::F32 => (literal(1e-2).0, literal(1e-2).0),
    };
    let optimizer_name = &step.optimizer.name;
    let optimizer_struct = &step.optimizer.item;
    let optimizer_init = &step.optimizer.init;
    let optimizer_update = &step.optimizer.update;
    let state_fields = &step.optimizer.fields;
    let state_names: Vec<String> = state_fields.iter().map(|f| f.to_string()).collect();
    let (seed, rng, inits) = init::with_seed(net, t);
    let seed = if modes.uses_seed { quote!(seed) } else { seed };
    let modes::Modes {
        fields: mode_fields,
        inits: mode_inits,
        methods: mode_methods,
        trait_items: mode_trait_items,
        net_doc: mode_doc,
        checks: mode_checks,
        ..
    } = &modes;
    let source_lit = source;
    let explanation = api::shortened(explanation);
    let Api {
        param_idents,
        param_types,
        param_docs,
        param_names,
        param_zeros,
        grad_docs,
        net_docs,
        grads_doc,
        input_args,
        target_args,
        shared_args,
        input_names,
        target_names,
        input_checks,
        target_checks,
        forward_doc,
        args_doc,
        forward_type,
        input_strs,
        target_strs,
        input_dims,
        target_dims,
        input_ranges,
        target_ranges,
        gradcheck_args,
        dyn_args,
        dyn_inputs,
        ..
    } = &api;
    let forward_returns = match step.output_idents.as_slice() {
        [one] => quote!(#one),
        all => quote!((#(#all),*)),
    };
    let InPlace {
        sums_body: train_body,
        sums_loss: train_loss,
        sum_names,
        sum_grads,
        factor_names,
        factor_refs,
        into_grads,
        stat_updates,
        forward_into_body,
        output_idents,
        output_refs,
        output_stores,
        output_news,
        output_types,
        ..
    } = &step;

    let train_step_fns = match &scalar_step {
        Some(body) => quote! {
            /// One step of training: forward, backward, and the optimizer's
            /// update. Returns the loss before the update. If the loss or a
            /// gradient is not finite, returns an error and changes nothing.
            ///
            /// In the scalar form of tiny networks: each sample's forward and
            /// backward pass in locals, one loop over the batch; the
            /// parameters read once and written back once.
            #(#[doc = #args_doc])*
            pub fn train_step(&mut self, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<#t, ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                #(#target_checks)*
                shapes.require_samples()?;
                #body
            }
        },
        None => quote! {
            /// One step of training: forward, backward, and the optimizer's
            /// update. Returns the loss before the update. If the loss or a
            /// gradient is not finite, returns an error and changes nothing.
            #(#[doc = #args_doc])*
            pub fn train_step(&mut self, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<#t, ::denpa::Error> {
                // The workspace is lent out while the step computes into it
                // (taking the box moves a pointer; the first step makes it).
                let mut ws = self.workspace.0.take().unwrap_or_default();
                let result = self.step_with(&mut ws, #(#input_names,)* #(#target_names),*);
                self.workspace.0 = Some(ws);
                result
            }

            /// `train_step` with the workspace given.
            fn step_with(&mut self, ws: &mut #workspace_name, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<#t, ::denpa::Error> {
                let (loss, samples) = self.gradient_sums(ws, #(#input_names,)* #(#target_names),*)?;
                // Nothing changes unless the loss and every gradient are finite.
                ::denpa::runtime::ensure_finite(#net_name, "the loss", loss)?;
                #(::denpa::runtime::ensure_all_finite(#net_name, #sum_names, &#sum_grads)?;)*
                #(::denpa::runtime::ensure_all_finite(#net_name, #factor_names, &#factor_refs)?;)*
                // ∂E/∂W = (1/N) Σ_b ∂ℓ_b/∂W: the sums, scaled in the update.
                let scale = 1.0 / samples as #t;
                #optimizer_update
                #stat_updates
                Ok(loss)
            }

        },
    };

    let tokens = quote! {
        #(#[doc = #net_docs])*
        #(#[doc = #mode_doc])*
        #[derive(Debug, Clone, PartialEq)]
        #[allow(non_snake_case)] // parameters keep their `.nn` names (W1, b1)
        pub struct #name {
            #(
                #(#[doc = #param_docs])*
                pub #param_idents: #param_types,
            )*
            /// The optimizer's state: its step count and moments.
            optimizer: #optimizer_name,
            #mode_fields
            /// Buffers reused by `train_step` (not part of the network's value).
            workspace: ::denpa::runtime::Scratch<::core::option::Option<::std::boxed::Box<#workspace_name>>>,
            /// Buffers reused by `forward` (not part of the network's value).
            inference: ::denpa::runtime::Shared<#workspace_name>,
        }

        #[doc = #ws_doc]
        #[derive(Debug, Clone, Default)]
        #[allow(non_snake_case)] // fields are named after the values they hold
        pub struct #workspace_name {
            batch: ::core::option::Option<usize>,
            #packing_field
            #conv_field
            #(
                /// The im2col matrix a convolution keeps for its kernel gradient.
                #columns: ::denpa::runtime::Columns<#t>,
            )*
            #(#ws_names: #ws_fields,)*
        }

        impl #workspace_name {
            /// Sizes every array for `batch` samples; nothing happens when it already is.
            fn ensure(&mut self, batch: usize) {
                if self.batch != Some(batch) {
                    self.batch = Some(batch);
                    #(self.#ws_names = #ws_types::zeros(#ws_dims);)*
                }
            }
        }

        #optimizer_struct

        #[doc = #grads_doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(non_snake_case)] // the same names as the parameters
        pub struct #grads_name {
            #(
                #[doc = #grad_docs]
                pub #param_idents: #param_types,
            )*
        }

        impl #grads_name {
            #[doc = #grads_zeros_doc]
            pub fn zeros() -> Self {
                Self { #(#param_idents: #param_zeros,)* }
            }
        }

        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self::new()
            }
        }

        // Generated names follow the math (grad_W1, delta_z_h); several
        // inputs and targets make several arguments.
        // Folded constants can equal π or ln 2 to the last digit.
        #[allow(non_snake_case, clippy::too_many_arguments, clippy::type_complexity, clippy::approx_constant,
            // The code follows the network's arithmetic as written (`-1 * x`, `x * 1`).
            clippy::neg_multiply, clippy::identity_op, clippy::erasing_op,
            // The scalar form's array literals of products (`[x[0] * w[0]]`):
            // every generated token has the macro call's span, which clippy
            // reads as an operator on another line than its operand.
            clippy::possible_missing_comma)]
        impl #name {
            /// The network's `.nn` source text.
            pub const SOURCE: &'static str = #source_lit;

            /// How this network learns, worked out like a textbook: the
            /// forward pass, the chain rule for every parameter, the shared
            /// products, the update, and what sharing saves (as `denpa explain`).
            pub fn explain() -> &'static str {
                #explanation
            }

            /// The network with parameters drawn from the default seed.
            pub fn new() -> Self {
                Self::with_seed(::denpa::runtime::DEFAULT_SEED)
            }

            /// The network with parameters drawn from `seed`: the same seed
            /// gives the same parameters on every run and machine.
            pub fn with_seed(#seed: u64) -> Self {
                #rng
                Self {
                    #(#param_idents: #inits,)*
                    optimizer: #optimizer_init,
                    #mode_inits
                    workspace: ::core::default::Default::default(),
                    inference: ::core::default::Default::default(),
                }
            }

            #(#[doc = #forward_doc])*
            ///
            /// Runs [`Self::forward_into`] in a workspace the network keeps
            /// (one per network: a call that finds it in use, on another
            /// thread, works in a fresh one), so that only the outputs are
            /// allocated.
            pub fn forward(&self, #(#input_args),*) -> ::core::result::Result<#forward_type, ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                let batch = shapes.samples();
                #(let mut #output_idents: #output_types = #output_news;)*
                let mut ws = self.inference.take().unwrap_or_default();
                let result = self.forward_into(&mut ws, #(#input_names,)* #(&mut #output_idents),*);
                self.inference.put(ws);
                result?;
                Ok(#forward_returns)
            }

            /// The loss E on a batch: the mean of the per-sample losses.
            #(#[doc = #args_doc])*
            pub fn loss(&self, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<#t, ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                #(#target_checks)*
                shapes.require_samples()?;
                #loss_body
                Ok(#loss_value)
            }

            /// The loss E on a batch and its gradient with respect to every
            /// parameter, by the backward pass derived at compile time.
            #(#[doc = #args_doc])*
            pub fn gradients(&self, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<(#t, #grads_name), ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                #(#target_checks)*
                shapes.require_samples()?;
                #mode_checks
                #grads_body
                Ok((#grads_loss, #grads_name { #(#param_idents: #grads_values),* }))
            }

            #train_step_fns

            /// The loss and, in the workspace, each parameter's gradient summed
            /// over the batch; also the number of samples.
            fn gradient_sums(&self, ws: &mut #workspace_name, #(#input_args,)* #(#target_args),*) -> ::core::result::Result<(#t, usize), ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                #(#target_checks)*
                shapes.require_samples()?;
                #mode_checks
                ws.ensure(shapes.samples());
                #train_body
                Ok((#train_loss, shapes.samples()))
            }

            /// [`Self::forward`] into output arrays the caller owns, with the
            /// intermediates in a workspace the caller keeps between calls
            /// (`Default::default()` to start): no allocation once the
            /// workspace has seen the batch size. Each output must already
            /// have its shape, one row per sample.
            pub fn forward_into(&self, ws: &mut #workspace_name, #(#input_args,)* #(#output_idents: #output_refs),*) -> ::core::result::Result<(), ::denpa::Error> {
                let mut shapes = ::denpa::runtime::Batch::new(#net_name);
                #(#input_checks)*
                ws.ensure(shapes.samples());
                #forward_into_body
                #(#output_stores)*
                Ok(())
            }

            #(#[doc = #gradients_into_doc])*
            pub fn gradients_into(&self, ws: &mut #workspace_name, #(#input_args,)* #(#target_args,)* grads: &mut #grads_name) -> ::core::result::Result<#t, ::denpa::Error> {
                let (loss, samples) = self.gradient_sums(ws, #(#input_names,)* #(#target_names),*)?;
                // ∂E/∂W = (1/N) Σ_b ∂ℓ_b/∂W
                let scale = 1.0 / samples as #t;
                #(#into_grads)*
                Ok(loss)
            }

            /// Saves the parameters as a safetensors file, one tensor per
            /// parameter under its `.nn` name. The write is atomic.
            pub fn save(&self, path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<(), ::denpa::Error> {
                ::denpa::runtime::weights::save(self, path.as_ref())
            }

            /// Exports the forward pass (every output) with the current
            /// parameters as an ONNX model (opset 21), for ONNX Runtime,
            /// PyTorch or a serving stack: inputs and outputs named as in the
            /// `.nn` file with a symbolic batch dimension, the `.nn` source in
            /// the metadata (see `denpa::onnx`). The write is atomic.
            pub fn to_onnx(&self, path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<(), ::denpa::Error> {
                ::denpa::onnx::save(self, path.as_ref())
            }

            /// Loads parameters saved by [`Self::save`], refusing any name,
            /// shape or dtype that does not match. The optimizer starts afresh.
            pub fn load(path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<Self, ::denpa::Error> {
                let mut net = Self::new();
                ::denpa::runtime::weights::load_into(&mut net, path.as_ref())?;
                Ok(net)
            }

            /// Compares this network's derived gradients on a batch with
            /// central finite differences of its loss, element by element.
            /// In `f32` expect relative errors near 1e-2; in `f64`, near 1e-8.
            #(#[doc = #args_doc])*
            pub fn gradcheck<'a>(&self, #(#shared_args),*) -> ::core::result::Result<::denpa::runtime::GradcheckReport, ::denpa::Error> {
                #gradcheck_args
                ::denpa::runtime::gradcheck(self, &inputs, &targets, #fd_step, #fd_floor)
            }

            /// Saves a checkpoint: the parameters and the optimizer's state,
            /// so that training resumed from it continues bit for bit. The
            /// write is atomic.
            pub fn save_checkpoint(&self, path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<(), ::denpa::Error> {
                ::denpa::runtime::weights::save_checkpoint(self, path.as_ref())
            }

            /// Loads a checkpoint saved by [`Self::save_checkpoint`],
            /// refusing any name, shape or dtype that does not match.
            pub fn load_checkpoint(path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<Self, ::denpa::Error> {
                let mut net = Self::new();
                ::denpa::runtime::weights::load_checkpoint_into(&mut net, path.as_ref())?;
                Ok(net)
            }

            /// The optimizer's state: its step count and moments.
            pub fn optimizer(&self) -> &#optimizer_name {
                &self.optimizer
            }

            #mode_methods
        }

        impl ::denpa::Network for #name {
            type Scalar = #t;
            const NAME: &'static str = #net_name;

            fn parameters(&self) -> ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewD<'_, #t>)> {
                ::std::vec![#((#param_names, self.#param_idents.view().into_dyn())),*]
            }

            fn parameters_mut(&mut self) -> ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewMutD<'_, #t>)> {
                ::std::vec![#((#param_names, self.#param_idents.view_mut().into_dyn())),*]
            }

            fn with_seed(seed: u64) -> Self {
                #name::with_seed(seed)
            }

            fn optimizer_state(&self) -> (u64, ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewD<'_, #t>)>) {
                (self.optimizer.step, ::std::vec![#((#state_names, self.optimizer.#state_fields.view().into_dyn())),*])
            }

            fn optimizer_state_mut(&mut self) -> (&mut u64, ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewMutD<'_, #t>)>) {
                let state = &mut self.optimizer;
                (&mut state.step, ::std::vec![#((#state_names, state.#state_fields.view_mut().into_dyn())),*])
            }

            const INPUTS: &'static [(&'static str, &'static [usize])] = &[#((#input_strs, &[#(#input_dims),*])),*];
            const TARGETS: &'static [(&'static str, &'static [usize])] = &[#((#target_strs, &[#(#target_dims),*])),*];
            const INPUT_RANGES: &'static [::core::option::Option<usize>] = &[#(#input_ranges),*];
            const TARGET_RANGES: &'static [::core::option::Option<usize>] = &[#(#target_ranges),*];

            const OUTPUTS: &'static [(&'static str, &'static [usize])] = &[#((#output_strs, &[#(#output_dims),*])),*];
            const SOURCE: &'static str = #name::SOURCE;

            fn forward_dyn<'a, A: ::denpa::runtime::AsArg<'a, #t>>(
                &self,
                inputs: &[A],
            ) -> ::core::result::Result<::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayD<#t>)>, ::denpa::Error> {
                #dyn_inputs
                let #output_pattern = self.forward(#(#input_names),*)?;
                Ok(::std::vec![#((#output_strs, #output_dyn)),*])
            }

            fn loss_dyn<'a, 'b, A: ::denpa::runtime::AsArg<'a, #t>, B: ::denpa::runtime::AsArg<'b, #t>>(
                &self,
                inputs: &[A],
                targets: &[B],
            ) -> ::core::result::Result<#t, ::denpa::Error> {
                #dyn_args
                self.loss(#(#input_names,)* #(#target_names),*)
            }

            fn train_step_dyn<'a, 'b, A: ::denpa::runtime::AsArg<'a, #t>, B: ::denpa::runtime::AsArg<'b, #t>>(
                &mut self,
                inputs: &[A],
                targets: &[B],
            ) -> ::core::result::Result<#t, ::denpa::Error> {
                #dyn_args
                self.train_step(#(#input_names,)* #(#target_names),*)
            }

            fn gradients_dyn<'a, 'b, A: ::denpa::runtime::AsArg<'a, #t>, B: ::denpa::runtime::AsArg<'b, #t>>(
                &self,
                inputs: &[A],
                targets: &[B],
            ) -> ::core::result::Result<(#t, ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayD<#t>)>), ::denpa::Error> {
                #dyn_args
                let (loss, grads) = self.gradients(#(#input_names,)* #(#target_names),*)?;
                Ok((loss, ::std::vec![#((#param_names, grads.#param_idents.into_dyn())),*]))
            }

            #mode_trait_items
        }

        impl ::denpa::Gradients for #grads_name {
            type Scalar = #t;

            fn tensors(&self) -> ::std::vec::Vec<(&'static str, ::denpa::ndarray::ArrayViewD<'_, #t>)> {
                ::std::vec![#((#param_names, self.#param_idents.view().into_dyn())),*]
            }
        }
    };
    Output {
        name: net.name.clone(),
        tokens,
        comments,
        scalar_step: scalar_step.is_some(),
    }
}
