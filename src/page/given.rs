//! Where a walk-through's numbers come from: a generated network and a
//! batch of its arguments (from Rust), or a weights file and a CSV batch
//! (`denpa explain --format html FILE --weights W.safetensors --batch
//! DATA.csv`).

use ndarray::{ArrayD, IxDyn};
use num_traits::ToPrimitive;

use super::numbers::Given;
use crate::check::{Decl, Net};
use crate::runtime::{Arg, AsArg, Network};

/// The numbers of a generated network, and a batch of its inputs and
/// targets as its dynamic calls take them.
pub(crate) fn of_network<'a, 'b, N, A, B>(net: &N, inputs: &[A], targets: &[B]) -> Given
where
    N: Network,
    A: AsArg<'a, N::Scalar>,
    B: AsArg<'b, N::Scalar>,
{
    let wide = |list: Vec<(&'static str, ndarray::ArrayViewD<'_, N::Scalar>)>| {
        list.into_iter()
            .map(|(n, v)| (n.to_string(), v.mapv(|x| x.to_f64().unwrap_or(f64::NAN))))
            .collect()
    };
    let arg = |a: Arg<'_, N::Scalar>| match a {
        Arg::Numbers(v) => v.mapv(|x| x.to_f64().unwrap_or(f64::NAN)),
        Arg::Indices(v) => v.mapv(|i| i as f64),
    };
    Given {
        params: wide(net.parameters()),
        statistics: wide(net.statistics()),
        dropout_seed: net.dropout_seed(),
        step: net.optimizer_state().0,
        inputs: inputs.iter().map(|a| arg(a.as_arg())).collect(),
        targets: targets.iter().map(|a| arg(a.as_arg())).collect(),
        sample: 0,
    }
}

/// A batch's inputs and targets, each `[B, …]`.
pub(crate) type Batch = (Vec<ArrayD<f64>>, Vec<ArrayD<f64>>);

/// A batch from CSV text: one sample per line, its numbers comma-separated:
/// every input's elements in declaration order (row-major), then every
/// target's. A vector target may instead be one class number, which stands
/// for its one-hot vector; an index (`in 0..V`) is a whole number below V.
/// A first line with a field that is not a number is a header; empty lines and lines
/// starting with `#` are skipped. Errors say the line and the column.
pub(crate) fn batch_from_csv(net: &Net, text: &str) -> Result<Batch, String> {
    let decls: Vec<&Decl> = net.inputs.iter().chain(&net.targets).collect();
    let sizes: Vec<usize> = decls
        .iter()
        .map(|d| d.shape.iter().product::<usize>().max(1))
        .collect();
    let full: usize = sizes.iter().sum();
    // A target of numbers `[n]` may be given as one class number instead.
    let labels: Vec<bool> = decls
        .iter()
        .enumerate()
        .map(|(k, d)| {
            k >= net.inputs.len() && d.range.is_none() && d.shape.len() == 1 && d.shape[0] > 1
        })
        .collect();
    let short: usize = sizes
        .iter()
        .zip(&labels)
        .map(|(s, l)| if *l { 1 } else { *s })
        .sum();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); decls.len()];
    let mut rows = 0;
    // A byte-order mark is no part of the first field.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (number, line) in text.lines().enumerate() {
        let line_no = number + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        // `nan` and `inf` parse, and would turn every value of the page
        // into NaN: they are no numbers of a batch.
        let parsed: Vec<Option<f64>> = fields
            .iter()
            .map(|f| f.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        // A header: the first line, with a field that is not a number
        // (`x1,x2,t`, or pandas' `0,1,…,63,label`).
        if number == first_line(text) && parsed.iter().any(Option::is_none) {
            continue;
        }
        if let Some(col) = parsed.iter().position(Option::is_none) {
            return Err(format!(
                "line {line_no}, column {}: `{}` is not a finite number",
                col + 1,
                fields[col]
            ));
        }
        let values: Vec<f64> = parsed.into_iter().map(|v| v.unwrap_or(0.0)).collect();
        let as_labels = if values.len() == full {
            false
        } else if values.len() == short && short != full {
            true
        } else {
            return Err(format!(
                "line {line_no}: {} numbers, where `{}` takes {full} ({}){}",
                values.len(),
                net.name,
                decls
                    .iter()
                    .zip(&sizes)
                    .map(|(d, s)| format!("{}: {s}", d.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                if short != full {
                    format!(", or {short} with each vector target as its class number")
                } else {
                    String::new()
                }
            ));
        };
        let mut at = 0;
        for (k, d) in decls.iter().enumerate() {
            if as_labels && labels[k] {
                let class = values[at];
                let n = sizes[k];
                if class < 0.0 || class.fract() != 0.0 || class as usize >= n {
                    return Err(format!(
                        "line {line_no}, column {}: the class of `{}` must be a whole number in 0..{n}, not {class}",
                        at + 1,
                        d.name
                    ));
                }
                columns[k].extend((0..n).map(|c| f64::from(u8::from(c == class as usize))));
                at += 1;
                continue;
            }
            let part = &values[at..at + sizes[k]];
            if let Some(v) = d.range {
                if let Some(bad) = part
                    .iter()
                    .position(|x| *x < 0.0 || x.fract() != 0.0 || *x as usize >= v)
                {
                    return Err(format!(
                        "line {line_no}, column {}: `{}` holds indices in 0..{v}, and {} is none",
                        at + bad + 1,
                        d.name,
                        part[bad]
                    ));
                }
            }
            columns[k].extend_from_slice(part);
            at += sizes[k];
        }
        rows += 1;
    }
    if rows == 0 {
        return Err("the batch has no samples".into());
    }
    let mut arrays = decls.iter().zip(columns).map(|(d, values)| {
        let mut shape = vec![rows];
        shape.extend(&d.shape);
        ArrayD::from_shape_vec(IxDyn(&shape), values).expect("rows of the declared size")
    });
    let inputs = arrays.by_ref().take(net.inputs.len()).collect();
    Ok((inputs, arrays.collect()))
}

/// The index of the first line that is neither empty nor a comment.
fn first_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .unwrap_or(0)
}
