//! The page's style and its one small script: no framework, nothing
//! fetched.

/// The page's CSS. Each product's colour is set inline where it is used.
pub const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d232a; --muted: #5b6570; --rule: #d7dde3; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--ink); margin: 0 auto; max-width: 70rem; padding: 1rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--rule); }
p.note, .lede { color: var(--muted); }
table.eqs { border-collapse: collapse; }
table.eqs td { padding: 0.2rem 0.6rem; vertical-align: middle; }
table.eqs td.lhs { text-align: right; }
table.eqs td.note { color: var(--muted); font-size: 0.9rem; }
table.eqs tr:target, table.eqs tr.linked { background: #fff6cc; }
math { font-size: 1.1rem; font-family: "Latin Modern Math", "STIX Two Math", "DejaVu Math TeX Gyre", math; }
.product { border-radius: 3px; cursor: pointer; }
math .product { padding: 0 0.1em; }
.param { cursor: pointer; }
.highlight { outline: 2px solid #d7263d; outline-offset: 1px; background: #ffe4e1; }
svg .highlight, svg g.highlight * { stroke: #d7263d; stroke-width: 3px; }
#graph .drawing { overflow: auto; max-height: 80vh; border: 1px solid var(--rule); }
pre.code { background: #f6f8fa; padding: 1rem; overflow: auto; font-size: 0.85rem; line-height: 1.35; }
pre.code .comment { color: #2f6f3f; }
pre.code .stmt { display: inline-block; width: 100%; border-radius: 3px; cursor: pointer; }
pre.code .stmt:focus, .product:focus, .param:focus { outline: 2px dashed #555; }
#ledger svg text { font: 13px system-ui, sans-serif; }
table.values { border-collapse: collapse; margin: 0.5rem 0 1rem; }
table.values > tbody > tr > * { padding: 0.3rem 0.8rem 0.3rem 0; vertical-align: top; border-bottom: 1px solid var(--rule); }
table.values > tbody > tr > th { text-align: left; font-weight: normal; white-space: nowrap; }
table.values td.shape, table.values td.from { color: var(--muted); font-size: 0.85rem; }
table.values td.from a { color: inherit; }
table.matrix { border-collapse: collapse; border-left: 1px solid var(--ink); border-right: 1px solid var(--ink); font: 0.85rem ui-monospace, monospace; }
table.matrix td { padding: 0.05rem 0.45rem; text-align: right; border: 0; }
table.checks { border-collapse: collapse; }
table.checks th, table.checks td { padding: 0.2rem 0.7rem; border-bottom: 1px solid var(--rule); text-align: right; }
table.checks tr[data-agrees="false"] { background: #ffe4e1; }
.summary { font-size: 0.85rem; color: var(--muted); }
.block { display: inline-flex; align-items: flex-start; gap: 0.2rem; margin: 0 0.8rem 0.3rem 0; }
.block .index { color: var(--muted); font-size: 0.8rem; }
"#;

/// Clicking, or Enter or Space on, anything marked toggles `highlight` on
/// everything with the same mark; a statement also shows its equation.
pub const SCRIPT: &str = r#"
(function () {
  var keys = ["data-product", "data-param", "data-stmt"];
  function markOf(el) {
    for (var i = 0; i < keys.length; i++) {
      if (el.hasAttribute(keys[i]) && keys[i] !== "data-stmt") return [keys[i], el.getAttribute(keys[i])];
    }
    return el.hasAttribute("data-stmt") ? ["data-stmt", el.getAttribute("data-stmt")] : null;
  }
  function clear() {
    document.querySelectorAll(".highlight").forEach(function (e) { e.classList.remove("highlight"); });
    document.querySelectorAll("tr.linked").forEach(function (e) { e.classList.remove("linked"); });
  }
  function toggle(el) {
    var mark = markOf(el);
    if (!mark) return;
    var on = !el.classList.contains("highlight");
    clear();
    if (!on) return;
    document.querySelectorAll("[" + mark[0] + '="' + mark[1] + '"]').forEach(function (e) {
      e.classList.add("highlight");
    });
    var eq = el.getAttribute("data-eq");
    var row = eq && document.getElementById(eq);
    if (row) { row.classList.add("linked"); }
  }
  function target(event) {
    var el = event.target;
    while (el && el !== document) {
      if (el.nodeType === 1 && markOf(el)) return el;
      el = el.parentNode;
    }
    return null;
  }
  document.addEventListener("click", function (event) {
    var el = target(event);
    if (el) { toggle(el); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var el = target(event);
    if (el) { event.preventDefault(); toggle(el); }
  });
})();
"#;
