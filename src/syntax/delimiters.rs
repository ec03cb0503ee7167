//! A plain scan of the text for comments and brackets, so that syntax
//! errors about them can name the opening bracket that was never closed.

use crate::diagnostics::Span;

/// A bracket and where it stands.
pub type Bracket = (usize, char);

/// What the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// A `/*` with no `*/`.
    pub unterminated_comment: Option<usize>,
    /// The first closing bracket with no opening one: (position, bracket,
    /// the opening bracket it met instead, if any).
    pub unmatched_close: Option<(usize, char, Option<Bracket>)>,
    /// Brackets still open at the end of the text: (position, bracket).
    pub open_at_end: Vec<(usize, char)>,
    /// The first bracket nested deeper than the limit.
    pub too_deep: Option<usize>,
}

/// Brackets still open at byte `pos`, innermost last.
pub fn open_at(source: &str, pos: usize) -> Vec<(usize, char)> {
    scan_until(source, pos, usize::MAX).open_at_end
}

/// Scans the whole text.
pub fn scan(source: &str, depth_limit: usize) -> Scan {
    scan_until(source, source.len(), depth_limit)
}

fn scan_until(source: &str, end: usize, depth_limit: usize) -> Scan {
    let bytes = source.as_bytes();
    let mut out = Scan::default();
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut i = 0;
    let end = end.min(bytes.len());
    while i < end {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                let mut depth = 0;
                loop {
                    if i + 1 >= bytes.len() {
                        out.unterminated_comment = Some(start);
                        i = bytes.len();
                        break;
                    }
                    match (bytes[i], bytes[i + 1]) {
                        (b'/', b'*') => {
                            depth += 1;
                            i += 2;
                        }
                        (b'*', b'/') => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            open @ (b'(' | b'[' | b'{') => {
                stack.push((i, open as char));
                if stack.len() > depth_limit && out.too_deep.is_none() {
                    out.too_deep = Some(i);
                }
            }
            close @ (b')' | b']' | b'}') => {
                let wanted = match close {
                    b')' => '(',
                    b']' => '[',
                    _ => '{',
                };
                match stack.last() {
                    Some(&(_, c)) if c == wanted => {
                        stack.pop();
                    }
                    other if out.unmatched_close.is_none() => {
                        out.unmatched_close = Some((i, close as char, other.copied()));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.open_at_end = stack;
    out
}

/// Where each network or block starts: every `network` or `block` keyword
/// outside comments and brackets, moved back over the `///` lines just before
/// it.
pub fn network_starts(source: &str) -> Vec<usize> {
    let bytes = source.as_bytes();
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut nest = 0;
                while i + 1 < bytes.len() {
                    match (bytes[i], bytes[i + 1]) {
                        (b'/', b'*') => {
                            nest += 1;
                            i += 2;
                        }
                        (b'*', b'/') => {
                            nest -= 1;
                            i += 2;
                            if nest == 0 {
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'n' | b'b' if depth == 0 => {
                let word = ["network", "block"]
                    .into_iter()
                    .find(|w| source[i..].starts_with(w))
                    .filter(|w| {
                        !bytes
                            .get(i + w.len())
                            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                            && (i == 0
                                || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
                    });
                if let Some(word) = word {
                    starts.push(doc_start(source, i));
                    i += word.len();
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The start of the `///` lines right before `pos`, or `pos`.
fn doc_start(source: &str, pos: usize) -> usize {
    let mut start = pos;
    let mut line_start = source[..pos].rfind('\n').map_or(0, |n| n + 1);
    if !source[line_start..pos].trim().is_empty() {
        return pos;
    }
    start = start.min(line_start);
    while line_start > 0 {
        let prev = source[..line_start - 1].rfind('\n').map_or(0, |n| n + 1);
        let line = source[prev..line_start - 1].trim();
        if line.starts_with("///") && !line.starts_with("////") {
            start = prev;
            line_start = prev;
        } else {
            break;
        }
    }
    start
}

/// The text with everything outside `start..end` blanked (newlines kept),
/// so that positions in it are positions in the original.
pub fn mask(source: &str, start: usize, end: usize) -> String {
    source
        .char_indices()
        .map(|(i, c)| {
            if (start..end).contains(&i) || c == '\n' {
                c.to_string()
            } else {
                " ".repeat(c.len_utf8())
            }
        })
        .collect()
}

/// The closing bracket of an opening one.
pub fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// A one-character span.
pub fn at(pos: usize) -> Span {
    Span::new(pos, pos + 1)
}
