//! OTLP request bodies from anywhere on the network: the receivers hand
//! whatever bytes they get to the protobuf and JSON readers (traces, logs, metrics). Neither may
//! panic or hang; every input is records (some perhaps rejected) or a
//! 400-style error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdeck_telemetry::otlp::{decode_logs, decode_metrics, decode_traces, Encoding};

fuzz_target!(|data: &[u8]| {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        if let Ok(decoded) = decode_traces(data, encoding) {
            let _ = opsdeck_telemetry::critical_path(&decoded.records);
            let _ = opsdeck_telemetry::self_times(&decoded.records);
        }
        let _ = decode_logs(data, encoding);
        let _ = decode_metrics(data, encoding);
    }
});
