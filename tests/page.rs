//! `denpa explain --format html`: the page of every example and every pass
//! fixture is well-formed (also as XML), its math renders without errors,
//! each shared product is marked in the equations, the graph and the code,
//! each code statement links to an equation that exists; the library call
//! on a generated network's `SOURCE` builds the page the command writes.
//! (`tests/page_browser.rs` loads the pages in a real browser.)

use std::path::PathBuf;

/// Every `.nn` file the pages are checked on: the examples and the pass
/// fixtures.
pub fn page_sources() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "tests/fixtures/pass", "docs/nets"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "nn"))
            .collect();
        paths.sort();
        files.extend(paths);
    }
    files
}

/// The elements with an attribute of a value under a section.
fn marked<'a>(
    doc: &'a roxmltree::Document<'a>,
    section: &str,
    attribute: &str,
    value: &str,
) -> usize {
    doc.descendants()
        .filter(|n| n.attribute("id") == Some(section))
        .flat_map(|s| s.descendants())
        .filter(|n| n.attribute(attribute) == Some(value))
        .count()
}

#[test]
fn every_page_is_well_formed_and_marks_each_product_in_three_places() {
    let mut pages = 0;
    for path in page_sources() {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        let all = denpa::page::pages(&source, None).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for page in all {
            pages += 1;
            let html = &page.html;
            assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
            assert!(!html.contains("<merror"), "{name}: a formula did not parse");
            assert!(
                !html.contains("http://") || !html.contains("src=\"http"),
                "{name}: fetches"
            );
            let xml = html.trim_start_matches("<!DOCTYPE html>");
            let doc = roxmltree::Document::parse(xml)
                .unwrap_or_else(|e| panic!("{name}: not well-formed: {e}"));
            assert!(doc.descendants().any(|n| n.has_tag_name("math")), "{name}");
            let products: Vec<&str> = doc
                .descendants()
                .filter_map(|n| n.attribute("data-product"))
                .collect();
            for letter in &products {
                for section in ["equations", "graph", "code"] {
                    assert!(
                        marked(&doc, section, "data-product", letter) > 0,
                        "{name} {}: product {letter} not in #{section}",
                        page.network
                    );
                }
            }
            let ids: Vec<&str> = doc
                .descendants()
                .filter_map(|n| n.attribute("id"))
                .collect();
            for n in doc.descendants().filter(|n| n.has_attribute("data-stmt")) {
                let eq = n.attribute("data-eq").unwrap();
                assert!(
                    ids.contains(&eq),
                    "{name}: {eq} of {:?}",
                    n.attribute("data-stmt")
                );
            }
            let bars = doc
                .descendants()
                .filter(|n| n.attribute("data-bar").is_some())
                .count();
            assert_eq!(bars, 3, "{name}: the ledger's bars");
        }
    }
    assert!(pages > 80, "{pages} pages");
}

#[test]
fn the_xor_page_colours_a_and_b_and_links_every_gradient() {
    let source = include_str!("../examples/xor.nn");
    let html = denpa::page::html(source).unwrap();
    let doc = roxmltree::Document::parse(html.trim_start_matches("<!DOCTYPE html>")).unwrap();
    for (letter, statement) in [("A", "delta_z_y"), ("B", "delta_z_h")] {
        let stmt = doc
            .descendants()
            .find(|n| n.attribute("data-stmt") == Some(statement))
            .unwrap();
        assert_eq!(stmt.attribute("data-product"), Some(letter));
        assert_eq!(
            stmt.attribute("data-eq"),
            Some(format!("eq-{letter}").as_str())
        );
        assert!(doc
            .descendants()
            .any(|n| n.attribute("id") == Some(&format!("eq-{letter}"))));
    }
    for param in ["W1", "b1", "W2", "b2"] {
        for section in ["equations", "graph", "code"] {
            assert!(
                marked(&doc, section, "data-param", param) > 0,
                "{param} in #{section}"
            );
        }
    }
    // Each product has its own colour.
    assert!(html.contains("[data-product=\"A\"] { background: #"));
    let colour = |l: &str| {
        let at = html
            .find(&format!("[data-product=\"{l}\"] {{ background: "))
            .unwrap();
        html[at..].split('#').nth(1).unwrap()[..6].to_string()
    };
    assert_ne!(colour("A"), colour("B"));
}

#[test]
fn a_generated_network_s_source_gives_the_page_of_its_file() {
    denpa_macros::net! {
        network Tiny {
            input x: [2]
            target t: [1]
            h = tanh(dense(x, 3))
            output y = sigmoid(dense(h, 1))
            loss = sse(y, t)
        }
    }
    let from_source = denpa::page::html(Tiny::SOURCE).unwrap();
    let written = denpa::page::pages(Tiny::SOURCE, Some("Tiny")).unwrap();
    assert_eq!(from_source, written[0].html);
    assert!(from_source.contains("<title>Tiny — how it learns</title>"));
}

#[test]
fn the_command_writes_one_page_per_network() {
    let dir = std::env::temp_dir().join(format!("denpa-pages-{}", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_denpa"))
        .args([
            "explain",
            "--format",
            "html",
            "tests/fixtures/pass/two_networks.nn",
            "-o",
        ])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for network in ["Linear", "Classifier"] {
        let page = std::fs::read_to_string(dir.join(format!("{network}.explain.html"))).unwrap();
        assert!(page.contains(&format!("<title>{network} — how it learns</title>")));
    }
    // Printed, a page is one document: several networks need a name.
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_denpa"))
        .args([
            "explain",
            "--format",
            "html",
            "tests/fixtures/pass/two_networks.nn",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(printed.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
