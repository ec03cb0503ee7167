// The client's command line, without VS Code: `vscode` is replaced by a stub
// so that out/extension.js (compiled by `npm run compile`) loads under node.
const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const test = require("node:test");

const stub = new Proxy({}, { get: (_, name) => (name === "__esModule" ? false : class {}) });
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? stub : load.call(this, request, ...rest);
};
const { serverCommand } = require(path.join(__dirname, "..", "out", "extension.js"));

function config(values) {
  return { get: (key, fallback) => (key in values ? values[key] : fallback) };
}

test("runs `denpa lsp` by default, with no --stdio and no transport", () => {
  const executable = serverCommand(config({}));
  assert.equal(executable.command, "denpa");
  assert.deepEqual(executable.args, ["lsp"]);
  // With a transport, vscode-languageclient would append `--stdio`.
  assert.equal(executable.transport, undefined);
});

test("puts the extra arguments before `lsp`", () => {
  const executable = serverCommand(
    config({ "server.path": "cargo", "server.extraArgs": ["run", "--quiet", "--"] }),
  );
  assert.equal(executable.command, "cargo");
  assert.deepEqual(executable.args, ["run", "--quiet", "--", "lsp"]);
});

test("an empty path falls back to `denpa`, and ~ is the home directory", () => {
  assert.equal(serverCommand(config({ "server.path": "  " })).command, "denpa");
  const home = process.env.HOME;
  process.env.HOME = "/home/someone";
  try {
    assert.equal(serverCommand(config({ "server.path": "~/bin/denpa" })).command, "/home/someone/bin/denpa");
  } finally {
    if (home === undefined) delete process.env.HOME;
    else process.env.HOME = home;
  }
});
