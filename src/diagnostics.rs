//! Spans, diagnostics and their rendering.
//!
//! Every stage reports problems into a [`Diagnostics`] collection instead of
//! stopping at the first one; the front end returns them all together. The CLI
//! renders them with the source line and the offending span underlined (by
//! `codespan-reporting`, in rustc's layout); the macro turns each into a
//! `compile_error!` at the tokens the span covers.

use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label as ReportLabel};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};

/// A range of bytes in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The byte range, for slicing the source.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// The 1-based line and column (in characters) of a byte offset. For many
/// offsets in one text, [`LineIndex`] finds each without rescanning it.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(source).line_column(offset)
}

/// Where each line of a text starts: line and column of any offset by a
/// binary search.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the lines of `source`.
    pub fn new(source: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { source, starts }
    }

    /// The 1-based line and column (in characters) of a byte offset; an
    /// offset past the end or inside a character counts from before it.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, self.source[start..offset].chars().count() + 1)
    }
}

/// The candidate closest to a misspelt name, if any is close: for the "did
/// you mean" of a misspelt function, argument or keyword.
pub(crate) fn closest_of<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The network is still compiled.
    Warning,
    /// Nothing is generated.
    Error,
}

/// A place in the source with a short message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it (may be empty).
    pub message: String,
}

/// One error or warning: a sentence, a primary place, other places, a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    /// The place the caret points at.
    pub primary: Label,
    /// Other places involved (where a shape came from, a first definition).
    pub secondary: Vec<Label>,
    /// What to do about it, where that helps.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    /// Sets the message under the caret.
    pub fn label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    /// Adds another place, with its message.
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one compilation, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Records one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.list.push(diagnostic);
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every diagnostic, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    /// Orders the diagnostics by where they point, as they read in the file.
    pub fn sort_by_position(&mut self) {
        self.list
            .sort_by_key(|d| (d.primary.span.start, d.primary.span.end));
    }

    /// Moves all of `other` into `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.list.extend(other.list);
    }

    /// Renders every diagnostic the way rustc does, with the source lines.
    /// `file_name` is what the `-->` line shows.
    pub fn render(&self, file_name: &str, source: &str, color: bool) -> String {
        let file = SimpleFile::new(file_name, source);
        let mut out = Vec::new();
        for diagnostic in &self.list {
            render_one(&file, diagnostic, color, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Renders each diagnostic on its own, without color (for a JSON
    /// message's `rendered`): the source's lines are indexed once for all.
    pub fn render_each(&self, file_name: &str, source: &str) -> Vec<String> {
        let file = SimpleFile::new(file_name, source);
        self.list
            .iter()
            .map(|diagnostic| {
                let mut out = Vec::new();
                render_one(&file, diagnostic, false, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            })
            .collect()
    }
}

/// Appends one diagnostic, rendered the way rustc does, to `out`.
fn render_one(
    file: &SimpleFile<&str, &str>,
    diagnostic: &Diagnostic,
    color: bool,
    out: &mut Vec<u8>,
) {
    // rustc's look: `-->` and `|` rather than box-drawing characters.
    let config = term::Config {
        chars: term::Chars::ascii(),
        ..term::Config::default()
    };
    let report = to_report(diagnostic, file.source().len());
    let result = if color {
        let mut writer = termcolor::Ansi::new(&mut *out);
        term::emit(&mut writer, &config, file, &report)
    } else {
        let mut writer = termcolor::NoColor::new(&mut *out);
        term::emit(&mut writer, &config, file, &report)
    };
    if let Err(error) = result {
        out.extend_from_slice(format!("error: {}\n", diagnostic.message).as_bytes());
        out.extend_from_slice(format!("  (could not show the source: {error})\n").as_bytes());
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics {
            list: vec![diagnostic],
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.list {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(
                f,
                "{kind}: {} (bytes {}..{})",
                d.message, d.primary.span.start, d.primary.span.end
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

fn to_report(d: &Diagnostic, len: usize) -> Report<()> {
    let clamp = |s: Span| s.start.min(len)..s.end.min(len).max(s.start.min(len));
    let mut labels =
        vec![ReportLabel::primary((), clamp(d.primary.span)).with_message(&d.primary.message)];
    labels.extend(
        d.secondary
            .iter()
            .map(|l| ReportLabel::secondary((), clamp(l.span)).with_message(&l.message)),
    );
    let report = match d.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
    };
    let report = report.with_message(&d.message).with_labels(labels);
    match &d.help {
        Some(help) => report.with_notes(vec![format!("help: {help}")]),
        None => report,
    }
}
