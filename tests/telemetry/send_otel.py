"""Sends one small trace, its logs and two metrics through the real
OpenTelemetry Python SDK and its OTLP exporters, as an instrumented service
would; then, as a second service (`batch-sdk-PROTOCOL`), a counter and an
exponential histogram with delta temporality, exported twice; prints the
trace id (hex).

Usage: send_otel.py http http://127.0.0.1:4318
       send_otel.py grpc 127.0.0.1:4317"""
import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

protocol, endpoint = sys.argv[1], sys.argv[2].rstrip("/")
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    spans = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    logs = OTLPLogExporter(endpoint=endpoint, insecure=True)
    metrics = OTLPMetricExporter(endpoint=endpoint, insecure=True)
    metric_exporter = lambda **options: OTLPMetricExporter(endpoint=endpoint, insecure=True, **options)
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    spans = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    logs = OTLPLogExporter(endpoint=f"{endpoint}/v1/logs")
    metrics = OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")
    metric_exporter = lambda **options: OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", **options)

resource = Resource.create({"service.name": f"shop-sdk-{protocol}", "deployment.environment": "test"})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(spans))
tracer = tracer_provider.get_tracer("checkout", "1.2.3")

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(logs))
log = logging.getLogger("shop")
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)

# A long interval: the points go out once, at shutdown.
meter_provider = MeterProvider(
    resource=resource, metric_readers=[PeriodicExportingMetricReader(metrics, export_interval_millis=60_000)]
)
meter = meter_provider.get_meter("checkout", "1.2.3")
orders = meter.create_counter("orders.placed", unit="1", description="Orders placed")
latency = meter.create_histogram("checkout.duration", unit="ms", description="Checkout time")

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
    orders.add(3, {"region": "eu"})
    latency.record(12.5)
    latency.record(30.0)

tracer_provider.force_flush()
logger_provider.force_flush()
tracer_provider.shutdown()
logger_provider.shutdown()
meter_provider.shutdown()

# Delta temporality and an exponential histogram, exported twice: OpsDeck
# keeps running totals, so the series read 5 jobs and 5 payloads.
delta = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
batch_provider = MeterProvider(
    resource=Resource.create({"service.name": f"batch-sdk-{protocol}"}),
    metric_readers=[
        PeriodicExportingMetricReader(metric_exporter(preferred_temporality=delta), export_interval_millis=60_000)
    ],
    views=[View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation())],
)
batch = batch_provider.get_meter("batch", "1.0.0")
jobs = batch.create_counter("jobs.done", description="Jobs done")
sizes = batch.create_histogram("payload.size", unit="By", description="Payload sizes")
jobs.add(3)
for size in (100, 200, 400, 800):
    sizes.record(size)
batch_provider.force_flush()
jobs.add(2)
sizes.record(1600)
batch_provider.shutdown()
print(trace_id)
