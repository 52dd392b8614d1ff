//! Metric export requests (protobuf, or OTLP/JSON mapped onto the same
//! types) into [`MetricPoint`]s: one per data point, whatever the
//! instrument. Exemplars are not kept.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, metric, number_data_point, summary_data_point,
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use serde_json::{json, Map, Value};

use super::{
    attributes, field, integer, json_pairs, json_resource, json_scope, list, scope_json, service_of, text,
    unsigned, DecodeError, Decoded,
};
use crate::model::MetricPoint;

/// What every point of one metric shares.
struct Instrument<'a> {
    service: &'a str,
    resource: &'a Value,
    scope: &'a Value,
    metric: &'a Metric,
}

impl Instrument<'_> {
    fn point(
        &self,
        kind: &str,
        times: (u64, u64),
        pairs: &[KeyValue],
        value: Option<f64>,
        data: Value,
    ) -> Result<MetricPoint, String> {
        let as_i64 = |nanos: u64| i64::try_from(nanos).unwrap_or(i64::MAX);
        Ok(MetricPoint {
            service: self.service.to_owned(),
            name: self.metric.name.clone(),
            description: self.metric.description.clone(),
            unit: self.metric.unit.clone(),
            kind: kind.to_owned(),
            start_unix_nano: as_i64(times.0),
            time_unix_nano: as_i64(times.1),
            value,
            data,
            attributes: attributes(pairs)?,
            resource: self.resource.clone(),
            scope: self.scope.clone(),
        })
    }
}

fn number(point: &NumberDataPoint) -> Option<f64> {
    match point.value {
        Some(number_data_point::Value::AsDouble(value)) => Some(value),
        Some(number_data_point::Value::AsInt(value)) => Some(value as f64),
        None => None,
    }
}

fn temporality(code: i32) -> &'static str {
    match code {
        1 => "delta",
        2 => "cumulative",
        _ => "unspecified",
    }
}

fn points_of(instrument: &Instrument<'_>) -> Vec<Result<MetricPoint, String>> {
    let name = &instrument.metric.name;
    match &instrument.metric.data {
        None => vec![Err(format!("metric {name:?} has no data"))],
        Some(metric::Data::Gauge(gauge)) => gauge
            .data_points
            .iter()
            .map(|point| {
                let times = (point.start_time_unix_nano, point.time_unix_nano);
                instrument.point("gauge", times, &point.attributes, number(point), json!({}))
            })
            .collect(),
        Some(metric::Data::Sum(sum)) => sum
            .data_points
            .iter()
            .map(|point| {
                let data = json!({
                    "temporality": temporality(sum.aggregation_temporality), "monotonic": sum.is_monotonic,
                });
                let times = (point.start_time_unix_nano, point.time_unix_nano);
                instrument.point("sum", times, &point.attributes, number(point), data)
            })
            .collect(),
        Some(metric::Data::Histogram(histogram)) => histogram
            .data_points
            .iter()
            .map(|point| {
                let data = json!({
                    "temporality": temporality(histogram.aggregation_temporality),
                    "count": point.count, "sum": point.sum, "min": point.min, "max": point.max,
                    "bounds": point.explicit_bounds, "counts": point.bucket_counts,
                });
                let times = (point.start_time_unix_nano, point.time_unix_nano);
                instrument.point("histogram", times, &point.attributes, None, data)
            })
            .collect(),
        Some(metric::Data::ExponentialHistogram(histogram)) => histogram
            .data_points
            .iter()
            .map(|point| {
                let buckets = |buckets: &Option<Buckets>| {
                    buckets.as_ref().map_or(json!({ "offset": 0, "counts": [] }), |buckets| {
                        json!({ "offset": buckets.offset, "counts": buckets.bucket_counts })
                    })
                };
                let data = json!({
                    "temporality": temporality(histogram.aggregation_temporality),
                    "count": point.count, "sum": point.sum, "min": point.min, "max": point.max,
                    "scale": point.scale, "zero_count": point.zero_count, "zero_threshold": point.zero_threshold,
                    "positive": buckets(&point.positive), "negative": buckets(&point.negative),
                });
                let times = (point.start_time_unix_nano, point.time_unix_nano);
                instrument.point("exponential_histogram", times, &point.attributes, None, data)
            })
            .collect(),
        Some(metric::Data::Summary(summary)) => summary
            .data_points
            .iter()
            .map(|point| {
                let quantiles: Vec<Value> = point
                    .quantile_values
                    .iter()
                    .map(|quantile| json!({ "quantile": quantile.quantile, "value": quantile.value }))
                    .collect();
                let data = json!({ "count": point.count, "sum": point.sum, "quantiles": quantiles });
                let times = (point.start_time_unix_nano, point.time_unix_nano);
                instrument.point("summary", times, &point.attributes, None, data)
            })
            .collect(),
    }
}

/// Every data point of the request, and what could not be kept.
pub(super) fn metrics_of(request: ExportMetricsServiceRequest) -> Decoded<MetricPoint> {
    let mut decoded = Decoded::default();
    for resource_metrics in &request.resource_metrics {
        let resource =
            match resource_metrics.resource.as_ref().map(|resource| attributes(&resource.attributes)) {
                Some(Ok(resource)) => resource,
                Some(Err(why)) => {
                    decoded.reject(format!("resource: {why}"));
                    continue;
                }
                None => Value::Object(Map::new()),
            };
        let service = service_of(&resource);
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope = match scope_json(scope_metrics.scope.as_ref()) {
                Ok(scope) => scope,
                Err(why) => {
                    decoded.reject(format!("scope: {why}"));
                    continue;
                }
            };
            for metric in &scope_metrics.metrics {
                let instrument = Instrument { service: &service, resource: &resource, scope: &scope, metric };
                for point in points_of(&instrument) {
                    match point {
                        Ok(point) => decoded.records.push(point),
                        Err(why) => decoded.reject(format!("metric {:?}: {why}", metric.name)),
                    }
                }
            }
        }
    }
    decoded
}

// ---- OTLP/JSON onto the protobuf types ----

fn float(object: &Value, camel: &str, snake: &str) -> Result<Option<f64>, DecodeError> {
    match field(object, camel, snake) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => Ok(number.as_f64()),
        // proto3 JSON spells the non-finite doubles as strings.
        Some(Value::String(text)) => text
            .parse::<f64>()
            .map(Some)
            .map_err(|_| DecodeError(format!("`{camel}` must be a number, not {text:?}"))),
        Some(_) => Err(DecodeError(format!("`{camel}` must be a number"))),
    }
}

fn floats(object: &Value, camel: &str, snake: &str) -> Result<Vec<f64>, DecodeError> {
    list(object, camel, snake)?
        .iter()
        .map(|item| {
            float(&json!({ "v": item }), "v", "v")?
                .ok_or_else(|| DecodeError(format!("`{camel}` holds a null")))
        })
        .collect()
}

fn counts(object: &Value, camel: &str, snake: &str) -> Result<Vec<u64>, DecodeError> {
    list(object, camel, snake)?.iter().map(|item| unsigned(&json!({ "v": item }), "v", "v")).collect()
}

fn times(point: &Value) -> Result<(u64, u64), DecodeError> {
    Ok((
        unsigned(point, "startTimeUnixNano", "start_time_unix_nano")?,
        unsigned(point, "timeUnixNano", "time_unix_nano")?,
    ))
}

fn json_number_point(point: &Value) -> Result<NumberDataPoint, DecodeError> {
    let (start_time_unix_nano, time_unix_nano) = times(point)?;
    let value = if field(point, "asInt", "as_int").is_some() {
        Some(number_data_point::Value::AsInt(integer(point, "asInt", "as_int")?))
    } else {
        float(point, "asDouble", "as_double")?.map(number_data_point::Value::AsDouble)
    };
    Ok(NumberDataPoint {
        attributes: json_pairs(list(point, "attributes", "attributes")?, 0)?,
        start_time_unix_nano,
        time_unix_nano,
        value,
        ..Default::default()
    })
}

fn json_number_points(data: &Value) -> Result<Vec<NumberDataPoint>, DecodeError> {
    list(data, "dataPoints", "data_points")?.iter().map(json_number_point).collect()
}

fn json_temporality(data: &Value) -> Result<i32, DecodeError> {
    Ok(i32::try_from(integer(data, "aggregationTemporality", "aggregation_temporality")?).unwrap_or_default())
}

fn json_buckets(point: &Value, camel: &str) -> Result<Option<Buckets>, DecodeError> {
    match point.get(camel) {
        None | Some(Value::Null) => Ok(None),
        Some(buckets) => Ok(Some(Buckets {
            offset: i32::try_from(integer(buckets, "offset", "offset")?).unwrap_or_default(),
            bucket_counts: counts(buckets, "bucketCounts", "bucket_counts")?,
        })),
    }
}

fn json_metric(value: &Value) -> Result<Metric, DecodeError> {
    let data = if let Some(gauge) = value.get("gauge") {
        Some(metric::Data::Gauge(Gauge { data_points: json_number_points(gauge)? }))
    } else if let Some(sum) = value.get("sum") {
        Some(metric::Data::Sum(Sum {
            data_points: json_number_points(sum)?,
            aggregation_temporality: json_temporality(sum)?,
            is_monotonic: field(sum, "isMonotonic", "is_monotonic").and_then(Value::as_bool).unwrap_or(false),
        }))
    } else if let Some(histogram) = value.get("histogram") {
        let data_points = list(histogram, "dataPoints", "data_points")?
            .iter()
            .map(|point| {
                let (start_time_unix_nano, time_unix_nano) = times(point)?;
                Ok(HistogramDataPoint {
                    attributes: json_pairs(list(point, "attributes", "attributes")?, 0)?,
                    start_time_unix_nano,
                    time_unix_nano,
                    count: unsigned(point, "count", "count")?,
                    sum: float(point, "sum", "sum")?,
                    bucket_counts: counts(point, "bucketCounts", "bucket_counts")?,
                    explicit_bounds: floats(point, "explicitBounds", "explicit_bounds")?,
                    min: float(point, "min", "min")?,
                    max: float(point, "max", "max")?,
                    ..Default::default()
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Some(metric::Data::Histogram(Histogram {
            data_points,
            aggregation_temporality: json_temporality(histogram)?,
        }))
    } else if let Some(histogram) = field(value, "exponentialHistogram", "exponential_histogram") {
        let data_points = list(histogram, "dataPoints", "data_points")?
            .iter()
            .map(|point| {
                let (start_time_unix_nano, time_unix_nano) = times(point)?;
                Ok(ExponentialHistogramDataPoint {
                    attributes: json_pairs(list(point, "attributes", "attributes")?, 0)?,
                    start_time_unix_nano,
                    time_unix_nano,
                    count: unsigned(point, "count", "count")?,
                    sum: float(point, "sum", "sum")?,
                    scale: i32::try_from(integer(point, "scale", "scale")?).unwrap_or_default(),
                    zero_count: unsigned(point, "zeroCount", "zero_count")?,
                    positive: json_buckets(point, "positive")?,
                    negative: json_buckets(point, "negative")?,
                    min: float(point, "min", "min")?,
                    max: float(point, "max", "max")?,
                    zero_threshold: float(point, "zeroThreshold", "zero_threshold")?.unwrap_or_default(),
                    ..Default::default()
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points,
            aggregation_temporality: json_temporality(histogram)?,
        }))
    } else if let Some(summary) = value.get("summary") {
        let data_points = list(summary, "dataPoints", "data_points")?
            .iter()
            .map(|point| {
                let (start_time_unix_nano, time_unix_nano) = times(point)?;
                let quantile_values = list(point, "quantileValues", "quantile_values")?
                    .iter()
                    .map(|quantile| {
                        Ok(summary_data_point::ValueAtQuantile {
                            quantile: float(quantile, "quantile", "quantile")?.unwrap_or_default(),
                            value: float(quantile, "value", "value")?.unwrap_or_default(),
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?;
                Ok(SummaryDataPoint {
                    attributes: json_pairs(list(point, "attributes", "attributes")?, 0)?,
                    start_time_unix_nano,
                    time_unix_nano,
                    count: unsigned(point, "count", "count")?,
                    sum: float(point, "sum", "sum")?.unwrap_or_default(),
                    quantile_values,
                    ..Default::default()
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Some(metric::Data::Summary(Summary { data_points }))
    } else {
        None
    };
    Ok(Metric {
        name: text(value, "name", "name")?,
        description: text(value, "description", "description")?,
        unit: text(value, "unit", "unit")?,
        data,
        ..Default::default()
    })
}

pub(super) fn json_metrics(body: &Value) -> Result<ExportMetricsServiceRequest, DecodeError> {
    let mut request = ExportMetricsServiceRequest::default();
    for resource_metrics in list(body, "resourceMetrics", "resource_metrics")? {
        let mut scopes = Vec::new();
        for scope_metrics in list(resource_metrics, "scopeMetrics", "scope_metrics")? {
            let metrics = list(scope_metrics, "metrics", "metrics")?
                .iter()
                .map(json_metric)
                .collect::<Result<_, _>>()?;
            scopes.push(ScopeMetrics { scope: json_scope(scope_metrics)?, metrics, ..Default::default() });
        }
        request.resource_metrics.push(ResourceMetrics {
            resource: json_resource(resource_metrics)?,
            scope_metrics: scopes,
            ..Default::default()
        });
    }
    Ok(request)
}
