//! The OTLP/gRPC receiver: `TraceService/Export` and `LogsService/Export`
//! (and `MetricsService/Export`) over HTTP/2 without TLS, on 127.0.0.1:4317
//! by default.
//!
//! tonic frames the messages (gzip, size limits); the bodies are read by
//! the same code as OTLP/HTTP's, so both ports keep and reject exactly the
//! same records. A body that is not the expected protobuf is answered
//! INVALID_ARGUMENT with the reason (tonic's own decoding would say
//! INTERNAL, which clients retry); a full writer queue is answered
//! RESOURCE_EXHAUSTED with a RetryInfo detail, which OTLP exporters read as
//! "retry after this delay".

use std::future::Future;
use std::pin::Pin;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::bytes::{Buf, BufMut, Bytes};
use prost::Message;
use tokio::net::TcpListener;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use crate::export::{Any, RpcStatus, Signal};
use crate::gate::Gate;
use crate::otlp::Encoding;
use crate::receiver::{MAX_BODY_BYTES, PATIENCE};
use crate::writer::Writer;

const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// Answers gRPC requests on `listener`, as `gate` admits them, until the task is dropped.
pub async fn serve(listener: TcpListener, writer: Writer, gate: Gate) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                tracing::warn!(error = %error, "accepting an OTLP/gRPC connection failed");
                continue;
            }
        };
        let Some(permit) = gate.connection() else {
            tracing::debug!("OTLP/gRPC connection closed: the receiver holds its most connections");
            continue;
        };
        let (writer, gate) = (writer.clone(), gate.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let (writer, gate) = (writer.clone(), gate.clone());
                async move {
                    if !gate.admits(request.headers()) {
                        return Ok::<_, std::convert::Infallible>(
                            Status::unauthenticated(Gate::refusal()).into_http(),
                        );
                    }
                    Ok::<_, std::convert::Infallible>(route(request, writer).await)
                }
            });
            if let Err(error) = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %error, "an OTLP/gRPC connection ended with an error");
            }
        });
    }
}

async fn route(request: hyper::Request<Incoming>, writer: Writer) -> hyper::Response<tonic::body::Body> {
    let kind = match request.uri().path() {
        TRACES => Signal::Traces,
        LOGS => Signal::Logs,
        METRICS => Signal::Metrics,
        other => {
            return Status::unimplemented(format!(
                "{other} is not served here; OTLP exporters call TraceService, LogsService and MetricsService"
            ))
            .into_http();
        }
    };
    let mut grpc = tonic::server::Grpc::new(RawCodec)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_BODY_BYTES);
    grpc.unary(Export { kind, writer }, request).await
}

/// One export call: reads the request, hands its records to the writer and
/// answers with the partial-success counts.
struct Export {
    kind: Signal,
    writer: Writer,
}

type Answer = Pin<Box<dyn Future<Output = Result<tonic::Response<Vec<u8>>, Status>> + Send>>;

impl tonic::server::UnaryService<Bytes> for Export {
    type Response = Vec<u8>;
    type Future = Answer;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let (kind, writer) = (self.kind, self.writer.clone());
        Box::pin(async move { export(kind, &writer, request.get_ref()).await.map(tonic::Response::new) })
    }
}

async fn export(kind: Signal, writer: &Writer, body: &[u8]) -> Result<Vec<u8>, Status> {
    let accepted =
        kind.decode(body, Encoding::Protobuf).map_err(|error| Status::invalid_argument(error.0))?;
    if writer.submit_waiting(accepted.batch, PATIENCE).await.is_err() {
        return Err(behind());
    }
    Ok(kind.response(accepted.rejected, accepted.error))
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct Duration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<Duration>,
}

/// RESOURCE_EXHAUSTED with "retry in one second", as OTLP asks of a receiver that is behind.
fn behind() -> Status {
    let message = "the store is behind; retry shortly";
    let retry = RetryInfo { retry_delay: Some(Duration { seconds: 1, nanos: 0 }) };
    let details = RpcStatus {
        code: Code::ResourceExhausted as i32,
        message: message.to_owned(),
        details: vec![Any {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".to_owned(),
            value: retry.encode_to_vec(),
        }],
    };
    Status::with_details(Code::ResourceExhausted, message, Bytes::from(details.encode_to_vec()))
}

/// Hands request bodies over as bytes (decoded by [`crate::otlp`]) and
/// sends already-encoded answers.
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, destination: &mut EncodeBuf<'_>) -> Result<(), Status> {
        destination.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, source: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(source.copy_to_bytes(source.remaining())))
    }
}
