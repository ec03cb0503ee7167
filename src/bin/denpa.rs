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
enum MessageFormat {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal();
    match cli.command {
        Command::Expand { file, network } => {
            let bytes = match read(&file) {
                Ok(bytes) => bytes,
                Err(code) => return code,
            };
            let source = match denpa::source_text(&bytes) {
                Ok(text) => text.to_string(),
                Err((text, error)) => {
                    eprint!(
                        "{}",
                        error.render(&file.display().to_string(), &text, color)
                    );
                    return ExitCode::from(1);
                }
            };
            match denpa::expand(&source, network.as_deref()) {
                Ok(code) => {
                    print!("{code}");
                    ExitCode::SUCCESS
                }
                Err(d) => {
                    eprint!("{}", d.render(&file.display().to_string(), &source, color));
                    ExitCode::from(1)
                }
            }
        }
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
