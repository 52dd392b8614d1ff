//! What both receivers (gRPC and HTTP) do with one export request: read it
//! as the signal it is, and answer with OTLP's partial-success counts — and
//! the `google.rpc.Status` body both put in error answers.

use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

use crate::otlp::{decode_logs, decode_metrics, decode_traces, DecodeError, Encoding};
use crate::writer::Batch;

/// What an export request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Log records.
    Logs,
    /// Metric data points.
    Metrics,
}

/// An export request read: the records for the writer, and what was rejected.
pub struct Accepted {
    /// The records to store.
    pub batch: Batch,
    /// How many records were rejected.
    pub rejected: i64,
    /// The first reason.
    pub error: String,
}

impl Signal {
    /// Reads a request body of this signal.
    pub fn decode(self, body: &[u8], encoding: Encoding) -> Result<Accepted, DecodeError> {
        Ok(match self {
            Signal::Traces => {
                let decoded = decode_traces(body, encoding)?;
                Accepted {
                    batch: Batch::Spans(decoded.records),
                    rejected: decoded.rejected,
                    error: decoded.error,
                }
            }
            Signal::Logs => {
                let decoded = decode_logs(body, encoding)?;
                Accepted {
                    batch: Batch::Logs(decoded.records),
                    rejected: decoded.rejected,
                    error: decoded.error,
                }
            }
            Signal::Metrics => {
                let decoded = decode_metrics(body, encoding)?;
                Accepted {
                    batch: Batch::Metrics(decoded.records),
                    rejected: decoded.rejected,
                    error: decoded.error,
                }
            }
        })
    }

    /// The export response (protobuf), with partial success when records were rejected.
    pub fn response(self, rejected: i64, error_message: String) -> Vec<u8> {
        let partial = rejected > 0;
        match self {
            Signal::Traces => ExportTraceServiceResponse {
                partial_success: partial
                    .then_some(ExportTracePartialSuccess { rejected_spans: rejected, error_message }),
            }
            .encode_to_vec(),
            Signal::Logs => ExportLogsServiceResponse {
                partial_success: partial
                    .then_some(ExportLogsPartialSuccess { rejected_log_records: rejected, error_message }),
            }
            .encode_to_vec(),
            Signal::Metrics => ExportMetricsServiceResponse {
                partial_success: partial
                    .then_some(ExportMetricsPartialSuccess { rejected_data_points: rejected, error_message }),
            }
            .encode_to_vec(),
        }
    }

    /// The rejected-count field of the response in OTLP/JSON.
    pub fn rejected_field(self) -> &'static str {
        match self {
            Signal::Traces => "rejectedSpans",
            Signal::Logs => "rejectedLogRecords",
            Signal::Metrics => "rejectedDataPoints",
        }
    }
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Any {
    #[prost(string, tag = "1")]
    pub(crate) type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) value: Vec<u8>,
}

/// `google.rpc.Status`, the body of OTLP's error answers (HTTP's without details).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<Any>,
}
