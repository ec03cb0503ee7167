// The VS Code client of `denpa lsp`: starts the server for `.nn` documents and
// restarts it when its settings change. Everything the server offers
// (diagnostics, hover, definitions, references, symbols, completion,
// formatting) comes through vscode-languageclient; highlighting is the
// TextMate grammar in syntaxes/.

import * as vscode from "vscode";
import {
  Executable,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let outputChannel: vscode.OutputChannel | undefined;

/** The command line of the server, from the settings. */
export function serverCommand(config: vscode.WorkspaceConfiguration): Executable {
  const path = config.get<string>("server.path", "denpa").trim() || "denpa";
  const extraArgs = config.get<string[]>("server.extraArgs", []);
  // No `transport`: with `TransportKind.stdio` the client would append
  // `--stdio`, and `denpa lsp` takes no other argument. Without it the
  // client still speaks over the process's stdin and stdout.
  return {
    command: expandHome(path),
    args: [...extraArgs, "lsp"],
  };
}

function expandHome(path: string): string {
  const home = process.env.HOME ?? process.env.USERPROFILE;
  if (home && (path === "~" || path.startsWith("~/"))) {
    return home + path.slice(1);
  }
  return path;
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("denpa");
  const executable = serverCommand(config);
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "denpa" },
      { scheme: "untitled", language: "denpa" },
    ],
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  client = new LanguageClient("denpa", "denpa Language Server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const message = error instanceof Error ? error.message : String(error);
    const command = [executable.command, ...(executable.args ?? [])].join(" ");
    // Not awaited: activation must not wait for the user to close the message.
    void vscode.window
      .showErrorMessage(
        `Could not start the denpa language server \`${command}\`: ${message}. ` +
          "Install denpa (`cargo install --path .` in its repository) or set `denpa.server.path`.",
        "Open Settings",
      )
      .then((choice) => {
        if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "denpa.server");
        }
      });
  }
}

async function restart(): Promise<void> {
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop();
    } catch {
      // A server that died already has nothing to stop.
    }
  }
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel = vscode.window.createOutputChannel("denpa Language Server");
  context.subscriptions.push(
    outputChannel,
    vscode.commands.registerCommand("denpa.restartServer", () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("denpa.server")) {
        void restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop();
}
