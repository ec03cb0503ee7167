//! What the examples' programs share around their training: the command line
//! (`--flag value` pairs, `-h`/`--help`, whole numbers, errors that name the
//! flag) and the font their plots are drawn with.

use std::error::Error;

/// Reads the program's arguments into `options`: each flag of `known` with
/// its value goes to `set`, then `check` looks at the whole. `-h`/`--help`
/// prints `usage` and exits 0; an error prints it and exits 2.
pub fn parse<O>(
    mut options: O,
    usage: &str,
    known: &[&str],
    set: impl Fn(&mut O, &str, String) -> Result<(), String>,
    check: impl Fn(&O) -> Result<(), String>,
) -> O {
    let mut args = std::env::args().skip(1);
    let mut read = || -> Result<(), String> {
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                println!("{usage}");
                std::process::exit(0);
            }
            if !known.contains(&flag.as_str()) {
                return Err(format!("unknown argument `{flag}`"));
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            set(&mut options, &flag, value)?;
        }
        check(&options)
    };
    if let Err(message) = read() {
        eprintln!("error: {message}\n\n{usage}");
        std::process::exit(2);
    }
    options
}

/// The whole number a flag was given.
pub fn number<N: std::str::FromStr>(flag: &str, text: &str) -> Result<N, String> {
    text.parse()
        .map_err(|_| format!("{flag} needs a whole number, not `{text}`"))
}

/// Registers the embedded font as `sans-serif`: plotters' `ab_glyph`
/// feature renders text with a font it is given rather than the system's,
/// so a plot is the same on every machine.
pub fn register_font() -> Result<(), Box<dyn Error>> {
    plotters::style::register_font(
        "sans-serif",
        plotters::style::FontStyle::Normal,
        ttf_noto_sans::REGULAR,
    )
    .map_err(|_| "the embedded font could not be read".into())
}
