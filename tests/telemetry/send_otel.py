"""Sends one small trace and its logs through the real OpenTelemetry Python SDK
and its OTLP/HTTP exporters, as an instrumented service would; prints the
trace id (hex). Usage: send_otel.py ENDPOINT (e.g. http://127.0.0.1:4318)."""
import logging
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

endpoint = sys.argv[1].rstrip("/")
resource = Resource.create({"service.name": "shop-sdk", "deployment.environment": "test"})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
tracer = tracer_provider.get_tracer("checkout", "1.2.3")

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs")))
log = logging.getLogger("shop")
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)

with tracer.start_as_current_span("POST /orders", kind=trace.SpanKind.SERVER) as root:
    root.set_attribute("http.request.method", "POST")
    root.set_attribute("order.items", 3)
    trace_id = format(root.get_span_context().trace_id, "032x")
    with tracer.start_as_current_span("reserve stock") as reserve:
        reserve.add_event("stock.checked", {"sku": "A-1", "available": True})
        log.info("stock reserved for order")
    with tracer.start_as_current_span("charge card", kind=trace.SpanKind.CLIENT) as charge:
        charge.set_status(Status(StatusCode.ERROR, "card declined"))
        log.error("payment failed: card declined")

tracer_provider.force_flush()
logger_provider.force_flush()
tracer_provider.shutdown()
logger_provider.shutdown()
print(trace_id)
