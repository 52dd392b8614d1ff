//! The OTLP/HTTP receiver: `POST /v1/traces`, `/v1/logs` and `/v1/metrics` with protobuf or
//! JSON bodies, gzip or not. Answers as the OTLP spec says: 200 with partial
//! success counts, 400 with the reason for a body that cannot be read, 413
//! for one too large, 415 for another content type, and 503 with
//! Retry-After when the writer is behind.

use std::io::Read;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prost::Message;
use tokio::net::TcpListener;

use crate::export::{RpcStatus, Signal};
use crate::gate::{Gate, HEADER_READ_TIMEOUT};
use crate::otlp::Encoding;
use crate::writer::Writer;
use crate::TelemetryError;

/// The largest request body read (after gzip, too).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a request waits for room in a full writer queue before it is
/// answered "retry later" (503 here, RESOURCE_EXHAUSTED over gRPC).
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Binds the receiver's address (127.0.0.1:4318 by default).
pub async fn bind(address: &str) -> Result<TcpListener, TelemetryError> {
    TcpListener::bind(address)
        .await
        .map_err(|error| TelemetryError::Listen { address: address.to_owned(), reason: error.to_string() })
}

/// Answers requests on `listener`, as `gate` admits them, until the task is dropped.
pub async fn serve(listener: TcpListener, writer: Writer, gate: Gate) {
    loop {
        let (stream, _peer): (_, SocketAddr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(error = %error, "accepting an OTLP connection failed");
                continue;
            }
        };
        let Some(permit) = gate.connection() else {
            tracing::debug!("OTLP/HTTP connection closed: the receiver holds its most connections");
            continue;
        };
        let (writer, gate) = (writer.clone(), gate.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (writer, gate) = (writer.clone(), gate.clone());
                async move {
                    if !gate.admits(request.headers()) {
                        let refused =
                            status_response(StatusCode::UNAUTHORIZED, Encoding::Json, &Gate::refusal());
                        return Ok::<_, std::convert::Infallible>(refused);
                    }
                    Ok::<_, std::convert::Infallible>(answer(request, &writer).await)
                }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %error, "an OTLP connection ended with an error");
            }
        });
    }
}

fn encoding_of(request: &Request<Incoming>) -> Option<Encoding> {
    let content_type = request.headers().get(hyper::header::CONTENT_TYPE)?.to_str().ok()?;
    match content_type.split(';').next()?.trim().to_ascii_lowercase().as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

fn status_response(status: StatusCode, encoding: Encoding, message: &str) -> Response<Full<Bytes>> {
    // gRPC codes in the status body: 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE.
    let code = match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => 14,
        StatusCode::PAYLOAD_TOO_LARGE => 8,
        _ => 3,
    };
    let (content_type, body) = match encoding {
        Encoding::Protobuf => (
            "application/x-protobuf",
            RpcStatus { code, message: message.to_owned(), details: Vec::new() }.encode_to_vec(),
        ),
        Encoding::Json => (
            "application/json",
            serde_json::json!({ "code": code, "message": message }).to_string().into_bytes(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static("1"));
    }
    response
}

fn ok_response(encoding: Encoding, protobuf: Vec<u8>, json: serde_json::Value) -> Response<Full<Bytes>> {
    let (content_type, body) = match encoding {
        Encoding::Protobuf => ("application/x-protobuf", protobuf),
        Encoding::Json => ("application/json", json.to_string().into_bytes()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    response
}

/// Reads the body (bounded), un-gzipping it when it says so.
async fn read_body(request: Request<Incoming>) -> Result<Vec<u8>, (StatusCode, String)> {
    let gzip = request
        .headers()
        .get(hyper::header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("gzip"));
    let too_large =
        || (StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {MAX_BODY_BYTES} bytes"));
    let bytes = Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                too_large()
            } else {
                (StatusCode::BAD_REQUEST, format!("the body could not be read: {error}"))
            }
        })?
        .to_bytes();
    if !gzip {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|error| (StatusCode::BAD_REQUEST, format!("the body is not valid gzip: {error}")))?;
    if out.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(out)
}

async fn answer(request: Request<Incoming>, writer: &Writer) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if request.method() != hyper::Method::POST {
        return status_response(
            StatusCode::METHOD_NOT_ALLOWED,
            Encoding::Json,
            "OTLP/HTTP takes POST requests",
        );
    }
    let kind = match path.as_str() {
        "/v1/traces" => Signal::Traces,
        "/v1/logs" => Signal::Logs,
        "/v1/metrics" => Signal::Metrics,
        _ => {
            return status_response(
                StatusCode::NOT_FOUND,
                Encoding::Json,
                &format!(
                    "{path} is not received here; send traces to /v1/traces, logs to /v1/logs \
                     and metrics to /v1/metrics"
                ),
            )
        }
    };
    let Some(encoding) = encoding_of(&request) else {
        return status_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Encoding::Json,
            "send Content-Type application/x-protobuf or application/json",
        );
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err((status, message)) => return status_response(status, encoding, &message),
    };
    let accepted = match kind.decode(&body, encoding) {
        Ok(accepted) => accepted,
        Err(error) => return status_response(StatusCode::BAD_REQUEST, encoding, &error.0),
    };
    if writer.submit_waiting(accepted.batch, PATIENCE).await.is_err() {
        return status_response(
            StatusCode::SERVICE_UNAVAILABLE,
            encoding,
            "the store is behind; retry shortly",
        );
    }
    let (rejected, message) = (accepted.rejected, accepted.error);
    let json = match rejected {
        0 => serde_json::json!({}),
        _ => serde_json::json!({
            "partialSuccess": { kind.rejected_field(): rejected.to_string(), "errorMessage": message.clone() }
        }),
    };
    ok_response(encoding, kind.response(rejected, message), json)
}
