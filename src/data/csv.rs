//! Loading: labeled CSV files, plain or gzipped, and the bundled digits and
//! iris data sets.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::Array2;

use crate::error::Error;

/// The number of features of the digits data set: 8 × 8 pixels.
pub const DIGITS_FEATURES: usize = 64;
/// The number of classes of the digits data set: the digits 0 to 9.
pub const DIGITS_CLASSES: usize = 10;
/// The number of features of the iris data set: sepal length and width,
/// petal length and width, in cm.
pub const IRIS_FEATURES: usize = 4;
/// The classes of the iris data set, in the order of their labels.
pub const IRIS_CLASSES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// What [`read_labeled_csv`] expects of a file: comma-separated numbers,
/// one sample per line, the features first and the class number last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvFormat {
    /// The first line is scikit-learn's header `rows,features,name,...`
    /// (the number of samples, of features, and the class names), and the
    /// data is checked against it.
    pub sklearn_header: bool,
    /// The number of features on every line; when `None`, as many as on the
    /// first data line.
    pub features: Option<usize>,
    /// The number of classes: every label must be below it. When `None`,
    /// any label is accepted (or, with a header, as many as it names).
    pub classes: Option<usize>,
    /// The class names the header must give, in order; when empty, any.
    pub class_names: Vec<String>,
}

/// Loads the digits data set (`examples/data/digits.csv.gz`): 1797 images
/// of 8 × 8 pixels, each pixel a count 0..16, as one row of 64 features
/// per image, and the digit each shows.
///
/// Plain or gzipped CSV (told apart by the gzip magic bytes), no header.
/// Any line that is not 64 numbers and a label 0..9 is an error naming the
/// file, the line and what is wrong.
pub fn load_digits(path: impl AsRef<Path>) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let format = CsvFormat {
        features: Some(DIGITS_FEATURES),
        classes: Some(DIGITS_CLASSES),
        ..CsvFormat::default()
    };
    read_labeled_csv(path, &format)
}

/// Loads Fisher's iris data set (`examples/data/iris.csv`): 150 flowers,
/// 4 measurements each in cm, and the species, numbered as in
/// [`IRIS_CLASSES`].
///
/// The first line must be the header `150,4,setosa,versicolor,virginica`
/// (the row count may differ; the data is checked against it). Any line that
/// is not 4 numbers and a label 0..2 is an error naming the file, the line
/// and what is wrong.
pub fn load_iris(path: impl AsRef<Path>) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let format = CsvFormat {
        sklearn_header: true,
        features: Some(IRIS_FEATURES),
        classes: Some(IRIS_CLASSES.len()),
        class_names: IRIS_CLASSES.iter().map(|s| s.to_string()).collect(),
    };
    read_labeled_csv(path, &format)
}

/// Reads a labeled CSV file, plain or gzipped (told apart by the gzip magic
/// bytes): one sample per line, its features as numbers, then its class
/// number. Blank lines are skipped; spaces around values are allowed.
///
/// Returns the features, one row per sample, and the labels. Every problem
/// is an [`Error::Io`] naming the file and, for its contents, the line (and
/// column) and what is wrong: a value that is not a finite number, a line
/// with the wrong number of values, a label that is not a class number, a
/// header that does not match the data, a file that is not text or is
/// corrupt gzip.
pub fn read_labeled_csv(
    path: impl AsRef<Path>,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    read_labeled_csv_from(file, &name, format)
}

/// [`read_labeled_csv`] from any reader; `name` stands for the file in
/// error messages.
pub fn read_labeled_csv_from(
    reader: impl Read,
    name: &str,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), Error> {
    let error = |message: String| Error::Io {
        path: name.to_string(),
        message,
    };
    let mut reader = BufReader::new(reader);
    let start = reader
        .fill_buf()
        .map_err(|e| error(format!("could not read: {e}")))?;
    let gzipped = start.starts_with(&[0x1f, 0x8b]);
    let text: Box<dyn BufRead + '_> = if gzipped {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    parse_csv(text, format).map_err(error)
}

/// The header of a scikit-learn CSV file.
struct Header {
    line: usize,
    rows: usize,
    features: usize,
    classes: usize,
}

fn parse_csv(
    mut text: impl BufRead,
    format: &CsvFormat,
) -> Result<(Array2<f32>, Vec<usize>), String> {
    let mut features = format.features;
    let mut classes = format.classes;
    let mut header: Option<Header> = None;
    let mut values: Vec<f32> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    let mut bytes = Vec::new();
    let mut number = 0;
    loop {
        bytes.clear();
        number += 1;
        match text.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("line {number}: could not read: {e}")),
        }
        let Ok(line) = std::str::from_utf8(&bytes) else {
            return Err(format!("line {number}: not UTF-8 text"));
        };
        let content = line.trim();
        if content.is_empty() {
            continue;
        }
        if format.sklearn_header && header.is_none() {
            let h = parse_header(content, number, format)?;
            features = Some(h.features);
            classes = Some(h.classes);
            header = Some(h);
            continue;
        }
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        let n = *features.get_or_insert(fields.len().saturating_sub(1));
        if fields.len() != n + 1 {
            return Err(format!(
                "line {number}: {}, expected {} ({} and a label)",
                counted(fields.len(), "value"),
                n + 1,
                counted(n, "feature")
            ));
        }
        for (column, field) in fields[..n].iter().enumerate() {
            values.push(parse_feature(field).map_err(|what| {
                format!("line {number}, column {}: `{field}` {what}", column + 1)
            })?);
        }
        let label = parse_label(fields[n], classes)
            .map_err(|what| format!("line {number}, column {}: {what}", n + 1))?;
        labels.push(label);
    }
    if let Some(h) = &header {
        if h.rows != labels.len() {
            return Err(format!(
                "the header on line {} says {}, but the file has {}",
                h.line,
                counted(h.rows, "sample"),
                labels.len()
            ));
        }
    } else if format.sklearn_header {
        return Err("the file is empty; expected a header `rows,features,class names`".into());
    }
    if labels.is_empty() {
        return Err("the file has no samples".into());
    }
    let columns = features.unwrap_or(0);
    let x = Array2::from_shape_vec((labels.len(), columns), values)
        .map_err(|e| format!("could not shape the features: {e}"))?;
    Ok((x, labels))
}

/// "1 value", "2 values".
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn parse_header(content: &str, number: usize, format: &CsvFormat) -> Result<Header, String> {
    let fields: Vec<&str> = content.split(',').map(str::trim).collect();
    let expected = "a header `rows,features,class names...`";
    let count = |i: usize, what: &str| -> Result<usize, String> {
        let field = fields.get(i).copied().unwrap_or("");
        field.parse().map_err(|_| {
            format!("line {number}: expected {expected}, found `{content}` (the {what} `{field}` is not a count)")
        })
    };
    let rows = count(0, "number of rows")?;
    let features = count(1, "number of features")?;
    let names = &fields[2..];
    if names.is_empty() {
        return Err(format!(
            "line {number}: the header `{content}` names no classes"
        ));
    }
    if let Some(n) = format.features {
        if n != features {
            return Err(format!(
                "line {number}: the header says {}, expected {n}",
                counted(features, "feature")
            ));
        }
    }
    if let Some(c) = format.classes {
        if c != names.len() {
            return Err(format!(
                "line {number}: the header names {} classes, expected {c}",
                names.len()
            ));
        }
    }
    if !format.class_names.is_empty() && names != format.class_names.as_slice() {
        return Err(format!(
            "line {number}: the header names the classes {}, expected {}",
            names.join(", "),
            format.class_names.join(", ")
        ));
    }
    Ok(Header {
        line: number,
        rows,
        features,
        classes: names.len(),
    })
}

fn parse_feature(field: &str) -> Result<f32, &'static str> {
    if field.is_empty() {
        return Err("is empty; expected a number");
    }
    match field.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("is not a finite number"),
        Err(_) => Err("is not a number"),
    }
}

fn parse_label(field: &str, classes: Option<usize>) -> Result<usize, String> {
    let label = field.parse::<usize>().ok().or_else(|| {
        // a class number written as a float, "3.0"
        let v = field.parse::<f64>().ok()?;
        (v >= 0.0 && v.fract() == 0.0 && v < 9.0e15).then_some(v as usize)
    });
    let classes_text = classes.map_or_else(String::new, |c| format!(" 0..{}", c.saturating_sub(1)));
    match label {
        None => Err(format!(
            "the label `{field}` is not a class number{classes_text}"
        )),
        Some(l) if classes.is_some_and(|c| l >= c) => {
            Err(format!("the label {l} is not a class number{classes_text}"))
        }
        Some(l) => Ok(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::io::Write;

    fn parse(text: &str, format: &CsvFormat) -> Result<(Array2<f32>, Vec<usize>), String> {
        read_labeled_csv_from(text.as_bytes(), "test.csv", format).map_err(|e| e.to_string())
    }

    fn digits_like() -> CsvFormat {
        CsvFormat {
            features: Some(2),
            classes: Some(3),
            ..CsvFormat::default()
        }
    }

    #[test]
    fn csv_files_parse_with_and_without_a_header() {
        let (x, labels) = parse("1,2,0\n3, 4 ,2\n\n5.5,-6e1,1.0\r\n", &digits_like()).unwrap();
        assert_eq!(x, array![[1.0, 2.0], [3.0, 4.0], [5.5, -60.0]]);
        assert_eq!(labels, [0, 2, 1]);
        let format = CsvFormat {
            sklearn_header: true,
            class_names: vec!["a".into(), "b".into()],
            ..CsvFormat::default()
        };
        let (x, labels) = parse("2,3,a,b\n1,2,3,1\n4,5,6,0\n", &format).unwrap();
        assert_eq!(x.dim(), (2, 3));
        assert_eq!(labels, [1, 0]);
        // without a fixed count, the first line sets it
        let (x, _) = parse("1,2,3,4,0\n", &CsvFormat::default()).unwrap();
        assert_eq!(x.ncols(), 4);
    }

    /// The error of parsing `text` as `format`.
    fn refusal(text: &str, format: &CsvFormat) -> String {
        parse(text, format).unwrap_err()
    }

    #[test]
    fn bad_csv_says_which_line_and_what() {
        let plain = &digits_like();
        let header = &CsvFormat {
            sklearn_header: true,
            ..CsvFormat::default()
        };
        let named = &CsvFormat {
            class_names: vec!["a".into(), "b".into()],
            ..header.clone()
        };
        for (text, format, expected) in [
            (
                "1,2,0\n1,2\n",
                plain,
                "line 2: 2 values, expected 3 (2 features and a label)",
            ),
            (
                "1,2,0\n1,x,1\n",
                plain,
                "line 2, column 2: `x` is not a number",
            ),
            (
                "1,,0\n",
                plain,
                "line 1, column 2: `` is empty; expected a number",
            ),
            (
                "1,NaN,0\n",
                plain,
                "line 1, column 2: `NaN` is not a finite number",
            ),
            (
                "1,2,0\n\n1,2,3\n",
                plain,
                "line 3, column 3: the label 3 is not a class number 0..2",
            ),
            (
                "1,2,-1\n",
                plain,
                "line 1, column 3: the label `-1` is not a class number 0..2",
            ),
            (
                "1,2,0.5\n",
                plain,
                "line 1, column 3: the label `0.5` is not a class number 0..2",
            ),
            ("", plain, "the file has no samples"),
            (
                "",
                header,
                "the file is empty; expected a header `rows,features,class names`",
            ),
            (
                "1,2,0\n",
                header,
                "the header on line 1 says 1 sample, but the file has 0",
            ),
            (
                "rows,2,a\n",
                header,
                "line 1: expected a header `rows,features,class names...`, found `rows,2,a` \
                 (the number of rows `rows` is not a count)",
            ),
            (
                "3,1,a,b\n1,0\n2,1\n",
                header,
                "the header on line 1 says 3 samples, but the file has 2",
            ),
            (
                "1,1,a,b\n1,2\n",
                header,
                "line 2, column 2: the label 2 is not a class number 0..1",
            ),
            (
                "1,1,a,c\n1,0\n",
                named,
                "line 1: the header names the classes a, c, expected a, b",
            ),
        ] {
            assert_eq!(
                refusal(text, format),
                format!("test.csv: {expected}"),
                "{text:?}"
            );
        }
        let bytes = b"1,2,0\n1,\xff,0\n";
        let got = read_labeled_csv_from(&bytes[..], "b.csv", plain).unwrap_err();
        assert_eq!(got.to_string(), "b.csv: line 2: not UTF-8 text");
    }

    #[test]
    fn gzip_is_read_and_corrupt_gzip_is_an_error() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"1,2,0\n3,4,1\n").unwrap();
        let gz = encoder.finish().unwrap();
        let (x, labels) = read_labeled_csv_from(&gz[..], "a.csv.gz", &digits_like()).unwrap();
        assert_eq!(x, array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(labels, [0, 1]);
        let cut = &gz[..gz.len() - 12];
        let err = read_labeled_csv_from(cut, "a.csv.gz", &digits_like()).unwrap_err();
        assert!(err.to_string().starts_with("a.csv.gz: line "), "{err}");
        let mut broken = gz.clone();
        broken[12] ^= 0xff;
        let err = read_labeled_csv_from(&broken[..], "a.csv.gz", &digits_like()).unwrap_err();
        assert!(err.to_string().starts_with("a.csv.gz: "), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = load_digits("no/such/file.csv.gz").unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == "no/such/file.csv.gz"),
            "{err}"
        );
    }

    #[test]
    fn the_bundled_data_sets_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
        let (x, labels) = load_digits(root.join("digits.csv.gz")).unwrap();
        assert_eq!(x.dim(), (1797, 64));
        assert_eq!(labels.len(), 1797);
        assert!(x.iter().all(|&v| (0.0..=16.0).contains(&v)));
        assert_eq!(labels[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let (x, labels) = load_iris(root.join("iris.csv")).unwrap();
        assert_eq!(x.dim(), (150, 4));
        assert_eq!(x.row(0), array![5.1, 3.5, 1.4, 0.2]);
        assert_eq!(
            (0..3)
                .map(|c| labels.iter().filter(|&&l| l == c).count())
                .collect::<Vec<_>>(),
            [50, 50, 50]
        );
    }
}
