//! Prometheus' HTTP query API over the series store, so that tools made for
//! Prometheus (Grafana's Prometheus data source, `promtool query`, scripts)
//! can read OpsDeck's metrics unchanged.
//!
//! Routes, parameters and JSON follow Prometheus' documented API:
//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/series`,
//! `/api/v1/labels`, `/api/v1/label/NAME/values`, by GET or by POST with a
//! form body (Grafana's default); answers are
//! `{"status":"success","data":…}` or
//! `{"status":"error","errorType":"bad_data","error":"…"}`.
//!
//! Off unless asked for (`opsdeck serve --prometheus-api ADDR`, the app's
//! `OPSDECK_PROMETHEUS_API`). On a loopback address a request without a
//! token is answered when its `Host` names this machine (a web page that
//! rebinds a name to 127.0.0.1 is refused); a request with
//! `Authorization: Bearer odk_…` is answered when the token is valid. Bound
//! beyond loopback, every request needs a token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use opsdeck_metrics::promql::{Query, QueryError};
use opsdeck_metrics::{parse_selector, Labels, Matcher};
use tokio_util::sync::CancellationToken;

use crate::{Deck, DeckError};

/// Where the app serves this API: off unless set (an address, or `on` for
/// 127.0.0.1:9090's neighbour 127.0.0.1:9091, leaving a real Prometheus'
/// port free).
pub const PROMETHEUS_API_ENV: &str = "OPSDECK_PROMETHEUS_API";

/// The longest one query may take.
const QUERY_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The address [`PROMETHEUS_API_ENV`] asks for (none when unset or `off`).
pub fn prometheus_api_setting(text: Option<&str>) -> Result<Option<SocketAddr>, DeckError> {
    crate::http_api::listener_setting(PROMETHEUS_API_ENV, text, SocketAddr::from(([127, 0, 0, 1], 9091)))
}

#[derive(Clone)]
struct ApiState {
    deck: Arc<Deck>,
    /// Requests without a token are refused (bound beyond loopback).
    token_required: bool,
}

/// An error answer in Prometheus' shape.
fn error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "status": "error", "errorType": error_type, "error": message });
    (status, axum::Json(body)).into_response()
}

fn bad_data(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_data", &message.into())
}

fn success(data: impl serde::Serialize) -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({ "status": "success", "data": data }))).into_response()
}

fn query_error(failure: &QueryError) -> Response {
    let status = match failure {
        QueryError::BadData(_) => StatusCode::BAD_REQUEST,
        QueryError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
        QueryError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, failure.error_type(), &failure.to_string())
}

fn deck_failure(failure: &DeckError) -> Response {
    match failure {
        DeckError::Query(failure) => query_error(failure),
        DeckError::Metrics(
            opsdeck_metrics::MetricsError::Invalid(_) | opsdeck_metrics::MetricsError::BadPattern { .. },
        ) => bad_data(failure.to_string()),
        other => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", &other.to_string()),
    }
}

/// A `Host` header naming this machine.
fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// Lets a request through, or answers why not.
async fn admit(state: &ApiState, headers: &HeaderMap) -> Result<(), Response> {
    match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let bearer =
                value.to_str().ok().and_then(|text| text.strip_prefix("Bearer ")).ok_or_else(|| {
                    error(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "the Authorization header is not `Bearer TOKEN`",
                    )
                })?;
            state
                .deck
                .api_tokens()
                .authenticate(bearer)
                .await
                .map(|_| ())
                .map_err(|failure| error(StatusCode::UNAUTHORIZED, "unauthorized", &failure.to_string()))
        }
        None if state.token_required => Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this API listens beyond this machine: send `Authorization: Bearer TOKEN` \
             (make one with `opsdeck api token create --role viewer`)",
        )),
        None if !host_is_loopback(headers) => Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "without a token only requests to 127.0.0.1, ::1 or localhost are answered",
        )),
        None => Ok(()),
    }
}

/// A request's parameters: the URL's query and, for POST, the form body
/// (repeated names such as `match[]` kept in order).
fn parameters(
    query: Option<&str>,
    method: &Method,
    body: &Bytes,
) -> Result<Vec<(String, String)>, Box<Response>> {
    let mut fields: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|failure| Box::new(bad_data(format!("unreadable query string: {failure}"))))?;
    if method == Method::POST && !body.is_empty() {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|failure| Box::new(bad_data(format!("unreadable form body: {failure}"))))?;
        fields.extend(form);
    }
    Ok(fields)
}

fn first<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
}

/// A time as Prometheus takes it: Unix seconds (`1700000000.5`) or RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() {
            return Ok((seconds * 1000.0).round() as i64);
        }
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.timestamp_millis())
        .map_err(|_| format!("cannot parse {text:?} to a valid timestamp (give Unix seconds or RFC 3339)"))
}

/// A duration as Prometheus takes a step: seconds (`15`, `0.5`) or `1m30s`.
pub fn parse_step(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() {
            return Ok((seconds * 1000.0).round() as i64);
        }
    }
    opsdeck_metrics::promql::parse_duration(text)
        .map_err(|_| format!("cannot parse {text:?} to a valid duration (give seconds or 1m30s)"))
}

fn time_field(fields: &[(String, String)], name: &str, default: i64) -> Result<i64, Box<Response>> {
    match first(fields, name) {
        None | Some("") => Ok(default),
        Some(text) => {
            parse_time(text).map_err(|why| Box::new(bad_data(format!("invalid parameter \"{name}\": {why}"))))
        }
    }
}

fn matchers_of(fields: &[(String, String)]) -> Result<Vec<Vec<Matcher>>, Box<Response>> {
    fields
        .iter()
        .filter(|(name, _)| name == "match[]")
        .map(|(_, selector)| {
            parse_selector(selector).map_err(|failure| Box::new(bad_data(failure.to_string())))
        })
        .collect()
}

async fn instant(state: ApiState, fields: Vec<(String, String)>) -> Response {
    let Some(text) = first(&fields, "query") else { return bad_data("invalid parameter \"query\": missing") };
    let query = match Query::parse(text) {
        Ok(query) => query,
        Err(failure) => return query_error(&failure),
    };
    let at = match time_field(&fields, "time", opsdeck_core::clock::now_unix_ms()) {
        Ok(at) => at,
        Err(response) => return *response,
    };
    match tokio::time::timeout(QUERY_TIME_LIMIT, state.deck.metrics().instant(&query, at)).await {
        Ok(Ok(result)) => success(result),
        Ok(Err(failure)) => deck_failure(&failure),
        Err(_) => {
            error(StatusCode::SERVICE_UNAVAILABLE, "timeout", "query timed out in expression evaluation")
        }
    }
}

async fn range(state: ApiState, fields: Vec<(String, String)>) -> Response {
    let Some(text) = first(&fields, "query") else { return bad_data("invalid parameter \"query\": missing") };
    let query = match Query::parse(text) {
        Ok(query) => query,
        Err(failure) => return query_error(&failure),
    };
    let (Some(start), Some(end), Some(step)) =
        (first(&fields, "start"), first(&fields, "end"), first(&fields, "step"))
    else {
        return bad_data("a range query needs \"start\", \"end\" and \"step\"");
    };
    let start = match parse_time(start) {
        Ok(start) => start,
        Err(why) => return bad_data(format!("invalid parameter \"start\": {why}")),
    };
    let end = match parse_time(end) {
        Ok(end) => end,
        Err(why) => return bad_data(format!("invalid parameter \"end\": {why}")),
    };
    let step = match parse_step(step) {
        Ok(step) => step,
        Err(why) => return bad_data(format!("invalid parameter \"step\": {why}")),
    };
    match tokio::time::timeout(QUERY_TIME_LIMIT, state.deck.metrics().range(&query, start, end, step)).await {
        Ok(Ok(result)) => success(result),
        Ok(Err(failure)) => deck_failure(&failure),
        Err(_) => {
            error(StatusCode::SERVICE_UNAVAILABLE, "timeout", "query timed out in expression evaluation")
        }
    }
}

/// The series the `match[]` selectors select (every series without any)
/// with a sample between `start` and `end` (all time by default).
async fn matching_series(
    state: &ApiState,
    fields: &[(String, String)],
    need_match: bool,
) -> Result<Vec<Labels>, Box<Response>> {
    let selectors = matchers_of(fields)?;
    if need_match && selectors.is_empty() {
        return Err(Box::new(bad_data("no match[] parameter provided")));
    }
    let start = time_field(fields, "start", i64::MIN / 4)?;
    let end = time_field(fields, "end", i64::MAX / 4)?;
    let selectors = if selectors.is_empty() { vec![Vec::new()] } else { selectors };
    let mut found: Vec<Labels> = Vec::new();
    for matchers in selectors {
        let series = state
            .deck
            .metrics()
            .series(&matchers, start, end)
            .await
            .map_err(|failure| deck_failure(&failure))?;
        found.extend(series);
    }
    found.sort();
    found.dedup();
    Ok(found)
}

async fn series(state: ApiState, fields: Vec<(String, String)>) -> Response {
    match matching_series(&state, &fields, true).await {
        Ok(found) => success(found),
        Err(response) => *response,
    }
}

async fn labels(state: ApiState, fields: Vec<(String, String)>) -> Response {
    match matching_series(&state, &fields, false).await {
        Ok(found) => {
            let names: std::collections::BTreeSet<&String> =
                found.iter().flat_map(|labels| labels.keys()).collect();
            success(names)
        }
        Err(response) => *response,
    }
}

async fn label_values(state: ApiState, name: String, fields: Vec<(String, String)>) -> Response {
    match matching_series(&state, &fields, false).await {
        Ok(found) => {
            let values: std::collections::BTreeSet<&String> =
                found.iter().filter_map(|labels| labels.get(&name)).collect();
            success(values)
        }
        Err(response) => *response,
    }
}

/// The API's router over `deck`.
fn router(state: ApiState) -> Router {
    // Each route takes GET and POST (a form body), as Prometheus' do.
    let route = |handler: fn(ApiState, Vec<(String, String)>) -> futures_box::BoxedResponse| {
        on(
            MethodFilter::GET.or(MethodFilter::POST),
            move |State(state): State<ApiState>,
                  method: Method,
                  headers: HeaderMap,
                  RawQuery(query): RawQuery,
                  body: Bytes| async move {
                if let Err(response) = admit(&state, &headers).await {
                    return response;
                }
                match parameters(query.as_deref(), &method, &body) {
                    Ok(fields) => handler(state, fields).await,
                    Err(response) => *response,
                }
            },
        )
    };
    Router::new()
        .route("/api/v1/query", route(|state, fields| Box::pin(instant(state, fields))))
        .route("/api/v1/query_range", route(|state, fields| Box::pin(range(state, fields))))
        .route("/api/v1/series", route(|state, fields| Box::pin(series(state, fields))))
        .route("/api/v1/labels", route(|state, fields| Box::pin(labels(state, fields))))
        .route(
            "/api/v1/label/{name}/values",
            on(
                MethodFilter::GET,
                |State(state): State<ApiState>,
                 Path(name): Path<String>,
                 headers: HeaderMap,
                 RawQuery(query): RawQuery| async move {
                    if let Err(response) = admit(&state, &headers).await {
                        return response;
                    }
                    match parameters(query.as_deref(), &Method::GET, &Bytes::new()) {
                        Ok(fields) => label_values(state, name, fields).await,
                        Err(response) => *response,
                    }
                },
            ),
        )
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "not_found", "no such route in this Prometheus-compatible API")
        })
        .with_state(state)
}

mod futures_box {
    /// A handler's answer, boxed so that the routes share one type.
    pub(super) type BoxedResponse =
        std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>>;
}

/// Serves the API on `address` until `stop`; returns the bound address.
/// Beyond loopback every request needs an API token.
pub async fn serve(
    deck: Arc<Deck>,
    address: SocketAddr,
    stop: CancellationToken,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), DeckError> {
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|failure| {
        opsdeck_core::CoreError::InvalidInput(format!(
            "the Prometheus API cannot listen on {address}: {failure}"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|failure| opsdeck_core::CoreError::InvalidInput(failure.to_string()))?;
    let token_required = !bound.ip().is_loopback();
    if token_required {
        tracing::warn!(%bound, "the Prometheus API listens beyond this machine: every request needs an API token");
    }
    let app = router(ApiState { deck, token_required });
    let task = tokio::spawn(async move {
        let served =
            axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        if let Err(failure) = served {
            tracing::error!(error = %failure, "the Prometheus API stopped");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_steps_read_as_prometheus_reads_them() {
        assert_eq!(parse_time("1700000000.5"), Ok(1_700_000_000_500));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000_000));
        assert!(parse_time("yesterday").unwrap_err().contains("cannot parse"));
        assert_eq!(parse_step("15"), Ok(15_000));
        assert_eq!(parse_step("1m30s"), Ok(90_000));
        assert!(parse_step("soon").is_err());
    }

    #[test]
    fn only_loopback_host_names_pass_without_a_token() {
        let with_host = |host: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, host.parse().unwrap());
            host_is_loopback(&headers)
        };
        assert!(with_host("127.0.0.1:9091") && with_host("localhost:9091") && with_host("[::1]:9091"));
        assert!(!with_host("evil.example:9091"), "a rebound name is refused");
        assert!(!host_is_loopback(&HeaderMap::new()));
        assert_eq!(prometheus_api_setting(Some("on")).unwrap(), Some("127.0.0.1:9091".parse().unwrap()));
        assert_eq!(prometheus_api_setting(Some("off")).unwrap(), None);
        assert!(prometheus_api_setting(Some("nowhere")).is_err());
    }
}
