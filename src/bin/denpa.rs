//! The `denpa` command: check networks and read the code the compiler
//! generates for them.
//!
//! Exit status: 0 when every file is clean or has only warnings, 1 when a
//! file has errors, 2 on a usage or I/O error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use denpa::diagnostics::{line_column, Diagnostic, Diagnostics, Severity, Span};

/// denpa: compile `.nn` networks to Rust with a derived backward pass.
#[derive(Parser)]
#[command(name = "denpa", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the generated Rust, pretty-printed with the derivation as comments.
    Expand {
        /// The `.nn` file.
        file: PathBuf,
        /// Only this network of the file.
        #[arg(long)]
        network: Option<String>,
        /// Write one `<Network>.rs` per network into this directory instead.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Explain how the network learns: the forward pass, the chain rule for
    /// every parameter, the shared products, the update and what sharing saves.
    Explain {
        /// The `.nn` file.
        file: PathBuf,
        /// Only this network of the file.
        #[arg(long)]
        network: Option<String>,
        /// `text` (Unicode, for the terminal) or `markdown` (with LaTeX math).
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
    },
    /// Draw the forward and backward graph, each backward arrow labelled with
    /// its local derivative.
    Graph {
        /// The `.nn` file.
        file: PathBuf,
        /// Only this network of the file.
        #[arg(long)]
        network: Option<String>,
        /// `dot` (Graphviz) or `svg` (drawn here, no Graphviz needed).
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// A table of every value and parameter: shapes, parameter counts, FLOPs.
    Summary {
        /// The `.nn` file.
        file: PathBuf,
        /// Only this network of the file.
        #[arg(long)]
        network: Option<String>,
    },
    /// Check files for errors and warnings without generating code.
    Check {
        /// The `.nn` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `human` (rendered like rustc) or `json` (one object per line, like cargo's).
        #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
        message_format: MessageFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Dot,
    Svg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal();
    match cli.command {
        Command::Expand {
            file,
            network,
            output,
        } => with_source(&file, color, |source| match &output {
            None => report(
                &file,
                source,
                color,
                denpa::expand(source, network.as_deref()),
            ),
            Some(dir) => write_expansions(&file, source, dir, network.as_deref(), color),
        }),
        Command::Explain {
            file,
            network,
            format,
        } => with_source(&file, color, |source| {
            let format = match format {
                ExplainFormat::Text => denpa::explain::Format::Text,
                ExplainFormat::Markdown => denpa::explain::Format::Markdown,
            };
            report(
                &file,
                source,
                color,
                denpa::explain(source, network.as_deref(), format),
            )
        }),
        Command::Graph {
            file,
            network,
            format,
        } => with_source(&file, color, |source| {
            let dot = denpa::graph(source, network.as_deref());
            match format {
                GraphFormat::Dot => report(&file, source, color, dot),
                GraphFormat::Svg => report(&file, source, color, dot.map(|d| svg(&d))),
            }
        }),
        Command::Summary { file, network } => with_source(&file, color, |source| {
            report(
                &file,
                source,
                color,
                denpa::summary(source, network.as_deref()),
            )
        }),
        Command::Check {
            files,
            message_format,
        } => {
            let mut code = ExitCode::SUCCESS;
            for file in files {
                let bytes = match read(&file) {
                    Ok(bytes) => bytes,
                    Err(status) => return status,
                };
                let (source, diagnostics) = match denpa::source_text(&bytes) {
                    Ok(text) => {
                        let diagnostics = match denpa::compile(text) {
                            Ok((_, warnings)) => warnings,
                            Err(errors) => errors,
                        };
                        (text.to_string(), diagnostics)
                    }
                    Err(not_utf8) => not_utf8,
                };
                if diagnostics.has_errors() {
                    code = ExitCode::from(1);
                }
                let name = file.display().to_string();
                match message_format {
                    MessageFormat::Human => {
                        eprint!("{}", diagnostics.render(&name, &source, color))
                    }
                    MessageFormat::Json => {
                        for d in diagnostics.iter() {
                            println!("{}", json(&name, &source, d));
                        }
                    }
                }
            }
            code
        }
    }
}

/// Runs `f` on a file's text, or reports why there is none.
fn with_source(file: &Path, color: bool, f: impl FnOnce(&str) -> ExitCode) -> ExitCode {
    let bytes = match read(file) {
        Ok(bytes) => bytes,
        Err(code) => return code,
    };
    match denpa::source_text(&bytes) {
        Ok(text) => f(text),
        Err((text, error)) => {
            eprint!(
                "{}",
                error.render(&file.display().to_string(), &text, color)
            );
            ExitCode::from(1)
        }
    }
}

/// Prints a result, or renders its diagnostics.
fn report(file: &Path, source: &str, color: bool, result: Result<String, Diagnostics>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(d) => {
            eprint!("{}", d.render(&file.display().to_string(), source, color));
            ExitCode::from(1)
        }
    }
}

/// `expand -o DIR`: one file per network.
fn write_expansions(
    file: &Path,
    source: &str,
    dir: &Path,
    network: Option<&str>,
    color: bool,
) -> ExitCode {
    let names = match denpa::compile(source) {
        Ok((outputs, _)) => outputs.into_iter().map(|o| o.name).collect::<Vec<_>>(),
        Err(d) => {
            eprint!("{}", d.render(&file.display().to_string(), source, color));
            return ExitCode::from(1);
        }
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    for name in names
        .iter()
        .filter(|n| network.is_none_or(|w| w == n.as_str()))
    {
        let code = match denpa::expand(source, Some(name)) {
            Ok(code) => code,
            Err(d) => {
                eprint!("{}", d.render(&file.display().to_string(), source, color));
                return ExitCode::from(1);
            }
        };
        let path = dir.join(format!("{name}.rs"));
        if let Err(e) = std::fs::write(&path, code) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

/// Lays out and draws a DOT graph as SVG, in Rust (layout-rs).
fn svg(dot: &str) -> String {
    let mut parser = layout::gv::DotParser::new(dot);
    let Ok(ast) = parser.process() else {
        return String::new();
    };
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut graph = builder.get();
    let mut writer = layout::backends::svg::SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    writer.finalize()
}

fn read(path: &Path) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::from(2)
    })
}

/// One diagnostic as a JSON object, in the spirit of cargo's messages.
fn json(file: &str, source: &str, d: &Diagnostic) -> serde_json::Value {
    let span = |span: Span, primary: bool, label: &str| {
        let (line_start, column_start) = line_column(source, span.start);
        let (line_end, column_end) = line_column(source, span.end);
        serde_json::json!({
            "file_name": file,
            "byte_start": span.start,
            "byte_end": span.end,
            "line_start": line_start,
            "column_start": column_start,
            "line_end": line_end,
            "column_end": column_end,
            "is_primary": primary,
            "label": if label.is_empty() { serde_json::Value::Null } else { label.into() },
        })
    };
    let mut spans = vec![span(d.primary.span, true, &d.primary.message)];
    spans.extend(d.secondary.iter().map(|l| span(l.span, false, &l.message)));
    let one = Diagnostics::from(d.clone());
    serde_json::json!({
        "reason": "diagnostic",
        "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": d.message,
        "spans": spans,
        "help": d.help,
        "rendered": one.render(file, source, false),
    })
}
