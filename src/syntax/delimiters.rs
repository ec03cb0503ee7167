//! A plain scan of the text for comments and brackets, so that syntax
//! errors about them can name the opening bracket that was never closed.

use crate::diagnostics::Span;

/// What the scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// A `/*` with no `*/`.
    pub unterminated_comment: Option<usize>,
    /// The first closing bracket with no opening one: (position, bracket,
    /// the opening bracket it met instead, if any).
    pub unmatched_close: Option<(usize, char, Option<(usize, char)>)>,
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
