//! `denpa lsp`: the language server, over stdio, on `lsp-server` and
//! `lsp-types` (the crates rust-analyzer is built on).
//!
//! It shares the compiler's front end: a document's diagnostics are `denpa
//! check`'s, its names and shapes come from the parser's AST and the
//! checker's `Net`, a hover's gradient is the line `denpa explain` writes,
//! and formatting is `denpa fmt`'s. Documents are synchronized whole (a
//! `.nn` file is small) and analysed once per version.
//!
//! - `analysis.rs`: one version of a document: diagnostics, names, nets;
//! - `derivation.rs`: the gradients by name, read off `explain`'s text;
//! - `features.rs`: each request's answer; `rename.rs` rename's (every use,
//!   the parameters a layer names after its binding, checked again);
//! - `position.rs`: byte offsets and the protocol's UTF-16 positions.
//!
//! No request takes the server down: a handler that panicked answers with
//! an error, and the server goes on.

pub mod analysis;
pub mod derivation;
pub mod features;
pub mod position;
pub mod rename;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _,
};
use lsp_types::{
    CompletionOptions, CompletionResponse, DocumentSymbolResponse, GotoDefinitionResponse,
    HoverProviderCapability, InitializeResult, Location, OneOf, Position, PublishDiagnosticsParams,
    RenameOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Url, WorkDoneProgressOptions, WorkspaceEdit,
};
use serde_json::Value;

use analysis::Analysis;
use position::LineMap;

/// What the server says it can do.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            ..CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on a connection: the initialize handshake, then every
/// message until `shutdown` and `exit`.
pub fn run(connection: &Connection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (id, _params) = connection.initialize_start()?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "denpa".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;
    let mut server = Server::default();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = server.answer(request);
                connection.sender.send(response.into())?;
            }
            Message::Notification(notification) => {
                for published in server.notice(notification) {
                    connection.sender.send(published.into())?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// One open document.
struct Document {
    analysis: Analysis,
    map: LineMap,
}

impl Document {
    fn new(text: &str) -> Document {
        Document {
            analysis: Analysis::new(text),
            map: LineMap::new(text),
        }
    }
}

/// The open documents.
#[derive(Default)]
struct Server {
    documents: HashMap<Url, Document>,
}

impl Server {
    /// A request's response; a handler that panics answers with an error.
    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        match catch_unwind(AssertUnwindSafe(|| self.dispatch(&request))) {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!("denpa lsp failed to answer {method}"),
            ),
        }
    }

    fn dispatch(&mut self, request: &Request) -> Result<Value, (ErrorCode, String)> {
        let params = request.params.clone();
        let bad = |e: serde_json::Error| (ErrorCode::InvalidParams, e.to_string());
        let value = match request.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = serde_json::from_value(params).map_err(bad)?;
                let at = &p.text_document_position_params;
                self.at(&at.text_document.uri, at.position)
                    .and_then(|(d, offset)| features::hover(&d.analysis, offset, &d.map))
                    .map(serde_json::to_value)
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams =
                    serde_json::from_value(params).map_err(bad)?;
                let at = &p.text_document_position_params;
                let uri = at.text_document.uri.clone();
                self.at(&uri, at.position).and_then(|(d, offset)| {
                    let span = features::definition(&d.analysis, offset)?;
                    let location = Location::new(uri, d.map.range(&d.analysis.text, span));
                    Some(serde_json::to_value(GotoDefinitionResponse::Scalar(
                        location,
                    )))
                })
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = serde_json::from_value(params).map_err(bad)?;
                let at = &p.text_document_position;
                let uri = at.text_document.uri.clone();
                self.at(&uri, at.position).map(|(d, offset)| {
                    let spans =
                        features::references(&d.analysis, offset, p.context.include_declaration);
                    let locations: Vec<Location> = spans
                        .into_iter()
                        .map(|s| Location::new(uri.clone(), d.map.range(&d.analysis.text, s)))
                        .collect();
                    serde_json::to_value(locations)
                })
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams =
                    serde_json::from_value(params).map_err(bad)?;
                self.documents.get(&p.text_document.uri).map(|d| {
                    let symbols = features::symbols(&d.analysis, &d.map);
                    serde_json::to_value(DocumentSymbolResponse::Nested(symbols))
                })
            }
            Completion::METHOD => {
                let p: lsp_types::CompletionParams = serde_json::from_value(params).map_err(bad)?;
                let at = &p.text_document_position;
                self.at(&at.text_document.uri, at.position)
                    .map(|(d, offset)| {
                        let items = features::completion(&d.analysis, offset);
                        serde_json::to_value(CompletionResponse::Array(items))
                    })
            }
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams =
                    serde_json::from_value(params).map_err(bad)?;
                self.documents
                    .get(&p.text_document.uri)
                    .and_then(|d| features::formatting(&d.analysis, &d.map))
                    .map(serde_json::to_value)
            }
            PrepareRenameRequest::METHOD => {
                let p: lsp_types::TextDocumentPositionParams =
                    serde_json::from_value(params).map_err(bad)?;
                let Some((d, offset)) = self.at(&p.text_document.uri, p.position) else {
                    return Ok(Value::Null);
                };
                rename::prepare_rename(&d.analysis, offset)
                    .map_err(|e| (ErrorCode::InvalidRequest, e))?
                    .map(|span| serde_json::to_value(d.map.range(&d.analysis.text, span)))
            }
            Rename::METHOD => {
                let p: lsp_types::RenameParams = serde_json::from_value(params).map_err(bad)?;
                let at = &p.text_document_position;
                let uri = at.text_document.uri.clone();
                let Some((d, offset)) = self.at(&uri, at.position) else {
                    return Ok(Value::Null);
                };
                let edits = rename::rename(&d.analysis, offset, &p.new_name)
                    .map_err(|e| (ErrorCode::InvalidRequest, e))?;
                let edits: Vec<TextEdit> = edits
                    .into_iter()
                    .map(|(s, text)| TextEdit::new(d.map.range(&d.analysis.text, s), text))
                    .collect();
                let changes = [(uri, edits)].into_iter().collect();
                Some(serde_json::to_value(WorkspaceEdit::new(changes)))
            }
            other => {
                return Err((
                    ErrorCode::MethodNotFound,
                    format!("denpa lsp does not answer {other}"),
                ))
            }
        };
        match value {
            None => Ok(Value::Null),
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err((ErrorCode::InternalError, e.to_string())),
        }
    }

    /// An open document and the byte offset of a position in it.
    fn at(&self, uri: &Url, position: Position) -> Option<(&Document, usize)> {
        let d = self.documents.get(uri)?;
        Some((d, d.map.offset(&d.analysis.text, position)))
    }

    /// Takes a notification; returns the diagnostics to publish.
    fn notice(&mut self, notification: Notification) -> Vec<Notification> {
        let changed = catch_unwind(AssertUnwindSafe(|| self.change(notification)));
        let Ok(Some((uri, version))) = changed else {
            return Vec::new();
        };
        let diagnostics = match self.documents.get(&uri) {
            Some(d) => catch_unwind(AssertUnwindSafe(|| {
                features::diagnostics(&d.analysis, &uri, &d.map)
            }))
            .unwrap_or_default(),
            None => Vec::new(),
        };
        let params = PublishDiagnosticsParams::new(uri, diagnostics, version);
        vec![Notification::new(PublishDiagnostics::METHOD.into(), params)]
    }

    /// Opens, changes or closes a document; the document whose diagnostics
    /// changed, with its version.
    fn change(&mut self, notification: Notification) -> Option<(Url, Option<i32>)> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let doc = p.text_document;
                self.documents
                    .insert(doc.uri.clone(), Document::new(&doc.text));
                Some((doc.uri, Some(doc.version)))
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                // Whole documents are synchronized: the last change is the text.
                let text = p.content_changes.into_iter().last()?.text;
                let uri = p.text_document.uri;
                self.documents.insert(uri.clone(), Document::new(&text));
                Some((uri, Some(p.text_document.version)))
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                self.documents.remove(&p.text_document.uri);
                // Closed: its diagnostics are cleared.
                Some((p.text_document.uri, None))
            }
            _ => None,
        }
    }
}
