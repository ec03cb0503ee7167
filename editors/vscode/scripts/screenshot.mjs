// Renders a real .nn file highlighted by this extension's TextMate grammar
// (through shiki, with VS Code's Dark+ theme) and takes a PNG of the code
// block in headless Chromium: docs/editor-highlighting.png.
//
//   npm run screenshot [-- SOURCE.nn [OUT.png]]
//
// Needs a Chromium: /usr/bin/chromium (Debian: `apt-get install chromium`),
// or the executable named by $CHROMIUM.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createHighlighter } from "shiki";

const here = dirname(fileURLToPath(import.meta.url));
const extension = resolve(here, "..");
const repository = resolve(extension, "../..");
const source = resolve(process.argv[2] ?? join(repository, "examples/names_gpt.nn"));
const output = resolve(process.argv[3] ?? join(repository, "docs/editor-highlighting.png"));
const theme = "dark-plus";

const grammar = JSON.parse(readFileSync(join(extension, "syntaxes/denpa.tmLanguage.json"), "utf8"));
const highlighter = await createHighlighter({
  themes: [theme],
  langs: [{ ...grammar, name: "denpa", aliases: ["nn"] }],
});
const code = readFileSync(source, "utf8").replace(/\n$/, "");
const block = highlighter.codeToHtml(code, { lang: "denpa", theme });
highlighter.dispose();

const html = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<style>
  html, body { margin: 0; padding: 0; background: transparent; }
  body { padding: 8px; }
  pre.shiki {
    display: inline-block;
    margin: 0;
    padding: 16px 20px;
    border-radius: 6px;
    font-family: "DejaVu Sans Mono", "Liberation Mono", monospace;
    font-size: 14px;
    line-height: 1.45;
    white-space: pre;
    tab-size: 4;
  }
</style>
</head>
<body>${block}</body>
</html>
`;

const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const executablePath = candidates.find((path) => path && existsSync(path));
if (!executablePath) {
  console.error("screenshot: no Chromium found; install one (apt-get install -y chromium) or set $CHROMIUM");
  process.exit(1);
}

const profile = mkdtempSync(join(tmpdir(), "denpa-screenshot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1200, height: 800 },
  deviceScaleFactor: 2,
  offline: true,
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const htmlFile = join(profile, "code.html");
  writeFileSync(htmlFile, html);
  await page.goto("file://" + htmlFile);
  await page.evaluate(() => document.fonts.ready);
  await page.locator("pre.shiki").screenshot({ path: output, animations: "disabled", omitBackground: true });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`screenshot: ${relative(process.cwd(), source)} -> ${relative(process.cwd(), output)}`);
