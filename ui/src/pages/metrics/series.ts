// Turning a query's answer into what the chart and the table show.

import type { QueryAnswer } from '../../lib/bindings/QueryAnswer';

/** `name{label="value", …}` as Prometheus prints a series. */
export function seriesName(labels: Record<string, string>): string {
  const name = labels.__name__ ?? '';
  const rest = Object.entries(labels)
    .filter(([label]) => label !== '__name__')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  return rest.length === 0 && name ? name : `${name}{${rest.join(', ')}}`;
}

/** A value as it arrived (`NaN`, `+Inf` and numbers as text) as a number. */
export function numberOf(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export interface SeriesRow {
  name: string;
  last: number | null;
  min: number | null;
  max: number | null;
  points: number;
}

/** One row per series: its last, lowest and highest finite value. */
export function seriesRows(answer: QueryAnswer): SeriesRow[] {
  return answer.series.map((series) => {
    const values = series.points.map((point) => numberOf(point.value)).filter(Number.isFinite);
    const last = series.points.length ? numberOf(series.points[series.points.length - 1].value) : null;
    return {
      name: seriesName(series.labels),
      last: last !== null && Number.isFinite(last) ? last : null,
      min: values.length ? Math.min(...values) : null,
      max: values.length ? Math.max(...values) : null,
      points: series.points.length,
    };
  });
}

/**
 * uPlot's data: one x axis (Unix seconds, every time any series has a
 * point) and one y array per series, `null` where a series has no point
 * (a gap, not a line drawn across it).
 */
export function alignedData(answer: QueryAnswer): { xs: number[]; ys: (number | null)[][] } {
  const times = new Set<number>();
  for (const series of answer.series) for (const point of series.points) times.add(point.t_unix_ms);
  const xsMs = [...times].sort((a, b) => a - b);
  const index = new Map(xsMs.map((t, i) => [t, i]));
  const ys = answer.series.map((series) => {
    const row: (number | null)[] = new Array(xsMs.length).fill(null);
    for (const point of series.points) {
      const value = numberOf(point.value);
      row[index.get(point.t_unix_ms) ?? 0] = Number.isFinite(value) ? value : null;
    }
    return row;
  });
  return { xs: xsMs.map((t) => t / 1000), ys };
}

/** A compact number for axes and tables: 1.2k, 3.4M, 0.0012. */
export function compact(value: number | null): string {
  if (value === null) return '—';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e15 || magnitude < 1e-4)) return value.toExponential(2);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (magnitude >= size) return `${Number((value / size).toPrecision(3))}${unit}`;
  }
  return `${Number(value.toPrecision(4))}`;
}

/** Distinct colours for up to ten series that read on light and dark panels. */
export const SERIES_COLORS = [
  '#4c6ef5',
  '#e8590c',
  '#2f9e44',
  '#c2255c',
  '#1098ad',
  '#f08c00',
  '#7048e8',
  '#5c940d',
  '#d6336c',
  '#868e96',
];
