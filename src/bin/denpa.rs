//! The `denpa` command: read the code the compiler generates for a network.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal();
    match cli.command {
        Command::Expand { file, network } => {
            let Some(source) = read(&file) else {
                return ExitCode::from(2);
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
        Command::Check { files } => {
            let mut code = ExitCode::SUCCESS;
            for file in files {
                let Some(source) = read(&file) else {
                    return ExitCode::from(2);
                };
                let diagnostics = match denpa::compile(&source) {
                    Ok((_, warnings)) => warnings,
                    Err(errors) => {
                        code = ExitCode::from(1);
                        errors
                    }
                };
                eprint!(
                    "{}",
                    diagnostics.render(&file.display().to_string(), &source, color)
                );
            }
            code
        }
    }
}

fn read(path: &Path) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                eprintln!(
                    "error: {} is not UTF-8 text (invalid byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                );
                None
            }
        },
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            None
        }
    }
}
