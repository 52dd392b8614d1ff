//! The local HTTP API: every operation of the [catalogue](crate::catalogue)
//! at its route, behind bearer tokens, with an OpenAPI 3.1 document.
//!
//! - Routes and methods come from the catalogue (reads GET, changes POST or
//!   DELETE); path parameters and, for GET, query parameters fill the
//!   operation's input; POST bodies are JSON objects.
//! - Every route but `/openapi.json` needs `Authorization: Bearer odk_…`
//!   (`opsdeck api token create`). A token reaches only operations its role
//!   allows (and reveals only with its reveal grant); the deck's own role
//!   checks and audit apply behind that, with `api:NAME` as the actor.
//! - Errors are `{"error": {"code", "message"}}` with 400 (unreadable JSON),
//!   401, 403, 404, 409, 413 (a body over 10 MB), 422 (input that does not
//!   fit), 503 (store busy, Retry-After), 504 (over 30 s).
//! - No CORS headers: a web page elsewhere cannot call it from a browser.
//! - `/mcp` is the MCP server over streamable HTTP, behind the same tokens
//!   (see [`crate::mcp`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use schemars::generate::SchemaSettings;
use tokio_util::sync::CancellationToken;

use crate::catalogue::{catalogue, Entry, Method, Refusal};
use crate::{Caller, Deck, DeckError};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The longest one request may take.
const REQUEST_TIME_LIMIT: Duration = Duration::from_secs(30);

/// An error as every front end shows it.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The HTTP status of a deck error, by its code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "unauthenticated" => StatusCode::UNAUTHORIZED,
        "forbidden" | "identity_override_refused" => StatusCode::FORBIDDEN,
        "store_busy" => StatusCode::SERVICE_UNAVAILABLE,
        "audit_chain_broken" | "definition_not_authentic" | "definition_pinned" | "secret_exists" => {
            StatusCode::CONFLICT
        }
        // A word in the store this build does not know: the store's problem, not the request's.
        "unknown_stored_word" => StatusCode::INTERNAL_SERVER_ERROR,
        code if code.starts_with("unknown_") => StatusCode::NOT_FOUND,
        "invalid_input"
        | "config_invalid"
        | "config_syntax"
        | "config_format"
        | "config_schema_invalid"
        | "weak_passphrase"
        | "invalid_job"
        | "invalid_target"
        | "value_not_generated"
        | "query_failed" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn deck_error(error: &DeckError) -> Response {
    error_response(status_of(error.code()), error.code(), &error.to_string())
}

/// Why a token may not use an operation at all, in words (the deck then
/// checks the vault itself).
fn grant_allows(caller: &Caller, entry: &Entry) -> Result<(), String> {
    let may_reveal = caller.grant.as_ref().is_none_or(|grant| grant.reveal);
    match entry.refusal(caller, may_reveal) {
        None => Ok(()),
        Some(Refusal::Role) => Err(format!(
            "{} is a {} token and `{}` needs {}; make a token with that role",
            caller.actor,
            caller.grant.as_ref().map_or("", |grant| grant.role.as_str()),
            entry.name,
            entry.role.as_str()
        )),
        Some(Refusal::Reveal) => Err(format!(
            "{} may not reveal values: its token was made without the reveal grant (`--reveal`)",
            caller.actor
        )),
    }
}

async fn authenticate(deck: &Deck, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "this route needs `Authorization: Bearer TOKEN`; make a token with `opsdeck api token create`",
        ));
    };
    let bearer = value.to_str().ok().and_then(|text| text.strip_prefix("Bearer ")).ok_or_else(|| {
        error_response(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the Authorization header is not `Bearer TOKEN`",
        )
    })?;
    deck.api_tokens().authenticate(bearer).await.map_err(|error| deck_error(&error))
}

/// Runs one operation for one request.
async fn handle(deck: Arc<Deck>, entry: Entry, path: BTreeMap<String, String>, request: Request) -> Response {
    let caller = match authenticate(&deck, request.headers()).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if let Err(why) = grant_allows(&caller, &entry) {
        let details = serde_json::json!({ "operation": entry.name, "why": why });
        if let Err(error) =
            deck.audit(&caller, "api.refused", entry.name, crate::Outcome::Denied, details).await
        {
            return deck_error(&error);
        }
        return error_response(StatusCode::FORBIDDEN, "forbidden", &why);
    }
    let query = request.uri().query().unwrap_or_default().to_owned();
    let call = if entry.method == Method::Get {
        let mut fields: Vec<(String, String)> = match serde_urlencoded::from_str(&query) {
            Ok(fields) => fields,
            Err(error) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    &format!("unreadable query: {error}"),
                )
            }
        };
        fields.retain(|(name, _)| !path.contains_key(name));
        fields.extend(path);
        (entry.call_with_fields)(&deck, &caller, fields)
    } else {
        let body = match axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(_) => {
                return error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    &format!("the body is over {} MB; send less at once", MAX_BODY_BYTES / (1024 * 1024)),
                )
            }
        };
        let mut input = match json_object(&body) {
            Ok(input) => input,
            Err(why) => return error_response(StatusCode::BAD_REQUEST, "bad_request", &why),
        };
        for (name, value) in path {
            input.insert(name, serde_json::Value::String(value));
        }
        (entry.call)(&deck, &caller, serde_json::Value::Object(input))
    };
    match tokio::time::timeout(REQUEST_TIME_LIMIT, call).await {
        Ok(Ok(output)) => (StatusCode::OK, axum::Json(output)).into_response(),
        Ok(Err(error)) => deck_error(&error),
        Err(_) => error_response(
            StatusCode::GATEWAY_TIMEOUT,
            "timed_out",
            &format!("`{}` took over {} s and was abandoned", entry.name, REQUEST_TIME_LIMIT.as_secs()),
        ),
    }
}

/// A POST body as a JSON object (an empty body is `{}`); otherwise why not.
fn json_object(body: &Bytes) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body must be a JSON object".to_owned()),
        Err(error) => Err(format!("the body is not JSON: {error}")),
    }
}

fn method_filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Delete => MethodFilter::DELETE,
    }
}

/// The API's router over `deck`.
pub fn router(deck: Arc<Deck>) -> Router {
    let openapi = Arc::new(openapi_document());
    let mut routes: BTreeMap<&'static str, MethodRouter<Arc<Deck>>> = BTreeMap::new();
    for entry in catalogue() {
        let handler = move |State(deck): State<Arc<Deck>>,
                            Path(path): Path<BTreeMap<String, String>>,
                            request: Request| handle(deck, entry, path, request);
        let route = routes.remove(entry.path).unwrap_or_default();
        routes.insert(entry.path, route.on(method_filter(entry.method), handler));
    }
    let mut router = Router::new();
    for (path, route) in routes {
        router = router.route(path, route);
    }
    // MCP over streamable HTTP, behind the same tokens: the check puts the
    // token's caller in the request for the MCP server to act as.
    let mcp = Router::new().nest_service("/mcp", crate::mcp::http_service(deck.clone())).layer(
        axum::middleware::from_fn_with_state(
            deck.clone(),
            |State(deck): State<Arc<Deck>>, mut request: Request, next: axum::middleware::Next| async move {
                match authenticate(&deck, request.headers()).await {
                    Ok(caller) => {
                        request.extensions_mut().insert(caller);
                        next.run(request).await
                    }
                    Err(response) => response,
                }
            },
        ),
    );
    router
        .merge(mcp)
        .route(
            "/openapi.json",
            on(MethodFilter::GET, move || {
                let openapi = openapi.clone();
                async move { axum::Json((*openapi).clone()) }
            }),
        )
        .fallback(|| async {
            error_response(
                StatusCode::NOT_FOUND,
                "unknown_route",
                "no such route; /openapi.json lists them all",
            )
        })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route takes another method; see /openapi.json",
            )
        })
        .with_state(deck)
}

/// Serves the API on `address` until `stop`; returns the bound address once
/// listening. Warns when bound beyond loopback.
pub async fn serve(
    deck: Arc<Deck>,
    address: SocketAddr,
    stop: CancellationToken,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), DeckError> {
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|error| {
        opsdeck_core::CoreError::InvalidInput(format!("the API cannot listen on {address}: {error}"))
    })?;
    let bound =
        listener.local_addr().map_err(|error| opsdeck_core::CoreError::InvalidInput(error.to_string()))?;
    if !bound.ip().is_loopback() {
        tracing::warn!(%bound, "the HTTP API listens beyond this machine: every request still needs a token");
    }
    deck.set_api_address(Some(bound));
    let app = router(deck.clone());
    let task = tokio::spawn(async move {
        let served =
            axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        if let Err(error) = served {
            tracing::error!(%error, "the HTTP API stopped");
        }
        deck.set_api_address(None);
    });
    Ok((bound, task))
}

/// Where the app serves the HTTP API: off unless set, `on` for
/// `127.0.0.1:7878`, or an address (`opsdeck serve` takes `--api ADDR`).
pub const API_ENV: &str = "OPSDECK_API";

/// The address [`API_ENV`] asks for (none when unset or `off`), or why it
/// cannot be used.
pub fn api_setting(text: Option<&str>) -> Result<Option<SocketAddr>, DeckError> {
    listener_setting(API_ENV, text, SocketAddr::from(([127, 0, 0, 1], 7878)))
}

/// The address a listener's setting `env` asks for: none when unset, blank
/// or `off`; `on` for `on_address`; otherwise `HOST:PORT`.
pub fn listener_setting(
    env: &str,
    text: Option<&str>,
    on_address: SocketAddr,
) -> Result<Option<SocketAddr>, DeckError> {
    let Some(text) = text.and_then(crate::telemetry::address_setting) else {
        return Ok(None);
    };
    if text.eq_ignore_ascii_case("on") {
        return Ok(Some(on_address));
    }
    text.parse().map(Some).map_err(|_| {
        opsdeck_core::CoreError::InvalidInput(format!(
            "{env}={text} is not an address: give HOST:PORT ({on_address}), `on` or `off`"
        ))
        .into()
    })
}

impl Deck {
    /// Where this process serves the HTTP API (none when it does not).
    pub fn api_address(&self) -> Option<SocketAddr> {
        *self.api_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_api_address(&self, address: Option<SocketAddr>) {
        *self.api_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = address;
    }
}

/// The OpenAPI 3.1 document of every route, generated from the catalogue.
pub fn openapi_document() -> serde_json::Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut generator = settings.into_generator();
    let error_schema = serde_json::json!({
        "type": "object", "required": ["error"],
        "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string", "description": "A stable, machine-readable code." },
            "message": { "type": "string", "description": "What was wrong and what to do." } } } }
    });
    let mut paths = serde_json::Map::new();
    let entries = catalogue();
    let mut operations = Vec::new();
    for entry in &entries {
        let input = serde_json::to_value((entry.input_schema)(&mut generator)).unwrap_or_default();
        let output = serde_json::to_value((entry.output_schema)(&mut generator)).unwrap_or_default();
        operations.push((entry, input, output));
    }
    let definitions = generator.definitions().clone();
    for (entry, input, output) in operations {
        let resolved = match input["$ref"].as_str() {
            Some(reference) => {
                definitions.get(reference.rsplit('/').next().unwrap_or_default()).cloned().unwrap_or_default()
            }
            None => input.clone(),
        };
        let required: Vec<&str> = resolved["required"]
            .as_array()
            .map(|names| names.iter().filter_map(|name| name.as_str()).collect())
            .unwrap_or_default();
        let path_fields: Vec<&str> = entry
            .path
            .split('/')
            .filter(|part| part.starts_with('{'))
            .map(|part| part.trim_matches(|c| c == '{' || c == '}'))
            .collect();
        let mut parameters: Vec<serde_json::Value> = path_fields
            .iter()
            .map(|field| {
                serde_json::json!({ "name": field, "in": "path", "required": true,
                    "schema": resolved["properties"][*field].clone() })
            })
            .collect();
        let mut operation = serde_json::json!({
            "operationId": entry.name,
            "summary": entry.summary,
            "x-opsdeck-effect": entry.effect,
            "x-opsdeck-role": entry.role.as_str(),
            "x-opsdeck-machine-inputs": entry.machine_inputs,
            "responses": {
                "200": { "description": "Done.", "content": { "application/json": { "schema": output } } },
                "default": { "description": "An error.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "security": [{ "bearer": [] }],
        });
        if entry.method == Method::Get {
            if let Some(properties) = resolved["properties"].as_object() {
                for (name, schema) in
                    properties.iter().filter(|(name, _)| !path_fields.contains(&name.as_str()))
                {
                    parameters.push(serde_json::json!({ "name": name, "in": "query",
                        "required": required.contains(&name.as_str()), "schema": schema }));
                }
            }
        } else {
            operation["requestBody"] = serde_json::json!({
                "required": false,
                "content": { "application/json": { "schema": input } }
            });
        }
        operation["parameters"] = serde_json::Value::Array(parameters);
        let item = paths.entry(entry.path.to_owned()).or_insert_with(|| serde_json::json!({}));
        item[entry.method.as_str()] = operation;
    }
    let mut schemas = definitions;
    schemas.insert("Error".to_owned(), error_schema);
    serde_json::json!({
        "openapi": "3.1.0",
        "info": {
            "title": "OpsDeck local API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every operation of the OpsDeck catalogue. Requests need `Authorization: Bearer TOKEN` \
                            (`opsdeck api token create`); this document is the one route open without one."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_operation_has_its_route_in_the_openapi_document() {
        let document = openapi_document();
        for entry in catalogue() {
            let operation = &document["paths"][entry.path][entry.method.as_str()];
            assert_eq!(operation["operationId"], entry.name, "{}", entry.path);
        }
        assert_eq!(document["openapi"], "3.1.0");
    }

    #[test]
    fn error_codes_map_to_their_statuses() {
        assert_eq!(status_of("unknown_vault"), StatusCode::NOT_FOUND);
        assert_eq!(status_of("unknown_stored_word"), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status_of("value_not_generated"), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of("forbidden"), StatusCode::FORBIDDEN);
        assert_eq!(status_of("store_busy"), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status_of("invalid_input"), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
