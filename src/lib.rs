//! denpa (伝播, "propagation"): a compiler from a small language for neural
//! networks to specialized Rust, whose backward pass is derived by the chain
//! rule at compile time.
//!
//! The whole compiler is the chain in [`compile`]:
//!
//! ```text
//! .nn text ─parse─▶ AST ─check─▶ typed network ─build─▶ forward graph
//!          ─derive─▶ forward + backward graph ─optimize─▶ shared, no dead code
//!          ─emit─▶ Rust tokens ─pretty─▶ readable Rust
//! ```
//!
//! Users write networks in `.nn` files or inline with `denpa_macros::net!`;
//! the generated code calls [`runtime`] and re-exported [`ndarray`].
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod autodiff;
pub mod build;
pub mod check;
pub mod codegen;
pub mod data;
pub mod diagnostics;
mod error;
pub mod evaluate;
pub mod explain;
pub mod ir;
pub mod lang;
pub mod lints;
#[cfg(feature = "cli")]
pub mod lsp;
pub mod onnx;
pub mod optimize;
#[cfg(feature = "page")]
pub mod page;
pub mod runtime;
pub mod syntax;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use error::Error;
pub use ndarray;
pub use runtime::{Arg, Gradients, Network};

use codegen::Output;

/// Compiles `.nn` source text: every network in it, as Rust items. On
/// success, warnings come back beside the output.
pub fn compile(source: &str) -> Result<(Vec<Output>, Diagnostics), Diagnostics> {
    let Checked {
        nets,
        mut warnings,
        texts,
        ..
    } = checked(source)?;
    let outputs = nets
        .iter()
        .map(|net| {
            let graph = ir::build(net, ir::Mode::Training);
            warnings.extend(lints::lints(net, &graph));
            let graph = autodiff::derive(graph);
            let graph = optimize::run(graph);
            emit(net, &graph, own(&texts, net))
        })
        .collect();
    Ok((outputs, warnings))
}

/// The Rust items of one network of `source`, its worked derivation kept in
/// the generated `explain()`: code generation and `explain` meet here, and
/// neither calls the other.
///
/// The generated `SOURCE` is the network's own text, after the file's
/// blocks if it has any (`own`, from [`Checked`]): a text that checks on
/// its own, to the same network.
fn emit(net: &check::Net, graph: &ir::Graph, own: &str) -> Output {
    let explanation = explain::explain(net, graph, explain::Format::Text);
    // The inference mode's graph, where it differs (dropout, batch norm).
    let inference = graph.has_modes().then(|| inference(net));
    codegen::emit(net, graph, inference.as_ref(), own, &explanation)
}

/// One network's forward graph in inference mode, optimized.
fn inference(net: &check::Net) -> ir::Graph {
    optimize::run(ir::build(net, ir::Mode::Inference))
}

/// A network's own text (see [`Checked::texts`]).
fn own<'a>(texts: &'a [(String, String)], net: &check::Net) -> &'a str {
    texts
        .iter()
        .find(|(name, _)| *name == net.name)
        .map_or("", |(_, text)| text.as_str())
}

/// A file's networks, checked.
struct Checked {
    nets: Vec<check::Net>,
    /// Each network's own text, by name: the file's blocks, each followed
    /// by a blank line, then the network's doc comments and text. It checks
    /// on its own to the same network (the generated `SOURCE`, the ONNX
    /// model's metadata).
    texts: Vec<(String, String)>,
    /// Each network's name as written, in file order.
    names: Vec<syntax::ast::Ident>,
    warnings: Diagnostics,
}

/// Parses and checks every network of a text, reporting the errors of every
/// network even when one has a syntax error.
/// Checks `.nn` source text without generating code, as `denpa check` (and
/// `cargo check`) do: every error and warning that [`compile`] reports,
/// found by the front end and the lints alone. On success, the warnings.
pub fn check_source(source: &str) -> Result<Diagnostics, Diagnostics> {
    let Checked {
        nets, mut warnings, ..
    } = checked(source)?;
    for net in &nets {
        warnings.extend(lints::lints(net, &ir::build(net, ir::Mode::Training)));
    }
    Ok(warnings)
}

fn checked(source: &str) -> Result<Checked, Diagnostics> {
    // A syntax error in one network does not hide the other networks' errors.
    let (file, mut syntax_errors) = syntax::parse_recovering(source);
    if syntax_errors.has_errors() {
        if let Err(more) = check::check(&file) {
            if !file.networks.is_empty() {
                syntax_errors.extend(more);
            }
        }
        syntax_errors.sort_by_position();
        return Err(syntax_errors);
    }
    let (nets, warnings) = check::check(&file)?;
    let blocks: String = file
        .blocks
        .iter()
        .map(|b| format!("{}\n\n", &source[b.span.range()]))
        .collect();
    let texts = file
        .networks
        .iter()
        .map(|n| {
            // The span starts at `network`: the doc comments are written
            // back before it as they were read.
            let docs: String = n.docs.iter().map(|d| format!("/// {d}\n")).collect();
            let text = format!("{blocks}{docs}{}", &source[n.span.range()]);
            (n.name.name.clone(), text)
        })
        .collect();
    let names = file.networks.into_iter().map(|n| n.name).collect();
    Ok(Checked {
        nets,
        texts,
        names,
        warnings,
    })
}

/// A file's bytes as text, or, when they are not UTF-8, the text with
/// replacement characters and an error at the first bad byte.
pub fn source_text(bytes: &[u8]) -> Result<&str, (String, Diagnostics)> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let error = Diagnostic::error(
            diagnostics::Span::new(at, at + 1),
            format!("this file is not UTF-8 text: invalid byte at offset {at}"),
        )
        .label("not UTF-8")
        .help("save the file as UTF-8");
        (String::from_utf8_lossy(bytes).into_owned(), error.into())
    })
}

/// The derived and optimized graph of each network, for tests and tools.
pub fn graphs(source: &str) -> Result<Vec<ir::Graph>, Diagnostics> {
    let file = syntax::parse(source)?;
    let (nets, _) = check::check(&file)?;
    Ok(nets.iter().map(derived).collect())
}

/// One network's forward and backward graph, optimized.
pub(crate) fn derived(net: &check::Net) -> ir::Graph {
    optimize::run(autodiff::derive(ir::build(net, ir::Mode::Training)))
}

/// What a command shows of a network: each view makes one document per
/// network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `denpa expand`: the generated Rust, with the derivation as comments.
    Rust,
    /// `denpa explain`: the derivation as a worked example.
    Explain(explain::Format),
    /// `denpa summary`: the table of values, shapes, parameters and FLOPs.
    Summary,
    /// `denpa graph`: the forward and backward graph as Graphviz DOT.
    Dot,
    /// `denpa graph --format svg`: the graph drawn as SVG, in Rust (by
    /// layout-rs, behind the `cli` feature).
    #[cfg(feature = "cli")]
    Svg,
}

impl View {
    /// Whether the documents of several networks can follow one another in
    /// one output. Text can (Rust items, explanations and tables, each
    /// headed by its network's name); a drawing cannot: an SVG file is one
    /// image, and a DOT file one graph (Graphviz reads several from one file
    /// only partly: its SVG output of them is not one well-formed document).
    pub fn holds_several(self) -> bool {
        match self {
            View::Rust | View::Explain(_) | View::Summary => true,
            View::Dot => false,
            #[cfg(feature = "cli")]
            View::Svg => false,
        }
    }

    /// The name of the file that holds a network's document, when each
    /// network gets its own (`denpa … -o DIR`): `Xor.rs`, `Xor.explain.txt`,
    /// `Xor.explain.md`, `Xor.summary.txt`, `Xor.dot`, `Xor.svg`.
    pub fn file_name(self, network: &str) -> String {
        let extension = match self {
            View::Rust => "rs",
            View::Explain(explain::Format::Text) => "explain.txt",
            View::Explain(explain::Format::Markdown) => "explain.md",
            View::Summary => "summary.txt",
            View::Dot => "dot",
            #[cfg(feature = "cli")]
            View::Svg => "svg",
        };
        format!("{network}.{extension}")
    }

    /// What the document is, for messages.
    fn what(self) -> &'static str {
        match self {
            View::Rust => "the generated code",
            View::Explain(_) => "an explanation",
            View::Summary => "a summary",
            View::Dot => "a DOT graph",
            #[cfg(feature = "cli")]
            View::Svg => "an SVG drawing",
        }
    }
}

/// Where a command's documents go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// One output (the terminal, a pipe): a view that holds one document
    /// ([`View::holds_several`] is false) takes only one network.
    Stream,
    /// One file per network: any view takes every network.
    Files,
}

/// One network's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The network's name.
    pub network: String,
    /// What the view shows of it.
    pub text: String,
}

/// Why a command shows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The source has errors (or its graph could not be drawn).
    Source(Diagnostics),
    /// The command asks for networks it cannot show: a name that is none of
    /// the file's, or several networks for one document that holds one. The
    /// error lists the file's networks and how to pick one.
    Selection(Diagnostic),
}

impl From<CommandError> for Diagnostics {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Source(d) => d,
            CommandError::Selection(d) => d.into(),
        }
    }
}

/// The rule every command follows for a file with several networks: the
/// document of every network, in file order, or only of the one `network`
/// names. Into one output ([`Destination::Stream`]) a view that holds one
/// document shows one network: a file with several needs `network`.
pub fn documents(
    source: &str,
    network: Option<&str>,
    view: View,
    destination: Destination,
) -> Result<Vec<Document>, CommandError> {
    let Checked {
        nets, names, texts, ..
    } = checked(source).map_err(CommandError::Source)?;
    let selected = select(&nets, &names, network)?;
    if selected.len() > 1 && destination == Destination::Stream && !view.holds_several() {
        return Err(CommandError::Selection(several_networks(&names, view)));
    }
    let mut out = Vec::with_capacity(selected.len());
    for net in selected {
        out.push(Document {
            network: net.name.clone(),
            text: view_text(net, &derived(net), &texts, &names, view)?,
        });
    }
    Ok(out)
}

/// One network as the page sees it: checked, derived once, and the text of
/// each view asked for.
#[cfg(feature = "page")]
pub(crate) struct Viewed {
    /// The checked network.
    pub net: check::Net,
    /// Its derived and optimized graph (what `gradients` computes).
    pub graph: ir::Graph,
    /// One text per view, in the order asked.
    pub texts: Vec<String>,
}

/// Several views of every network of `source` (or of the one named), each
/// network checked and derived once, in file order. The page joins four
/// views this way, and evaluates the graph for its numbers.
#[cfg(feature = "page")]
pub(crate) fn views(
    source: &str,
    network: Option<&str>,
    views: &[View],
) -> Result<Vec<Viewed>, CommandError> {
    let Checked {
        nets, names, texts, ..
    } = checked(source).map_err(CommandError::Source)?;
    select(&nets, &names, network)?
        .into_iter()
        .map(|net| viewed(net, &texts, &names, views))
        .collect()
}

/// One network checked and derived once, with the text of each view.
#[cfg(feature = "page")]
fn viewed(
    net: &check::Net,
    texts: &[(String, String)],
    names: &[syntax::ast::Ident],
    views: &[View],
) -> Result<Viewed, CommandError> {
    let graph = derived(net);
    let texts = views
        .iter()
        .map(|&view| view_text(net, &graph, texts, names, view))
        .collect::<Result<_, _>>()?;
    Ok(Viewed {
        net: net.clone(),
        graph,
        texts,
    })
}

/// What one view shows of one network, from its derived graph.
#[cfg_attr(not(feature = "cli"), allow(unused_variables))]
fn view_text(
    net: &check::Net,
    graph: &ir::Graph,
    texts: &[(String, String)],
    names: &[syntax::ast::Ident],
    view: View,
) -> Result<String, CommandError> {
    Ok(match view {
        View::Rust => {
            let code = emit(net, graph, own(texts, net));
            let header = format!(
                "@generated by denpa from network `{}`. Do not edit.",
                net.name
            );
            match codegen::pretty::pretty(&code.tokens, &code.comments, &header) {
                Ok(text) => text,
                Err(e) => format!(
                    "// could not format the generated code: {e}\n{}\n",
                    code.tokens
                ),
            }
        }
        View::Explain(format) => explain::explain(net, graph, format),
        View::Summary => explain::summary(net, graph),
        View::Dot => explain::graph::dot(net, graph),
        #[cfg(feature = "cli")]
        View::Svg => {
            let dot = explain::graph::dot(net, graph);
            explain::draw::svg(&dot).map_err(|reason| {
                let at = names
                    .iter()
                    .find(|n| n.name == net.name)
                    .map_or(net.span, |n| n.span);
                CommandError::Source(
                    Diagnostic::error(
                        at,
                        format!("cannot draw the graph of `{}` as SVG: {reason}", net.name),
                    )
                    .label("this network's graph")
                    .help("`--format dot` gives the graph for Graphviz")
                    .into(),
                )
            })?
        }
    })
}

/// Why `denpa export` wrote no model.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportError {
    /// The source has errors, or names no network to export.
    Command(CommandError),
    /// The weights do not fit the network, or an output needs an op with no
    /// ONNX form.
    Export(Error),
}

/// `denpa export`: the ONNX model ([`onnx`]) of the network of `source`
/// that `network` names (a file with several needs the name) with the
/// parameters of a safetensors weights file, in `dtype` (the network's own
/// when `None`).
pub fn export_onnx(
    source: &str,
    network: Option<&str>,
    weights: &[u8],
    dtype: Option<lang::Dtype>,
) -> Result<Vec<u8>, ExportError> {
    let command = ExportError::Command;
    let Checked {
        nets, names, texts, ..
    } = checked(source).map_err(|d| command(CommandError::Source(d)))?;
    let net = only(&nets, &names, network, "a model holds one").map_err(command)?;
    // The parameters, then the running statistics: the file `save` writes.
    let expected = net.stored_tensors();
    let f64 = net.dtype == lang::Dtype::F64;
    let values = runtime::weights::read_parameters(&net.name, weights, &expected, f64)
        .map_err(ExportError::Export)?;
    let weights: Vec<onnx::Weight> = expected
        .into_iter()
        .zip(values)
        .map(|((name, shape), values)| onnx::Weight {
            name,
            shape,
            values,
        })
        .collect();
    // The metadata's source is the generated `SOURCE`.
    onnx::model_bytes(net, own(&texts, net), &weights, dtype).map_err(ExportError::Export)
}

/// The one network a command about one network covers: the one `network`
/// names, or the file's only one; several are an error that lists them and
/// says why one is needed (`what`: "a model holds one").
fn only<'a>(
    nets: &'a [check::Net],
    names: &[syntax::ast::Ident],
    network: Option<&str>,
    what: &str,
) -> Result<&'a check::Net, CommandError> {
    match select(nets, names, network)?.as_slice() {
        [one] => Ok(*one),
        _ => {
            let first = names.first().map_or("NAME", |n| n.name.as_str());
            let d = with_networks(
                format!("this file holds {}, and {what}", list(names)),
                names,
            )
            .help(format!("pick one with `--network {first}`"));
            Err(CommandError::Selection(d))
        }
    }
}

/// The views of the one network of `source` that `network` names (or of
/// its only one), checked and derived once: the page with numbers, whose
/// weights belong to one network.
#[cfg(feature = "page")]
pub(crate) fn one_view(
    source: &str,
    network: Option<&str>,
    views: &[View],
) -> Result<Viewed, CommandError> {
    let Checked {
        nets, names, texts, ..
    } = checked(source).map_err(CommandError::Source)?;
    let net = only(&nets, &names, network, "weights belong to one")?;
    viewed(net, &texts, &names, views)
}

/// The networks a command covers: the one `network` names, or every one;
/// a name that is none of them is an error listing them.
fn select<'a>(
    nets: &'a [check::Net],
    names: &[syntax::ast::Ident],
    network: Option<&str>,
) -> Result<Vec<&'a check::Net>, CommandError> {
    let selected: Vec<&check::Net> = match network {
        Some(name) => nets.iter().filter(|n| n.name == name).collect(),
        None => nets.iter().collect(),
    };
    if selected.is_empty() {
        let d = no_such_network(names, network.unwrap_or_default());
        return Err(CommandError::Selection(d));
    }
    Ok(selected)
}

/// `network` names none of the file's networks.
fn no_such_network(names: &[syntax::ast::Ident], network: &str) -> Diagnostic {
    let holds = match names {
        [one] => format!("its one network is `{}`", one.name),
        _ => format!("it holds {}", list(names)),
    };
    let d = with_networks(
        format!("no network named `{network}` in this file; {holds}"),
        names,
    );
    match names
        .iter()
        .find(|n| n.name.eq_ignore_ascii_case(network))
        .or(names.first())
    {
        Some(n) if n.name.eq_ignore_ascii_case(network) => {
            d.help(format!("did you mean `--network {}`?", n.name))
        }
        Some(n) if names.len() == 1 => d.help(format!(
            "`--network {}` picks it, and so does no `--network` at all",
            n.name
        )),
        Some(n) => d.help(format!(
            "pick one with `--network NAME`, e.g. `--network {}`",
            n.name
        )),
        None => d,
    }
}

/// Several networks for a view that holds one document.
fn several_networks(names: &[syntax::ast::Ident], view: View) -> Diagnostic {
    let first = names.first().map_or("NAME", |n| n.name.as_str());
    with_networks(
        format!(
            "this file holds {}, and {} shows one",
            list(names),
            view.what()
        ),
        names,
    )
    .help(format!(
        "pick one with `--network {first}`, or write one file per network with `-o DIR`"
    ))
}

/// "2 networks (`A`, `B`)".
fn list(names: &[syntax::ast::Ident]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{}`", n.name)).collect();
    format!("{} networks ({})", names.len(), names.join(", "))
}

/// An error pointing at every network's name with the option that picks it.
fn with_networks(message: String, names: &[syntax::ast::Ident]) -> Diagnostic {
    let mut names = names.iter();
    let Some(first) = names.next() else {
        return Diagnostic::error(diagnostics::Span::new(0, 0), message);
    };
    let mut d = Diagnostic::error(first.span, message).label(format!("`--network {}`", first.name));
    for n in names {
        d = d.also(n.span, format!("`--network {}`", n.name));
    }
    d
}

/// Every selected network's document in one text, one after another (a
/// blank line between them); what the `denpa` command prints.
fn text(source: &str, network: Option<&str>, view: View) -> Result<String, Diagnostics> {
    let docs = documents(source, network, view, Destination::Stream)?;
    Ok(docs
        .into_iter()
        .map(|d| d.text)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The generated Rust of every network (or of the one named), pretty-printed
/// with comments: what `denpa expand` prints and exactly what `net!` compiles.
pub fn expand(source: &str, network: Option<&str>) -> Result<String, Diagnostics> {
    text(source, network, View::Rust)
}

/// Explains every network (or the one named) of a `.nn` text: the
/// derivation as a worked example, in terminal text or Markdown with LaTeX.
pub fn explain(
    source: &str,
    network: Option<&str>,
    format: explain::Format,
) -> Result<String, Diagnostics> {
    text(source, network, View::Explain(format))
}

/// The forward and backward graph of the network (or of the one named, when
/// the file holds several), as Graphviz DOT: one graph.
pub fn graph(source: &str, network: Option<&str>) -> Result<String, Diagnostics> {
    text(source, network, View::Dot)
}

/// The graph of [`graph`] drawn as SVG, in Rust (no Graphviz needed).
#[cfg(feature = "cli")]
pub fn graph_svg(source: &str, network: Option<&str>) -> Result<String, Diagnostics> {
    text(source, network, View::Svg)
}

/// The summary table of every network (or the one named) of a `.nn` text.
pub fn summary(source: &str, network: Option<&str>) -> Result<String, Diagnostics> {
    text(source, network, View::Summary)
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;

    #[test]
    fn a_drawing_of_two_networks_needs_a_name_or_files() {
        let source = include_str!("../tests/fixtures/pass/two_networks.nn");
        let error = graph_svg(source, None).unwrap_err();
        let message = &error.iter().next().unwrap().message;
        assert!(message.contains("`Linear`, `Classifier`"), "{message}");
        let files = documents(source, None, View::Svg, Destination::Files).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files.iter().all(|d| d.text.ends_with("</svg>")));
        assert!(graph_svg(source, Some("Linear")).is_ok());
    }
}
