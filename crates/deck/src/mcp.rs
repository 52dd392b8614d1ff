//! The MCP server: the [catalogue](crate::catalogue)'s operations as tools
//! for a model, over stdio (`opsdeck mcp`, acting as the local OS user like
//! the CLI).
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
use schemars::generate::SchemaSettings;

use crate::catalogue::{catalogue, Effect, Entry};
use crate::{Caller, Deck, DeckError, Outcome};

/// The tool name of an operation (`secret.list` → `secret_list`).
pub fn tool_name(operation: &str) -> String {
    operation.replace('.', "_")
}

/// The MCP server over one deck, for one caller.
pub struct McpServer {
    deck: Arc<Deck>,
    caller: Caller,
    allow_reveal: bool,
    entries: Vec<Entry>,
}

impl McpServer {
    /// A server acting as `caller`; revealing tools only with `allow_reveal`.
    pub fn new(deck: Arc<Deck>, caller: Caller, allow_reveal: bool) -> McpServer {
        McpServer { deck, caller, allow_reveal, entries: catalogue() }
    }

    fn exposed(&self, entry: &Entry) -> bool {
        entry.effect != Effect::Reveal || self.allow_reveal
    }

    /// The tools this server offers.
    pub fn tools(&self) -> Vec<Tool> {
        let mut settings = SchemaSettings::draft2020_12();
        settings.inline_subschemas = true;
        settings.meta_schema = None;
        let mut generator = settings.into_generator();
        self.entries
            .iter()
            .filter(|entry| self.exposed(entry))
            .map(|entry| {
                let schema = serde_json::to_value((entry.input_schema)(&mut generator)).unwrap_or_default();
                let mut schema = match schema {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                schema.insert("type".to_owned(), serde_json::json!("object"));
                let annotations = match entry.effect {
                    Effect::Read => ToolAnnotations::new().read_only(true),
                    Effect::Change => {
                        ToolAnnotations::new().read_only(false).destructive(false).idempotent(false)
                    }
                    Effect::Reveal => {
                        ToolAnnotations::new().read_only(false).destructive(false).idempotent(true)
                    }
                };
                let description = format!(
                    "{} Needs the {} role.{}",
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
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> CallToolResult {
        let Some(entry) = self.entries.iter().find(|entry| tool_name(entry.name) == name) else {
            return tool_error(
                "unknown_tool",
                &format!("there is no tool `{name}`; list the tools to see them"),
            );
        };
        if !self.exposed(entry) {
            let details = serde_json::json!({ "operation": entry.name, "why": "reveal not allowed" });
            if let Err(error) =
                self.deck.audit(&self.caller, "mcp.refused", entry.name, Outcome::Denied, details).await
            {
                return deck_error(&error);
            }
            return tool_error(
                "forbidden",
                "this MCP server does not reveal secret values; start it with `opsdeck mcp --allow-reveal` for that",
            );
        }
        match (entry.call)(&self.deck, &self.caller, serde_json::Value::Object(arguments)).await {
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
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(self.call(&request.name, request.arguments.unwrap_or_default()).await.into())
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
