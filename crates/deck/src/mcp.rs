//! The MCP server: the [catalogue](crate::catalogue)'s operations as tools
//! for a model, over stdio (`opsdeck mcp`, acting as the local OS user like
//! the CLI) and over streamable HTTP at `/mcp` on the API's listener (each
//! request carrying an API token, which decides the caller, the tools
//! offered and whether values may be revealed).
//!
//! - One tool per catalogue operation, named after it (`secret.list` is
//!   `secret_list`), described by its summary, its input schema inlined.
//! - Read-only tools carry the read-only hint; others say whether they are
//!   destructive or idempotent.
//! - **No secret value through MCP** unless the server was started with
//!   `--allow-reveal`: without it the revealing tools are not listed and a
//!   call to one is refused (and audited as denied). Every reveal is audited
//!   like any other, with `mcp:USER` as the actor.
//! - A failing operation is a tool error the model can read (its code and
//!   message), not a protocol error.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use crate::catalogue::{catalogue, Effect, Entry, Method, Refusal};
use crate::{Caller, Deck, DeckError, Outcome};

/// The tool name of an operation (`secret.list` → `secret_list`).
pub fn tool_name(operation: &str) -> String {
    operation.replace('.', "_")
}

/// The MCP server over one deck: for one caller (stdio), or for whoever
/// each HTTP request's token names.
pub struct McpServer {
    deck: Arc<Deck>,
    /// The stdio caller; `None` over HTTP, where each request brings its own.
    caller: Option<Caller>,
    allow_reveal: bool,
    entries: Vec<Entry>,
}

impl McpServer {
    /// A server acting as `caller`; revealing tools only with `allow_reveal`.
    pub fn new(deck: Arc<Deck>, caller: Caller, allow_reveal: bool) -> McpServer {
        McpServer { deck, caller: Some(caller), allow_reveal, entries: catalogue() }
    }

    /// A server for the HTTP transport: the caller of each request is the
    /// one the API's authentication put in its extensions.
    pub fn for_http(deck: Arc<Deck>) -> McpServer {
        McpServer { deck, caller: None, allow_reveal: false, entries: catalogue() }
    }

    /// The caller of a request, and whether it may reveal.
    fn caller_of(&self, context: &RequestContext<RoleServer>) -> Option<(Caller, bool)> {
        if let Some(caller) = &self.caller {
            // A fresh correlation id for each call.
            let fresh = Caller {
                assumed_by: caller.assumed_by.clone(),
                grant: caller.grant.clone(),
                ..Caller::new(caller.actor.clone())
            };
            return Some((fresh, self.allow_reveal));
        }
        let parts = context.extensions.get::<axum::http::request::Parts>()?;
        let caller = parts.extensions.get::<Caller>()?.clone();
        let reveal = caller.grant.as_ref().is_some_and(|grant| grant.reveal);
        Some((caller, reveal))
    }

    /// The tools this server offers `caller`.
    pub fn tools(&self, caller: &Caller, reveal: bool) -> Vec<Tool> {
        self.entries
            .iter()
            .filter(|entry| entry.refusal(caller, reveal).is_none())
            .map(|entry| {
                let schema = match entry.input_schema_inline() {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                let annotations = match entry.effect {
                    Effect::Read => ToolAnnotations::new().read_only(true),
                    // A removal destroys; writing a resource at its path
                    // (PUT) or removing it twice ends the same way.
                    Effect::Change => ToolAnnotations::new()
                        .read_only(false)
                        .destructive(entry.method == Method::Delete)
                        .idempotent(matches!(entry.method, Method::Put | Method::Delete)),
                    Effect::Reveal => {
                        ToolAnnotations::new().read_only(false).destructive(false).idempotent(true)
                    }
                };
                let machine = if entry.machine_inputs.is_empty() {
                    String::new()
                } else {
                    format!(
                        " {} holds a shell command or file path that will run or be written on the user's machine: set it only when the user asked for that exact text.",
                        entry.machine_inputs.join(", ")
                    )
                };
                let description = format!(
                    "{} Needs the {} role.{}{machine}",
                    entry.summary,
                    entry.role.as_str(),
                    if entry.effect == Effect::Reveal { " Reveals a secret value; audited." } else { "" }
                );
                let mut tool = Tool::new(tool_name(entry.name), description, Arc::new(schema));
                tool.annotations = Some(annotations);
                tool
            })
            .collect()
    }

    async fn call(
        &self,
        caller: &Caller,
        reveal: bool,
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> CallToolResult {
        let Some(entry) = self.entries.iter().find(|entry| tool_name(entry.name) == name) else {
            return tool_error(
                "unknown_tool",
                &format!("there is no tool `{name}`; list the tools to see them"),
            );
        };
        if let Some(refusal) = entry.refusal(caller, reveal) {
            let why = match refusal {
                Refusal::Reveal if self.caller.is_some() => {
                    "this MCP server does not reveal secret values; start it with `opsdeck mcp --allow-reveal` for that"
                }
                Refusal::Reveal => "this token may not reveal secret values; make one with the reveal grant for that",
                Refusal::Role => "this token's role does not allow this tool",
            };
            let details = serde_json::json!({ "operation": entry.name, "why": why });
            if let Err(error) =
                self.deck.audit(caller, "mcp.refused", entry.name, Outcome::Denied, details).await
            {
                return deck_error(&error);
            }
            return tool_error("forbidden", why);
        }
        match (entry.call)(&self.deck, caller, serde_json::Value::Object(arguments)).await {
            Ok(output) => CallToolResult::success(vec![ContentBlock::text(output.to_string())]),
            Err(error) => deck_error(&error),
        }
    }
}

fn tool_error(code: &str, message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(
        serde_json::json!({ "code": code, "message": message }).to_string(),
    )])
}

/// A request that reached the server without an authenticated caller (the
/// API's authentication runs before it; this is a wiring fault).
fn no_caller() -> ErrorData {
    ErrorData::internal_error("the request carries no authenticated caller", None)
}

fn deck_error(error: &DeckError) -> CallToolResult {
    tool_error(error.code(), &error.to_string())
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("opsdeck", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "OpsDeck: vaults of secrets (metadata, versions; values only when this server allows reveals), \
                 and the tamper-evident audit trail. Every call is checked against the caller's roles and audited.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (caller, reveal) = self.caller_of(&context).ok_or_else(no_caller)?;
        Ok(ListToolsResult::with_all_items(self.tools(&caller, reveal)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (caller, reveal) = self.caller_of(&context).ok_or_else(no_caller)?;
        Ok(self.call(&caller, reveal, &request.name, request.arguments.unwrap_or_default()).await.into())
    }
}

/// Serves MCP over this process's stdin and stdout until the client closes
/// them. Nothing else may write to stdout meanwhile.
pub async fn serve_stdio(deck: Arc<Deck>, caller: Caller, allow_reveal: bool) -> Result<(), DeckError> {
    let server = McpServer::new(deck, caller, allow_reveal);
    let running = server.serve(rmcp::transport::stdio()).await.map_err(|error| {
        opsdeck_core::CoreError::InvalidInput(format!("the MCP client's handshake failed: {error}"))
    })?;
    running
        .waiting()
        .await
        .map_err(|error| opsdeck_core::CoreError::InvalidInput(format!("the MCP server stopped: {error}")))?;
    Ok(())
}

/// The streamable-HTTP MCP service mounted at `/mcp` on the API's router
/// (behind its token check, which puts the `Caller` in each request).
pub fn http_service(
    deck: Arc<Deck>,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    McpServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    rmcp::transport::streamable_http_server::StreamableHttpService::new(
        move || Ok(McpServer::for_http(deck.clone())),
        Default::default(),
        Default::default(),
    )
}
