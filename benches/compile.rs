//! How the compiler's time grows with the network: `check`, `compile` (to
//! Rust tokens) and `explain` on generated networks of 1k to 64k graph nodes,
//! in three shapes (a chain of bindings, many layers side by side, a deep
//! stack of `dense` layers). At the end it prints the time per node of every
//! stage at every size, and the ratio of the largest size's to the smallest's:
//! a pass that is quadratic in the network shows as a growing row.
//!
//! `cargo bench --bench compile` (about ten minutes); a filter such as
//! `cargo bench --bench compile -- chain` or `-- explain` runs a part, and
//! `DENPA_COMPILE_NODES=1000,4000` other sizes. CONTRIBUTING.md says how to
//! read the table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};

#[path = "../tests/common/networks.rs"]
mod networks;

use networks::Shape;

/// The stages timed, each from the `.nn` text.
const STAGES: [&str; 3] = ["check", "compile", "explain"];

fn run(stage: &str, source: &str) {
    match stage {
        "check" => {
            black_box(denpa::check_source(source).expect("a valid network"));
        }
        "compile" => {
            black_box(denpa::compile(source).expect("a valid network"));
        }
        _ => {
            black_box(
                denpa::explain(source, None, denpa::explain::Format::Text)
                    .expect("a valid network"),
            );
        }
    }
}

/// The nodes of the forward graph that `source` builds.
fn forward_nodes(source: &str) -> usize {
    let file = denpa::syntax::parse(source).expect("it parses");
    let (nets, _) = denpa::check::check(&file).expect("it checks");
    denpa::ir::build(&nets[0], denpa::ir::Mode::Training)
        .nodes
        .len()
}

/// A network of `shape` with about `nodes` forward nodes.
fn network_of(shape: Shape, nodes: usize) -> (String, usize) {
    let per_binding = forward_nodes(&networks::network(shape, 101)) as f64 / 101.0;
    let bindings = ((nodes as f64 / per_binding).round() as usize).max(2);
    let source = networks::network(shape, bindings);
    let n = forward_nodes(&source);
    (source, n)
}

fn selected(id: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| f.split('|').any(|part| id.contains(part)))
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DENPA_COMPILE_NODES")
        .ok()
        .map(|s| {
            s.split(',')
                .map(|n| n.trim().parse().expect("DENPA_COMPILE_NODES: numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 4_000, 16_000, 64_000]);
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(1));
    // (shape, stage, size index) → the median seconds per node.
    let mut table: Vec<(Shape, &str, Vec<Option<f64>>)> = Vec::new();
    let mut nodes_of = vec![vec![0usize; sizes.len()]; Shape::ALL.len()];
    for (s, shape) in Shape::ALL.into_iter().enumerate() {
        let mut rows: Vec<Vec<Option<f64>>> = vec![vec![None; sizes.len()]; STAGES.len()];
        for (k, &size) in sizes.iter().enumerate() {
            let (source, nodes) = network_of(shape, size);
            nodes_of[s][k] = nodes;
            let group_name = format!("compile/{}/{nodes}", shape.name());
            if !STAGES
                .iter()
                .any(|stage| selected(&format!("{group_name}/{stage}")))
            {
                continue;
            }
            let mut group = c.benchmark_group(&group_name);
            group
                .sampling_mode(SamplingMode::Flat)
                .throughput(Throughput::Elements(nodes as u64));
            for (st, stage) in STAGES.iter().enumerate() {
                if !selected(&format!("{group_name}/{stage}")) {
                    continue;
                }
                let mut per_node = Vec::new();
                group.bench_function(*stage, |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            run(stage, &source);
                        }
                        let elapsed = start.elapsed();
                        per_node.push(elapsed.as_secs_f64() / iters as f64 / nodes as f64);
                        elapsed
                    })
                });
                if !per_node.is_empty() {
                    per_node.sort_by(f64::total_cmp);
                    rows[st][k] = Some(per_node[per_node.len() / 2]);
                }
            }
            group.finish();
        }
        for (st, stage) in STAGES.iter().enumerate() {
            table.push((shape, stage, std::mem::take(&mut rows[st])));
        }
    }
    report(&sizes, &nodes_of, &table);
}

/// The table: µs per node at each size, and the last size's over the first's.
fn report(sizes: &[usize], nodes_of: &[Vec<usize>], table: &[(Shape, &str, Vec<Option<f64>>)]) {
    let heads: Vec<String> = sizes.iter().map(|n| format!("{}k", n / 1000)).collect();
    println!(
        "\nµs per forward node (median of criterion's samples); the last column is the largest size's over the smallest's\n"
    );
    println!("| shape | stage | {} | growth |", heads.join(" | "));
    println!("|---|---|{}---:|", "---:|".repeat(sizes.len()));
    for (shape, stage, cells) in table {
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let text: Vec<String> = cells
            .iter()
            .map(|c| c.map_or("–".into(), |s| format!("{:.2}", s * 1e6)))
            .collect();
        let growth = match (
            cells.first().copied().flatten(),
            cells.last().copied().flatten(),
        ) {
            (Some(a), Some(b)) if cells.len() > 1 => format!("{:.2}×", b / a),
            _ => "–".into(),
        };
        println!(
            "| {} | {stage} | {} | {growth} |",
            shape.name(),
            text.join(" | ")
        );
    }
    let shapes = Shape::ALL.iter().zip(nodes_of).map(|(s, n)| {
        let n: Vec<String> = n.iter().map(usize::to_string).collect();
        format!("{}: {}", s.name(), n.join(", "))
    });
    println!(
        "\nforward nodes of each network: {}",
        shapes.collect::<Vec<_>>().join("; ")
    );
}
