//! `denpa graph --format svg` and the page's graph: a DOT text laid out and
//! drawn as SVG in Rust by layout-rs (no Graphviz), behind the `page`
//! feature.

/// Lays out and draws a DOT graph as SVG (layout-rs). Its failures, a
/// panic included, become an error, and so does an empty drawing.
pub fn svg(dot: &str) -> Result<String, String> {
    let draw = || -> Result<String, String> {
        let ast = layout::gv::DotParser::new(dot).process()?;
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&ast);
        let mut graph = builder.get();
        // layout-rs checks the whole graph for a cycle after every arrow it
        // adds, by a search of every path: with a residual stream (a GPT's)
        // that is exponential in the depth. The graph is acyclic by
        // construction (arguments before users, ∂ℓ/∂u before ∂ℓ/∂v).
        graph.dag.set_validate(false);
        let mut writer = layout::backends::svg::SVGWriter::new();
        graph.do_it(false, false, false, &mut writer);
        Ok(writer.finalize())
    };
    let svg = std::panic::catch_unwind(std::panic::AssertUnwindSafe(draw)).map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no reason given".into());
        format!("the layout failed ({why})")
    })??;
    if !svg.contains("<svg") || !svg.trim_end().ends_with("</svg>") {
        return Err("the layout produced no drawing".into());
    }
    Ok(sorted_styles(&svg))
}

/// The SVG with the rules of its `<style>` block sorted: layout-rs writes
/// them in a hash map's order, which changes from run to run.
fn sorted_styles(svg: &str) -> String {
    let Some((head, rest)) = svg.split_once("<style>\n") else {
        return svg.to_string();
    };
    let Some((rules, tail)) = rest.split_once("</style>") else {
        return svg.to_string();
    };
    let mut rules: Vec<&str> = rules.lines().collect();
    rules.sort_unstable();
    let mut out = String::with_capacity(svg.len());
    out.push_str(head);
    out.push_str("<style>\n");
    for rule in rules {
        out.push_str(rule);
        out.push('\n');
    }
    out.push_str("</style>");
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawing_that_fails_is_an_error_not_an_empty_svg() {
        // Two graphs in one DOT text: what `graph --format svg` once drew as
        // nothing, with exit status 0.
        let two = "digraph A { a -> b; }\ndigraph B { c -> d; }\n";
        assert!(svg(two).is_err());
        assert!(svg("").is_err());
        assert!(svg("digraph A { a -> ").is_err());
        let one = svg("digraph A { a -> b; }").unwrap();
        assert!(one.contains("<svg") && one.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn the_style_rules_are_sorted() {
        let svg = "<svg><style>\n.b { x }\n.a { y }\n</style><g/></svg>";
        assert_eq!(
            sorted_styles(svg),
            "<svg><style>\n.a { y }\n.b { x }\n</style><g/></svg>"
        );
    }
}
