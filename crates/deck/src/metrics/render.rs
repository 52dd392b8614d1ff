//! Dashboards and single queries drawn as PNG or SVG with `plotters`, for
//! reports and chat: `opsdeck metrics render`, and the app's export, so both
//! make the same picture.
//!
//! A dashboard keeps its 12-column grid (a row is [`ROW_PX`] high). Time
//! series and heatmaps are drawn as lines over the range (a heatmap as one
//! line per bucket bound); stat and gauge panels as their latest value, large,
//! over a sparkline; bar and table panels as a bar per series for its
//! latest value. Times on the axis are UTC.

use std::collections::BTreeMap;

use opsdeck_metrics::dashboards::{expand, Dashboard, Panel, PanelKind};
use opsdeck_metrics::promql::Query;

use super::operations::{QueryAnswer, ResultType};
use opsdeck_metrics::{series_text, Labels, MetricsError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::DeckError;

/// Pixels per grid row.
const ROW_PX: u32 = 56;

opsdeck_core::word_enum! {
    /// An image format.
    "image format" pub enum ImageFormat {
        /// PNG (a bitmap).
        Png = "png",
        /// SVG (vector; text stays text).
        Svg = "svg",
    }
}

/// What to draw.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RenderInput {
    /// A dashboard's name (or give `expr`).
    #[serde(default)]
    pub dashboard: Option<String>,
    /// One PromQL query, drawn as a time series.
    #[serde(default)]
    pub expr: Option<String>,
    /// Only this panel of the dashboard (its position in the list, from 0),
    /// drawn alone at the full width.
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub panel: Option<u32>,
    /// Values of the dashboard's variables, `name=value` separated by
    /// commas: `service=shop,region=eu` (default: each one's first value).
    #[serde(default)]
    pub variables: String,
    /// The range, minutes up to its end (default the dashboard's, or 60).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub minutes: Option<i64>,
    /// The range's end, Unix ms (default now).
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub end_unix_ms: Option<i64>,
    /// PNG or SVG.
    pub format: ImageFormat,
    /// Width in pixels (default 1200 for a dashboard, 900 for a query).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub width: Option<u32>,
    /// Dark background.
    #[serde(default)]
    pub dark: bool,
}

/// A drawn image.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct RenderedImage {
    /// Its format.
    pub format: ImageFormat,
    /// `image/png` or `image/svg+xml`.
    pub mime: String,
    /// Width and height in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The image, base64.
    pub data_base64: String,
}

/// One panel's data: each series' name and points.
struct PanelData {
    panel: Panel,
    series: Vec<(String, Vec<(i64, f64)>)>,
    error: Option<String>,
}

struct Theme {
    background: RGBColor,
    panel: RGBColor,
    text: RGBColor,
    muted: RGBColor,
    grid: RGBColor,
}

const LIGHT: Theme = Theme {
    background: RGBColor(246, 247, 249),
    panel: RGBColor(255, 255, 255),
    text: RGBColor(26, 29, 35),
    muted: RGBColor(93, 102, 117),
    grid: RGBColor(228, 231, 236),
};
const DARK: Theme = Theme {
    background: RGBColor(13, 16, 21),
    panel: RGBColor(22, 26, 33),
    text: RGBColor(230, 233, 238),
    muted: RGBColor(163, 171, 184),
    grid: RGBColor(45, 51, 61),
};
const PALETTE: [RGBColor; 8] = [
    RGBColor(59, 91, 219),
    RGBColor(224, 49, 49),
    RGBColor(47, 158, 68),
    RGBColor(240, 140, 0),
    RGBColor(132, 94, 247),
    RGBColor(12, 166, 120),
    RGBColor(214, 51, 108),
    RGBColor(102, 117, 135),
];

fn invalid(message: String) -> DeckError {
    MetricsError::Invalid(message).into()
}

/// Registers a font for text once (plotters draws no text without one):
/// `OPSDECK_FONT` if set, else DejaVu Sans or the platform's usual sans.
fn ensure_font() -> Result<(), DeckError> {
    static FONT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        let mut candidates: Vec<String> = std::env::var("OPSDECK_FONT").ok().into_iter().collect();
        candidates.extend(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
                "/System/Library/Fonts/Supplemental/Arial.ttf",
                "C:\\Windows\\Fonts\\arial.ttf",
            ]
            .map(str::to_owned),
        );
        for path in &candidates {
            if let Ok(bytes) = std::fs::read(path) {
                // Kept for the life of the process: plotters holds fonts as 'static.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                    .map_err(|_| format!("{path} is not a TrueType font; set OPSDECK_FONT to one"));
            }
        }
        Err("no font to draw text with: install DejaVu Sans (Debian/Ubuntu: apt-get install fonts-dejavu-core) \
             or set OPSDECK_FONT to a .ttf file"
            .to_owned())
    })
    .clone()
    .map_err(invalid)
}

/// `HH:MM` (UTC) of a Unix ms time.
fn clock(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A value with its unit, short.
fn with_unit(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return opsdeck_metrics::promql::format_value(value);
    }
    let short = |value: f64| {
        let magnitude = value.abs();
        let (scaled, suffix) = if magnitude >= 1e9 {
            (value / 1e9, "G")
        } else if magnitude >= 1e6 {
            (value / 1e6, "M")
        } else if magnitude >= 1e3 {
            (value / 1e3, "k")
        } else {
            (value, "")
        };
        let text = if scaled.abs() >= 100.0 || scaled == scaled.trunc() {
            format!("{scaled:.0}")
        } else if scaled.abs() >= 10.0 {
            format!("{scaled:.1}")
        } else {
            format!("{scaled:.2}")
        };
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        };
        format!("{text}{suffix}")
    };
    match unit {
        "percentunit" => format!("{}%", short(value * 100.0)),
        "percent" => format!("{}%", short(value)),
        "s" if value != 0.0 && value.abs() < 1.0 => format!("{} ms", short(value * 1000.0)),
        "s" => format!("{} s", short(value)),
        "reqps" => format!("{}/s", short(value)),
        "bytes" => format!("{}B", short(value)),
        "" => short(value),
        other => format!("{} {other}", short(value)),
    }
}

impl super::Metrics<'_> {
    /// Draws a dashboard or one query as PNG or SVG.
    pub async fn render(self, input: &RenderInput) -> Result<RenderedImage, DeckError> {
        ensure_font()?;
        let (title, panels, variables, default_minutes) = match (&input.dashboard, &input.expr) {
            (Some(name), None) => {
                let detail = self.dashboard(name, None).await?;
                let mut given = BTreeMap::new();
                for pair in input.variables.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
                    let Some((name, value)) = pair.split_once('=') else {
                        return Err(invalid(format!("`{pair}` is not a variable's name=value")));
                    };
                    if !detail.dashboard.variables.iter().any(|variable| variable.name == name.trim()) {
                        return Err(invalid(format!(
                            "dashboard `{}` has no variable `{}`",
                            detail.dashboard.name,
                            name.trim()
                        )));
                    }
                    given.insert(name.trim().to_owned(), value.trim().to_owned());
                }
                let mut values = Vec::new();
                for variable in &detail.dashboard.variables {
                    let value = match given.get(&variable.name) {
                        Some(value) => value.clone(),
                        None => self
                            .label_values(&variable.label, &variable.selector, 1440)
                            .await?
                            .into_iter()
                            .next()
                            .unwrap_or_default(),
                    };
                    values.push((variable.name.clone(), value));
                }
                let Dashboard { title, mut panels, range_minutes, .. } = detail.dashboard;
                if let Some(index) = input.panel {
                    let count = panels.len();
                    let Some(mut one) = panels.into_iter().nth(index as usize) else {
                        return Err(invalid(format!(
                            "dashboard `{name}` has {count} panels (0 to {}); there is no panel {index}",
                            count.saturating_sub(1)
                        )));
                    };
                    (one.x, one.y, one.w) = (0, 0, 12);
                    panels = vec![one];
                }
                (title, panels, values, range_minutes)
            }
            (None, Some(expr)) => {
                let panel = Panel {
                    title: expr.clone(),
                    kind: PanelKind::TimeSeries,
                    expr: expr.clone(),
                    unit: String::new(),
                    x: 0,
                    y: 0,
                    w: 12,
                    h: 8,
                    min: None,
                    max: None,
                    source: None,
                };
                (String::new(), vec![panel], Vec::new(), 60)
            }
            _ => return Err(invalid("give a dashboard's name or one query (--expr), not both".into())),
        };
        if input.panel.is_some() && input.dashboard.is_none() {
            return Err(invalid("a panel is one of a dashboard's: give the dashboard's name with it".into()));
        }
        let title = match input.panel {
            // A panel alone is titled by the dashboard and itself.
            Some(_) => format!("{title} · {}", panels.first().map_or("", |panel| panel.title.as_str())),
            None => title,
        };
        let minutes = input.minutes.unwrap_or(default_minutes).clamp(1, 525_600);
        let end = input.end_unix_ms.unwrap_or_else(opsdeck_core::clock::now_unix_ms);
        let start = end - minutes * 60_000;
        let step = ((end - start) / 240).max(1000);
        let mut data = Vec::with_capacity(panels.len());
        for panel in panels {
            let text = expand(&panel.expr, &variables);
            // Every panel's answer as a query answer, from this deck or a remote source.
            let answer: Result<QueryAnswer, String> =
                match panel.source.as_deref().filter(|source| !source.is_empty()) {
                    Some(source) => self
                        .remote_query(source, &text, Some((start, end, step)), end)
                        .await
                        .map_err(|error| error.to_string()),
                    None => match Query::parse(&text) {
                        Ok(query) => self
                            .range(&query, start, end, step)
                            .await
                            .map(QueryAnswer::from)
                            .map_err(|error| error.to_string()),
                        Err(error) => Err(error.to_string()),
                    },
                };
            let (series, error) = match answer {
                Ok(answer) if answer.result_type == ResultType::Matrix => (
                    answer
                        .series
                        .into_iter()
                        .map(|series| {
                            let mut labels: Labels = series.labels;
                            labels.remove("__name__");
                            let name = if labels.is_empty() { text.clone() } else { series_text(&labels) };
                            let points = series
                                .points
                                .iter()
                                .map(|point| {
                                    (point.t_unix_ms, opsdeck_metrics::promql::parse_value(&point.value))
                                })
                                .collect();
                            (name, points)
                        })
                        .collect(),
                    None,
                ),
                Ok(_) => (Vec::new(), Some("the query gives no series over time".to_owned())),
                Err(error) => (Vec::new(), Some(error)),
            };
            data.push(PanelData { panel, series, error });
        }
        let width =
            input.width.unwrap_or(if input.dashboard.is_some() { 1200 } else { 900 }).clamp(300, 4000);
        let header = if title.is_empty() { 0 } else { 44 };
        let rows = data.iter().map(|one| one.panel.y + one.panel.h).max().unwrap_or(1);
        let height = header + rows * ROW_PX + 8;
        let theme = if input.dark { &DARK } else { &LIGHT };
        let subtitle = format!(
            "{} · last {} · UTC",
            variables.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join(", "),
            if minutes % 60 == 0 { format!("{} h", minutes / 60) } else { format!("{minutes} min") }
        );
        let subtitle = subtitle.trim_start_matches(" · ");
        let (bytes, mime) = match input.format {
            ImageFormat::Svg => {
                let mut text = String::new();
                let area = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
                draw_all(&area, theme, &title, subtitle, header, width, &data, (start, end))
                    .map_err(|error| invalid(format!("the image could not be drawn: {error}")))?;
                drop(area);
                (text.into_bytes(), "image/svg+xml")
            }
            ImageFormat::Png => {
                let mut pixels = vec![0_u8; (width * height * 3) as usize];
                let area = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
                draw_all(&area, theme, &title, subtitle, header, width, &data, (start, end))
                    .map_err(|error| invalid(format!("the image could not be drawn: {error}")))?;
                drop(area);
                (encode_png(&pixels, width, height)?, "image/png")
            }
        };
        use base64::Engine as _;
        Ok(RenderedImage {
            format: input.format,
            mime: mime.to_owned(),
            width,
            height,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }
}

fn encode_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, DeckError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer =
        encoder.write_header().map_err(|error| invalid(format!("the PNG could not be written: {error}")))?;
    writer
        .write_image_data(pixels)
        .map_err(|error| invalid(format!("the PNG could not be written: {error}")))?;
    writer.finish().map_err(|error| invalid(format!("the PNG could not be written: {error}")))?;
    Ok(bytes)
}

#[allow(clippy::too_many_arguments)]
fn draw_all<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    theme: &Theme,
    title: &str,
    subtitle: &str,
    header: u32,
    width: u32,
    data: &[PanelData],
    range: (i64, i64),
) -> Result<(), String> {
    let fail = |error: DrawingAreaErrorKind<DB::ErrorType>| error.to_string();
    root.fill(&theme.background).map_err(fail)?;
    if header > 0 {
        root.draw_text(title, &("sans-serif", 22).into_font().color(&theme.text), (16, 10)).map_err(fail)?;
        root.draw_text(subtitle, &("sans-serif", 12).into_font().color(&theme.muted), (16, 32))
            .map_err(fail)?;
    }
    let column = f64::from(width) / 12.0;
    for one in data {
        let left = (f64::from(one.panel.x) * column).round() as i32 + 6;
        let top = (header + one.panel.y * ROW_PX) as i32 + 6;
        let right = (f64::from(one.panel.x + one.panel.w) * column).round() as i32 - 6;
        let bottom = (header + (one.panel.y + one.panel.h) * ROW_PX) as i32 - 6;
        let area =
            root.clone().shrink((left, top), ((right - left).max(10) as u32, (bottom - top).max(10) as u32));
        area.fill(&theme.panel).map_err(fail)?;
        draw_panel(&area, theme, one, range).map_err(fail)?;
    }
    root.present().map_err(fail)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    theme: &Theme,
    one: &PanelData,
    (start, end): (i64, i64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let title_font = ("sans-serif", 13).into_font().color(&theme.text);
    area.draw_text(&one.panel.title, &title_font, (10, 8))?;
    let (width, height) = area.dim_in_pixel();
    if let Some(error) = &one.error {
        let shown: String = error.chars().take(120).collect();
        area.draw_text(&shown, &("sans-serif", 12).into_font().color(&RGBColor(224, 49, 49)), (10, 32))?;
        return Ok(());
    }
    if one.series.is_empty() {
        area.draw_text(
            "No data in this range",
            &("sans-serif", 12).into_font().color(&theme.muted),
            (10, 32),
        )?;
        return Ok(());
    }
    let unit = one.panel.unit.as_str();
    let latest = |points: &[(i64, f64)]| points.iter().rev().find(|(_, v)| v.is_finite()).map(|(_, v)| *v);
    match one.panel.kind {
        PanelKind::Stat | PanelKind::Gauge => {
            let value = one.series.iter().filter_map(|(_, points)| latest(points)).sum::<f64>();
            let big = ("sans-serif", (height / 3).clamp(16, 48)).into_font().color(&PALETTE[0]);
            area.draw_text(&with_unit(value, unit), &big, (10, 30))?;
            if one.panel.kind == PanelKind::Gauge {
                let max = one.panel.max.unwrap_or(if unit == "percent" { 100.0 } else { 1.0 });
                let min = one.panel.min.unwrap_or(0.0);
                let share = ((value - min) / (max - min)).clamp(0.0, 1.0);
                let bar_top = height as i32 - 22;
                let bar_width = width as i32 - 20;
                area.draw(&Rectangle::new(
                    [(10, bar_top), (10 + bar_width, bar_top + 10)],
                    theme.grid.filled(),
                ))?;
                let colour = if share > 0.8 {
                    PALETTE[1]
                } else if share > 0.5 {
                    PALETTE[3]
                } else {
                    PALETTE[2]
                };
                area.draw(&Rectangle::new(
                    [(10, bar_top), (10 + (f64::from(bar_width) * share) as i32, bar_top + 10)],
                    colour.filled(),
                ))?;
            } else if let Some((_, points)) = one.series.first() {
                let spark = area.clone().shrink((0, height.saturating_sub(height / 3)), (width, height / 3));
                draw_lines(&spark, theme, &[(String::new(), points.clone())], (start, end), unit, false)?;
            }
        }
        PanelKind::Bar | PanelKind::Table => {
            let mut values: Vec<(&str, f64)> = one
                .series
                .iter()
                .filter_map(|(name, points)| Some((name.as_str(), latest(points)?)))
                .collect();
            values.sort_by(|a, b| b.1.total_cmp(&a.1));
            let highest = values.iter().map(|(_, v)| v.abs()).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
            let row = 20;
            let label_font = ("sans-serif", 11).into_font().color(&theme.text);
            for (index, (name, value)) in values.iter().enumerate() {
                let y = 30 + index as i32 * row;
                if y + row > height as i32 {
                    break;
                }
                let bar_left = (width as i32 * 2) / 5;
                let bar_space = width as i32 - bar_left - 70;
                let shown: String = name.chars().take(48).collect();
                area.draw_text(&shown, &label_font, (10, y + 3))?;
                let length = (f64::from(bar_space) * value.abs() / highest) as i32;
                area.draw(&Rectangle::new(
                    [(bar_left, y + 2), (bar_left + length.max(1), y + row - 4)],
                    PALETTE[index % 8].filled(),
                ))?;
                area.draw_text(&with_unit(*value, unit), &label_font, (bar_left + length + 6, y + 3))?;
            }
        }
        PanelKind::TimeSeries | PanelKind::Heatmap => {
            let chart_area = area.clone().shrink((0, 26), (width, height.saturating_sub(26)));
            draw_lines(&chart_area, theme, &one.series, (start, end), unit, true)?;
        }
    }
    Ok(())
}

/// Lines over time; gaps where a series has no point for more than two
/// steps stay gaps.
fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    theme: &Theme,
    series: &[(String, Vec<(i64, f64)>)],
    (start, end): (i64, i64),
    unit: &str,
    axes: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let finite =
        series.iter().flat_map(|(_, points)| points.iter().map(|(_, v)| *v)).filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (low, high) = if low.is_finite() {
        (low.min(0.0), if high > low { high * 1.05 } else { low + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let mut builder = ChartBuilder::on(area);
    builder.margin(6);
    if axes {
        builder.x_label_area_size(20).y_label_area_size(56);
    }
    let mut chart = builder.build_cartesian_2d(start..end, low..high)?;
    if axes {
        let label_style = ("sans-serif", 10).into_font().color(&theme.muted);
        chart
            .configure_mesh()
            .light_line_style(theme.panel)
            .bold_line_style(theme.grid)
            .axis_style(theme.grid)
            .label_style(label_style)
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|t| clock(*t))
            .y_label_formatter(&|v| with_unit(*v, unit))
            .draw()?;
    }
    let step = series
        .iter()
        .find_map(|(_, points)| points.windows(2).next().map(|pair| pair[1].0 - pair[0].0))
        .unwrap_or(60_000);
    for (index, (_, points)) in series.iter().enumerate().take(40) {
        let colour = PALETTE[index % PALETTE.len()];
        let mut segment: Vec<(i64, f64)> = Vec::new();
        let mut segments = Vec::new();
        for &(t, v) in points {
            if !v.is_finite() {
                continue;
            }
            if segment.last().is_some_and(|(last, _)| t - last > 2 * step) {
                segments.push(std::mem::take(&mut segment));
            }
            segment.push((t, v));
        }
        segments.push(segment);
        for segment in segments.into_iter().filter(|segment| !segment.is_empty()) {
            if segment.len() == 1 {
                // A lone point draws no line: show it as a dot.
                chart.draw_series(segment.into_iter().map(|point| Circle::new(point, 3, colour.filled())))?;
            } else {
                chart.draw_series(LineSeries::new(segment, colour.stroke_width(2)))?;
            }
        }
    }
    Ok(())
}

/// `metric.render`.
pub struct Render;

impl crate::catalogue::Operation for Render {
    type Input = RenderInput;
    type Output = RenderedImage;
    const NAME: &'static str = "metric.render";
    const SUMMARY: &'static str =
        "Draws a dashboard (its grid of panels) or one PromQL query as a PNG or SVG image, base64, for reports \
        and chat: the same picture from the CLI and the app.";
    const EFFECT: crate::catalogue::Effect = crate::catalogue::Effect::Read;
    const ROLE: opsdeck_vault::Role = opsdeck_vault::Role::Viewer;
    const METHOD: crate::catalogue::Method = crate::catalogue::Method::Get;
    const PATH: &'static str = "/v1/metrics/render";

    async fn run(
        deck: &crate::Deck,
        _caller: &crate::Caller,
        input: RenderInput,
    ) -> Result<RenderedImage, DeckError> {
        deck.metrics().render(&input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_with_their_units() {
        assert_eq!(with_unit(0.0523, "percentunit"), "5.23%");
        assert_eq!(with_unit(0.25, "s"), "250 ms");
        assert_eq!(with_unit(12_500.0, "reqps"), "12.5k/s");
        assert_eq!(with_unit(3.0, ""), "3");
        assert_eq!(clock(3_723_000), "01:02");
    }
}
