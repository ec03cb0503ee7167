#!/usr/bin/env node
// Checks the pages of `denpa explain --format html` in Debian's headless
// Chromium: node check.mjs DIR [--screenshot NAME.explain.html[#ID]=OUT.png]...
//
// Every *.html under DIR is loaded (file://) in one browser, each in a fresh
// context, and checked against the page contract (see README.md and
// sample/sample.explain.html). One line per page; exit 1 if any failed.

import { chromium } from "playwright-core";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

const CHROMIUM = process.env.DENPA_CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SECTIONS = ["equations", "graph", "code"];
const BARS = ["forward", "shared", "unshared"];
const MARKED = "[data-product],[data-param],[data-stmt]";
// The tables of #numbers, each after an <h3> that starts with its name.
const TABLES = ["Forward", "Backward", "Gradients"];
// Requests that touch neither the network nor the disk.
const INERT = /^(data|blob|about):/i;

function usage(message) {
  if (message) console.error(`check.mjs: ${message}`);
  console.error("usage: node check.mjs DIR [--screenshot NAME.explain.html[#ID]=OUT.png]...");
  process.exit(2);
}

function parseArgs(argv) {
  let dir = null;
  const shots = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let spec = null;
    if (arg === "--screenshot") {
      spec = argv[++i];
      if (spec === undefined) usage("--screenshot needs NAME=OUT.png");
    } else if (arg.startsWith("--screenshot=")) {
      spec = arg.slice("--screenshot=".length);
    } else if (arg === "-h" || arg === "--help") {
      usage();
    } else if (arg.startsWith("-")) {
      usage(`unknown option ${arg}`);
    } else if (dir === null) {
      dir = arg;
    } else {
      usage(`one DIR only (got ${dir} and ${arg})`);
    }
    if (spec !== null) {
      const eq = spec.indexOf("=");
      if (eq <= 0 || eq === spec.length - 1) usage(`--screenshot ${spec}: expected NAME[#ID]=OUT.png`);
      // NAME#ID shoots the element with that id (a section) instead of the page.
      const [name, id] = spec.slice(0, eq).split("#");
      if (!shots.has(name)) shots.set(name, []);
      shots.get(name).push({ out: path.resolve(spec.slice(eq + 1)), id: id || null });
    }
  }
  if (dir === null) usage("no DIR");
  return { dir: path.resolve(dir), shots };
}

async function htmlFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") out.push(...(await htmlFiles(full)));
    } else if (entry.isFile() && entry.name.endsWith(".html")) {
      out.push(full);
    }
  }
  return out.sort();
}

const short = (s, n = 160) => {
  s = String(s).replace(/\s+/g, " ").trim();
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
};
const firstLine = (e) => short(String(e && e.message ? e.message : e).split("\n")[0]);
const sel = (attr, value) => `[${attr}=${JSON.stringify(value)}]`;

// Everything that needs no interaction, in the page. Returns the failures
// and what the interactive checks need.
function staticChecks({ SECTIONS, BARS, MARKED }) {
  const fail = [];
  const MATHML = "http://www.w3.org/1998/Math/MathML";
  const describe = (el) => {
    const where = el.closest("section[id]");
    const text = (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 40);
    return `<${el.localName}>${where ? ` in #${where.id}` : ""}${text ? ` "${text}"` : ""}`;
  };
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };

  for (const d of document.querySelectorAll("details")) d.open = true;

  // Sections.
  const section = {};
  for (const id of [...SECTIONS, "ledger"]) {
    section[id] = document.getElementById(id);
    if (!section[id] || section[id].localName !== "section") fail.push(`no <section id="${id}">`);
  }

  // Formulas.
  const maths = [...document.querySelectorAll("math")];
  if (maths.length === 0) fail.push("no <math> element");
  const foreign = maths.filter((m) => m.namespaceURI !== MATHML);
  if (foreign.length) fail.push(`${foreign.length} <math> not parsed as MathML, first ${describe(foreign[0])}`);
  const empty = maths.filter((m) => !box(m));
  if (empty.length) fail.push(`${empty.length} of ${maths.length} <math> with an empty box, first ${describe(empty[0])}`);
  const errors = document.getElementsByTagNameNS(MATHML, "merror");
  if (errors.length) fail.push(`${errors.length} <merror> (a formula that did not parse), first ${describe(errors[0])}`);
  if (section.equations && !section.equations.querySelector('math[display="block"]')) {
    fail.push('no <math display="block"> in #equations');
  }

  // Graph and ledger: inline SVG that is drawn.
  for (const id of ["graph", "ledger"]) {
    const svg = section[id] && section[id].querySelector("svg");
    if (section[id] && !svg) fail.push(`no inline <svg> in #${id}`);
    else if (svg && !box(svg)) fail.push(`the <svg> in #${id} has an empty box`);
  }
  if (section.code && !section.code.querySelector("pre")) fail.push("no <pre> in #code");
  if (section.ledger) {
    const bars = [...section.ledger.querySelectorAll("[data-bar]")];
    const kinds = new Set(bars.map((b) => b.getAttribute("data-bar")));
    for (const k of BARS) if (!kinds.has(k)) fail.push(`no bar data-bar="${k}" in #ledger`);
    for (const k of kinds) if (!BARS.includes(k)) fail.push(`unknown bar data-bar="${k}" in #ledger`);
    const notRect = bars.filter((b) => b.localName !== "rect");
    if (notRect.length) fail.push(`data-bar on <${notRect[0].localName}>, not <rect>`);
    const forward = bars.find((b) => b.getAttribute("data-bar") === "forward");
    if (forward && !box(forward)) fail.push('the bar data-bar="forward" has an empty box');
  }

  // Ids are unique (the statements' links need them).
  const seen = new Map();
  for (const el of document.querySelectorAll("[id]")) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  const dup = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  if (dup.length) fail.push(`duplicate id: ${dup.slice(0, 5).join(", ")}`);

  // Marks: where each product and parameter appears.
  const values = (attr) => [...new Set([...document.querySelectorAll(`[${attr}]`)].map((e) => e.getAttribute(attr)))];
  const inSection = (id, attr, v) =>
    section[id] ? [...section[id].querySelectorAll(`[${attr}]`)].filter((e) => e.getAttribute(attr) === v) : [];
  const products = values("data-product");
  const params = values("data-param");
  for (const p of products) {
    if (!/^[A-Z][0-9]*$/.test(p)) fail.push(`data-product="${p}" is not a letter (A, B, …, A1, …)`);
    for (const id of SECTIONS) {
      if (section[id] && inSection(id, "data-product", p).length === 0) fail.push(`product ${p} not in #${id}`);
    }
  }
  for (const p of params) {
    for (const id of ["equations", "code"]) {
      if (section[id] && inSection(id, "data-param", p).length === 0) fail.push(`parameter ${p} not in #${id}`);
    }
  }

  // Each product its own colour, unlike the formula around it.
  const paint = (el) => {
    const s = getComputedStyle(el);
    return [s.color, s.backgroundColor, s.fill, s.stroke].join(" / ");
  };
  const colours = new Map();
  for (const p of products) {
    const el = inSection("equations", "data-product", p)[0];
    if (!el) continue;
    const c = paint(el);
    const math = el.closest("math");
    if (math && paint(math) === c) fail.push(`product ${p} has the colour of its formula`);
    if (colours.has(c)) fail.push(`products ${colours.get(c)} and ${p} have the same colour`);
    else colours.set(c, p);
  }

  // Focusable marks.
  const marked = [...document.querySelectorAll(MARKED)];
  // An element inside a focusable one with the same mark (a graph node's
  // label inside its <g>) is reached through it.
  const sameMark = (e, a) => ["data-product", "data-param", "data-stmt"].some(
    (k) => e.hasAttribute(k) && a.getAttribute(k) === e.getAttribute(k));
  const reachedThrough = (e) => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (a.getAttribute("tabindex") === "0" && sameMark(e, a)) return true;
    }
    return false;
  };
  const unfocusable = marked.filter((e) => e.getAttribute("tabindex") !== "0" && !reachedThrough(e));
  if (unfocusable.length) {
    fail.push(`${unfocusable.length} of ${marked.length} marked elements without tabindex="0", first ${describe(unfocusable[0])}`);
  }

  // Statements: in the code, each linked to an element of the page.
  const stmts = [...document.querySelectorAll(".stmt")];
  let unlinked = [];
  for (const s of stmts) {
    const name = s.getAttribute("data-stmt");
    if (!name) {
      fail.push(`.stmt without data-stmt: ${describe(s)}`);
      continue;
    }
    if (section.code && !section.code.contains(s)) fail.push(`statement ${name} outside #code`);
    const link = s.closest("a[href]") || s.querySelector("a[href]");
    const target = s.getAttribute("data-eq") || (link && (link.getAttribute("href").match(/^#(.+)$/) || [])[1]);
    if (!target) unlinked.push(`${name} (no data-eq or <a href="#…">)`);
    else if (!document.getElementById(target)) unlinked.push(`${name} → #${target} (no such id)`);
  }
  if (unlinked.length) fail.push(`${unlinked.length} statements unlinked: ${unlinked.slice(0, 3).join(", ")}`);

  return {
    fail,
    product: products[0] || null,
    param: params[0] || null,
    stmt: stmts.map((s) => s.getAttribute("data-stmt")).find(Boolean) || null,
    maths: maths.length,
  };
}

// The numeric walk-through, for a page that has <section id="numbers">
// (null for one that has not). Returns the failures and the first product
// and parameter marked in it.
function numbersChecks({ TABLES }) {
  const numbers = document.getElementById("numbers");
  if (!numbers) return null;
  const fail = [];
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const text = (el) => (el.textContent || "").replace(/\s+/g, " ").trim();
  const label = (row) => {
    const th = row.querySelector(":scope > th");
    return `"${text(th || row).slice(0, 40)}"`;
  };

  if (numbers.localName !== "section") fail.push(`#numbers is a <${numbers.localName}>, not a <section>`);
  const visible = numbers.checkVisibility ? numbers.checkVisibility({ visibilityProperty: true, opacityProperty: true }) : true;
  if (!visible || !box(numbers)) fail.push("#numbers is not visible (an empty box, or hidden)");

  // Forward, Backward, Gradients: each a table.values after its <h3>.
  const h3s = [...numbers.querySelectorAll("h3")];
  for (const name of TABLES) {
    const h3 = h3s.find((h) => text(h).startsWith(name));
    if (!h3) {
      fail.push(`no <h3> "${name}…" in #numbers`);
      continue;
    }
    let table = null;
    for (let e = h3.nextElementSibling; e && !/^h[1-3]$/.test(e.localName) && !table; e = e.nextElementSibling) {
      table = e.matches("table.values") ? e : e.querySelector("table.values");
    }
    if (!table) fail.push(`no table.values after <h3> "${name}…" in #numbers`);
    else if (table.rows.length === 0) fail.push(`the table.values after <h3> "${name}…" has no rows`);
  }

  // Every row of every table.values: a value next to its shape, shown, and a number.
  const tables = [...numbers.querySelectorAll("table.values")];
  const noShape = [];
  const blank = [];
  const nan = [];
  let rows = 0;
  for (const table of tables) {
    for (const row of table.rows) {
      rows++;
      const shape = row.querySelector(":scope > td.shape");
      const cell = shape && shape.nextElementSibling;
      if (!cell || cell.localName !== "td") noShape.push(label(row));
      else if (!text(cell) || !box(cell)) blank.push(label(row));
      else if (/NaN/.test(text(cell))) nan.push(label(row));
    }
  }
  if (noShape.length) fail.push(`${noShape.length} of ${rows} table.values rows without a <td> after td.shape, first ${noShape[0]}`);
  if (blank.length) fail.push(`${blank.length} of ${rows} table.values rows with an empty or unshown value, first ${blank[0]}`);
  if (nan.length) fail.push(`${nan.length} of ${rows} table.values rows show NaN: ${nan.slice(0, 5).join(", ")}`);

  // Finite differences: one row per parameter, each agreeing.
  const checks = numbers.querySelector("table.checks");
  if (!checks) {
    fail.push("no table.checks in #numbers");
  } else {
    const params = [...new Set([...document.querySelectorAll("[data-param]")].map((e) => e.getAttribute("data-param")))];
    const seen = new Map();
    const unnamed = [];
    const differ = [];
    for (const row of [...checks.rows].filter((r) => r.querySelector(":scope > td"))) {
      const code = row.querySelector("code[data-param]");
      if (!code) {
        unnamed.push(label(row));
        continue;
      }
      const p = code.getAttribute("data-param");
      seen.set(p, (seen.get(p) || 0) + 1);
      const agrees = row.getAttribute("data-agrees");
      if (agrees !== "true") differ.push(agrees === null ? `${p} (no data-agrees)` : p);
    }
    if (unnamed.length) fail.push(`${unnamed.length} table.checks rows without a code[data-param], first ${unnamed[0]}`);
    const missing = params.filter((p) => !seen.has(p));
    if (missing.length) fail.push(`table.checks has no row for parameter ${missing.join(", ")}`);
    const twice = [...seen].filter(([, n]) => n > 1).map(([p]) => p);
    if (twice.length) fail.push(`table.checks has more than one row for parameter ${twice.join(", ")}`);
    const unknown = [...seen.keys()].filter((p) => !params.includes(p));
    if (unknown.length) fail.push(`table.checks has a row for ${unknown.join(", ")}, not a parameter of the page`);
    if (differ.length) fail.push(`finite differences disagree (data-agrees not "true") for ${differ.join(", ")}`);
  }

  const first = (attr) => {
    const el = numbers.querySelector(`[${attr}]`);
    return el ? el.getAttribute(attr) : null;
  };
  return { fail, product: first("data-product"), param: first("data-param") };
}

// The page's scroll position once a smooth scroll, if any, has ended.
async function restingScrollY() {
  const frame = () => new Promise((ok) => requestAnimationFrame(ok));
  let y = scrollY;
  for (let still = 0, i = 0; still < 3 && i < 90; i++) {
    await frame();
    still = scrollY === y ? still + 1 : 0;
    y = scrollY;
  }
  return y;
}

// Which elements carry "highlight", against those that should.
function highlightState({ attr, value, SECTIONS }) {
  const want = new Set([...document.querySelectorAll(`[${attr}]`)].filter((e) => e.getAttribute(attr) === value));
  const lit = [...document.querySelectorAll(".highlight")];
  const describe = (el) => {
    const marks = ["data-product", "data-param", "data-stmt"]
      .filter((a) => el.hasAttribute(a))
      .map((a) => `${a}="${el.getAttribute(a)}"`);
    const where = el.closest("section[id]");
    return `<${el.localName}${marks.length ? " " + marks.join(" ") : ""}>${where ? ` in #${where.id}` : ""}`;
  };
  const sections = {};
  for (const id of SECTIONS) {
    const s = document.getElementById(id);
    sections[id] = s ? lit.filter((e) => s.contains(e)).length : 0;
  }
  return {
    lit: lit.length,
    missing: [...want].filter((e) => !e.classList.contains("highlight")).map(describe),
    extra: lit.filter((e) => !want.has(e)).map(describe),
    sections,
  };
}

async function checkPage(browser, file, url, shot) {
  const fail = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: "block" });
  // Nothing may leave the machine; what a page asks for is recorded below.
  await context.route(/^(https?|wss?|ftp):/i, (route) => route.abort("blockedbyclient"));
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  page.setDefaultNavigationTimeout(15000);
  const pageUrl = url.href;
  const requests = [];
  page.on("console", (m) => {
    if (["error", "warning", "assert"].includes(m.type())) fail.push(`console ${m.type()}: ${short(m.text())}`);
  });
  page.on("pageerror", (e) => fail.push(`page error: ${firstLine(e)}`));
  page.on("crash", () => fail.push("the page crashed"));
  page.on("popup", (p) => fail.push(`opened a window: ${p.url()}`));
  page.on("websocket", (w) => fail.push(`websocket: ${w.url()}`));
  context.on("request", (r) => {
    const u = r.url().split("#")[0];
    if (u !== pageUrl && !INERT.test(u)) requests.push(u);
  });

  const settle = () => page.evaluate(() => document.fonts.ready.then(() =>
    new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))));

  try {
    await page.goto(pageUrl, { waitUntil: "load" });
    await settle();
    for (const { out, id } of shot || []) {
      if (id) await page.locator(`#${id}`).screenshot({ path: out });
      else await page.screenshot({ path: out, fullPage: true });
    }

    const s = await page.evaluate(staticChecks, { SECTIONS, BARS, MARKED });
    fail.push(...s.fail);
    const n = await page.evaluate(numbersChecks, { TABLES });
    if (n) fail.push(...n.fail);

    // Expect exactly the elements marked attr=value highlighted, in at least
    // the sections named; or, with value null, nothing highlighted.
    const expect = async (how, attr, value, sections) => {
      const counted = [...new Set([...SECTIONS, ...(sections || [])])];
      const h = await page.evaluate(highlightState, { attr, value: value ?? "", SECTIONS: counted });
      const name = `${attr.slice(5)} ${value}`;
      if (value === null) {
        if (h.lit) fail.push(`${how}: ${h.lit} elements still highlighted (${h.extra.slice(0, 2).join(", ")})`);
        return;
      }
      if (h.lit === 0) {
        fail.push(`${how} on ${name}: nothing highlighted`);
        return;
      }
      if (h.missing.length) fail.push(`${how} on ${name}: ${h.missing.length} not highlighted, first ${h.missing[0]}`);
      if (h.extra.length) fail.push(`${how} on ${name}: ${h.extra.length} others highlighted, first ${h.extra[0]}`);
      for (const id of sections) if (!h.sections[id]) fail.push(`${how} on ${name}: nothing highlighted in #${id}`);
    };
    // Each step starts with nothing highlighted: after a failure that left
    // something lit (already reported), the class is taken off by hand.
    const step = async (what, fn) => {
      try {
        await page.evaluate(() => {
          for (const e of document.querySelectorAll(".highlight")) e.classList.remove("highlight");
        });
        await fn();
      } catch (e) {
        fail.push(`${what}: ${firstLine(e)}`);
      }
    };

    // Before anything is clicked or focused: Tab from the top reaches a marked
    // element, and Enter there toggles its highlight.
    if (s.product || s.param || s.stmt) {
      await step("Tab", async () => {
        let reached = null;
        for (let i = 0; i < 100 && !reached; i++) {
          await page.keyboard.press("Tab");
          reached = await page.evaluate((m) => {
            const a = document.activeElement;
            return a && a.matches(m) ? a.localName : null;
          }, MARKED);
        }
        if (!reached) {
          fail.push("Tab from the top reaches no marked element in 100 presses");
          return;
        }
        await page.keyboard.press("Enter");
        const lit = await page.evaluate(() => document.activeElement.classList.contains("highlight"));
        if (!lit) fail.push(`Enter on the first marked element reached by Tab (<${reached}>): not highlighted`);
        await page.keyboard.press("Enter");
        await expect("second Enter on the element reached by Tab", "data-stmt", null);
      });
    }

    // A click as a person makes it: at the middle of the element's first box
    // (the first line of a statement), on whatever is drawn there; a label
    // drawn over its node is fine if it carries the same mark.
    const click = async (locator, attr, value) => {
      const at = await locator.evaluate(async (el, { attr, value, MARKED }) => {
        el.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
        // Until it stops moving (a smooth scroll may still be running).
        const frame = () => new Promise((ok) => requestAnimationFrame(ok));
        let r = null;
        for (let i = 0; i < 60; i++) {
          const now = [...el.getClientRects()].find((r) => r.width > 0 && r.height > 0);
          if (r && now && now.left === r.left && now.top === r.top) break;
          r = now;
          await frame();
        }
        if (!r) return { error: "has no box to click" };
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        const hit = document.elementFromPoint(x, y);
        const mark = hit && hit.closest(MARKED);
        if (!mark || mark.getAttribute(attr) !== value) {
          const what = hit ? `<${hit.localName}${hit.id ? "#" + hit.id : ""}>` : "nothing";
          return { error: `its middle shows ${what}${mark ? ` marked otherwise` : ""}` };
        }
        return { x, y };
      }, { attr, value, MARKED });
      if (at.error) throw new Error(`${attr}="${value}" ${at.error}`);
      await page.mouse.click(at.x, at.y);
    };

    if (s.product) {
      const attr = "data-product";
      const first = (id) => page.locator(`#${id} ${sel(attr, s.product)}`).first();
      await step(`product ${s.product}, click`, async () => {
        if ((await first("equations").count()) === 0) return; // reported by the static checks
        await click(first("equations"), attr, s.product);
        await expect("click", attr, s.product, SECTIONS);
        await click(first("equations"), attr, s.product);
        await expect("second click", attr, null);
      });
      await step(`product ${s.product}, keyboard`, async () => {
        const el = first("equations");
        if ((await el.count()) === 0) return;
        await el.focus();
        const focused = await el.evaluate((e) => e === document.activeElement);
        if (!focused) fail.push(`product ${s.product}: focus() does not focus it`);
        await page.keyboard.press("Enter");
        await expect("Enter", attr, s.product, SECTIONS);
        const y = await page.evaluate(restingScrollY);
        await page.keyboard.press(" ");
        await expect("Space", attr, null);
        if (focused && (await page.evaluate(restingScrollY)) !== y) {
          fail.push("Space on a marked element scrolls the page (no preventDefault)");
        }
      });
      for (const id of ["graph", "code"]) {
        await step(`product ${s.product}, click in #${id}`, async () => {
          if ((await first(id).count()) === 0) return; // reported by the static checks
          await click(first(id), attr, s.product);
          await expect(`click in #${id}`, attr, s.product, SECTIONS);
          await click(first(id), attr, s.product);
          await expect(`second click in #${id}`, attr, null);
        });
      }
    }

    if (s.param) {
      const attr = "data-param";
      const el = page.locator(`#equations ${sel(attr, s.param)}`).first();
      await step(`parameter ${s.param}`, async () => {
        if ((await el.count()) === 0) return; // reported by the static checks
        await click(el, attr, s.param);
        await expect("click", attr, s.param, ["equations", "code"]);
        await click(el, attr, s.param);
        await expect("second click", attr, null);
        await el.focus();
        await page.keyboard.press("Enter");
        await expect("Enter", attr, s.param, ["equations", "code"]);
        await page.keyboard.press("Enter");
        await expect("second Enter", attr, null);
      });
    }

    if (s.stmt) {
      // A statement may carry its product's or parameter's mark too, so only
      // ask that it lights up and goes out.
      const el = page.locator(`#code .stmt${sel("data-stmt", s.stmt)}`).first();
      await step(`statement ${s.stmt}`, async () => {
        await el.focus();
        await page.keyboard.press("Enter");
        if (!(await el.evaluate((e) => e.classList.contains("highlight")))) fail.push(`Enter on statement ${s.stmt}: not highlighted`);
        await page.keyboard.press("Enter");
        await expect(`second Enter on statement ${s.stmt}`, "data-stmt", null);
      });
    }

    // In #numbers: a click on a product or a parameter there lights it up in
    // #equations as well, and a second click clears it.
    if (n) {
      for (const [attr, value, what] of [["data-product", n.product, "product"], ["data-param", n.param, "parameter"]]) {
        if (!value) continue;
        const el = page.locator(`#numbers ${sel(attr, value)}`).first();
        await step(`${what} ${value}, click in #numbers`, async () => {
          await click(el, attr, value);
          await expect("click in #numbers", attr, value, ["equations", "numbers"]);
          await click(el, attr, value);
          await expect("second click in #numbers", attr, null);
        });
      }
    }

    await settle();
  } catch (e) {
    fail.push(firstLine(e));
  }
  if (requests.length) fail.push(`${requests.length} requests besides the page: ${[...new Set(requests)].slice(0, 3).join(", ")}`);
  await context.close();
  return fail;
}

async function main() {
  const { dir, shots } = parseArgs(process.argv.slice(2));
  const st = await stat(dir).catch(() => null);
  if (!st || !st.isDirectory()) usage(`${dir}: not a directory`);
  const files = await htmlFiles(dir);
  if (files.length === 0) {
    console.log(`FAIL no *.html under ${dir}`);
    process.exit(1);
  }
  for (const name of shots.keys()) {
    if (!files.some((f) => path.basename(f) === name || path.relative(dir, f) === name)) {
      console.log(`FAIL --screenshot ${name}: no such page under ${dir}`);
      process.exit(1);
    }
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  let failed = 0;
  try {
    for (const file of files) {
      const rel = path.relative(dir, file);
      const shot = shots.get(rel) ?? shots.get(path.basename(file));
      const t0 = Date.now();
      const fail = await checkPage(browser, file, pathToFileURL(file), shot);
      const secs = ((Date.now() - t0) / 1000).toFixed(2);
      if (fail.length) {
        failed++;
        console.log(`FAIL ${rel} (${secs} s): ${fail.join("; ")}`);
      } else {
        const shots = (shot || []).map((s) => `, screenshot ${s.out}`).join("");
        console.log(`ok   ${rel} (${secs} s)${shots}`);
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`pages: ${files.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`check.mjs: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
