//! A test client of `denpa lsp` in the same process, over
//! `lsp_server::Connection::memory()`, as rust-analyzer tests its server.

use std::thread::JoinHandle;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{PublishDiagnosticsParams, Url};
use serde_json::{json, Value};

/// The client side of a running server.
pub struct Client {
    connection: Connection,
    server: Option<JoinHandle<()>>,
    next_id: i32,
}

impl Client {
    /// Starts a server and completes the initialize handshake.
    pub fn start() -> Client {
        let (server, connection) = Connection::memory();
        let thread = std::thread::spawn(move || {
            denpa::lsp::run(&server).expect("the server runs until exit");
        });
        let mut client = Client {
            connection,
            server: Some(thread),
            next_id: 0,
        };
        let result = client.request_raw(
            lsp_types::request::Initialize::METHOD,
            json!({ "capabilities": {}, "processId": null, "rootUri": null }),
        );
        assert!(result.response_result.is_ok(), "{result:?}");
        client.notify(lsp_types::notification::Initialized::METHOD, json!({}));
        client
    }

    /// Sends a request; its response.
    pub fn request_raw(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let request = Request::new(id.clone(), method.to_string(), params);
        self.connection.sender.send(request.into()).unwrap();
        loop {
            match self.receive() {
                Message::Response(r) if r.id == id => return r,
                Message::Notification(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Sends a request that must succeed; its result.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        match self.request_raw(method, params).response_result {
            Ok(value) => value,
            Err(e) => panic!("{method}: {e:?}"),
        }
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.connection.sender.send(n.into()).unwrap();
    }

    fn receive(&mut self) -> Message {
        self.connection
            .receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answers")
    }

    /// Opens a document; the diagnostics the server publishes for it.
    pub fn open(&mut self, uri: &Url, text: &str) -> PublishDiagnosticsParams {
        self.notify(
            lsp_types::notification::DidOpenTextDocument::METHOD,
            json!({ "textDocument": { "uri": uri, "languageId": "denpa", "version": 1, "text": text } }),
        );
        self.diagnostics()
    }

    /// Replaces a document's text; the diagnostics published.
    pub fn change(&mut self, uri: &Url, version: i32, text: &str) -> PublishDiagnosticsParams {
        self.notify(
            lsp_types::notification::DidChangeTextDocument::METHOD,
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        self.diagnostics()
    }

    /// The next diagnostics the server publishes.
    pub fn diagnostics(&mut self) -> PublishDiagnosticsParams {
        loop {
            if let Message::Notification(n) = self.receive() {
                if n.method == lsp_types::notification::PublishDiagnostics::METHOD {
                    return serde_json::from_value(n.params).unwrap();
                }
            }
        }
    }

    /// `textDocument/…` at a line and column.
    pub fn at(&mut self, method: &str, uri: &Url, line: u32, character: u32) -> Value {
        let mut params = json!({
            "textDocument": { "uri": uri },
            "position": { "line": line, "character": character },
        });
        if method == "textDocument/references" {
            params["context"] = json!({ "includeDeclaration": true });
        }
        self.request(method, params)
    }

    /// Shuts the server down and waits for it to end.
    pub fn shutdown(mut self) {
        self.request(lsp_types::request::Shutdown::METHOD, Value::Null);
        self.notify(lsp_types::notification::Exit::METHOD, Value::Null);
        self.server
            .take()
            .unwrap()
            .join()
            .expect("the server ends cleanly");
    }
}

/// The line and UTF-16 column of the `nth` occurrence of `needle` in `text`,
/// plus `shift` bytes.
pub fn find(text: &str, needle: &str, nth: usize, shift: usize) -> (u32, u32) {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth}"))
        .0
        + shift;
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let column: usize = text[start..offset].chars().map(char::len_utf16).sum();
    (line as u32, column as u32)
}

/// A document URI for a name.
pub fn uri(name: &str) -> Url {
    Url::parse(&format!("file:///work/{name}")).unwrap()
}
