//! The statements of one generated function, planned from its roots, and
//! the workspace the in-place functions share.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Emitter;
use crate::check::Net;
use crate::ir::{Graph, NodeId, Op};

/// What the in-place functions keep between calls: the arrays (name, type,
/// dimensions in `batch`), and whether any product packs its panels there.
#[derive(Default)]
pub(super) struct Workspace {
    pub(super) fields: Vec<(Ident, TokenStream, TokenStream)>,
    /// The fields' names, to add each once.
    pub(super) names: BTreeSet<String>,
    pub(super) packing: bool,
    /// Whether a convolution keeps its columns there.
    pub(super) conv: bool,
    /// The im2col matrices kept from a convolution for its kernel gradient.
    pub(super) columns: BTreeSet<String>,
}

/// The statements of one function and the expressions of its roots (a root
/// returned twice is cloned).
pub(super) fn function_body(
    net: &Net,
    g: &Graph,
    names: &[String],
    roots: &[NodeId],
    function: &str,
    comments: &mut BTreeMap<String, Vec<String>>,
    workspace: Option<&mut Workspace>,
) -> (TokenStream, Vec<TokenStream>) {
    let mut e = match workspace {
        Some(_) => Emitter::in_place(net, g, names, roots),
        None => Emitter::new(net, g, names, roots),
    };
    let body = e.statements();
    if let Some(ws) = workspace {
        for field in e.fields.drain(..) {
            if ws.names.insert(field.0.to_string()) {
                ws.fields.push(field);
            }
        }
        ws.packing |= e.uses_packing;
        ws.conv |= e.uses_conv;
        ws.columns.extend(std::mem::take(&mut e.columns));
    }
    // Keyed by function: a `let` shared in one function may not be in another.
    comments.extend(
        body.comments
            .into_iter()
            .map(|(name, lines)| (format!("{function}/{name}"), lines)),
    );
    let mut prelude = TokenStream::new();
    if e.uses_batch || e.uses_batch_size {
        prelude.extend(quote!(let batch = shapes.samples();));
    }
    if e.uses_batch_size {
        let t = syn::parse_str::<TokenStream>(net.dtype.rust_name()).expect("a type name");
        prelude.extend(quote!(let batch_size = batch as #t;));
    }
    let statements = body.statements;
    let mut returns = Vec::new();
    // How many times each root is still to be returned.
    let mut left: BTreeMap<NodeId, usize> = BTreeMap::new();
    for r in roots {
        *left.entry(*r).or_default() += 1;
    }
    for r in roots {
        let reference = e.reference(*r);
        let count = left.get_mut(r).expect("counted above");
        *count -= 1;
        let later = *count > 0;
        let owned = match g.node(*r).op {
            Op::Input(_) | Op::Target(_) => quote!(#reference.to_owned()),
            Op::Param(_) | Op::Statistic(_) => quote!(#reference.clone()),
            _ if later => quote!(#reference.clone()),
            _ => reference,
        };
        returns.push(owned);
    }
    (quote!(#prelude #statements), returns)
}

/// `::denpa::ndarray::ArrayN<T>`, the owned array of a rank (rank 0: `T`).
pub(super) fn array_type(t: &TokenStream, rank: usize) -> TokenStream {
    if rank == 0 {
        return quote!(#t);
    }
    let array = format_ident!("Array{rank}");
    quote!(::denpa::ndarray::#array<#t>)
}

/// `::denpa::ndarray::ArrayN::<T>`, to call a constructor of the array of a
/// rank (at least 1).
pub(super) fn array_path(t: &TokenStream, rank: usize) -> TokenStream {
    let array = format_ident!("Array{rank}");
    quote!(::denpa::ndarray::#array::<#t>)
}

/// The names of the inference graph `ig` beside the training graph `g`'s
/// `names`: the in-place functions of both modes share one workspace, whose
/// fields are found by name, so a name that the two graphs give to values
/// of different types is made the inference mode's own (`_inference`).
pub(super) fn inference_names(net: &Net, g: &Graph, names: &[String], ig: &Graph) -> Vec<String> {
    let types: BTreeMap<&str, &crate::lang::Type> = g
        .ids()
        .map(|id| (names[id.index()].as_str(), &g.node(id).ty))
        .collect();
    crate::ir::names(net, ig)
        .into_iter()
        .zip(ig.ids())
        .map(|(name, id)| match types.get(name.as_str()) {
            Some(ty) if **ty != ig.node(id).ty => format!("{name}_inference"),
            _ => name,
        })
        .collect()
}
