// Small helpers shared by the Traces and Logs pages: durations, colours per
// service, severities, the waterfall's rows.

import type { Span } from '../../lib/api';

/** "840 µs", "12.3 ms", "1.24 s" from nanoseconds (rounded before the unit is chosen). */
export function formatNanos(nanos: number): string {
  // Unix-nanosecond times lose precision as JS numbers, so differences are rounded first.
  const value = Math.round(nanos);
  if (value < 1_000) return `${value} ns`;
  if (value < 999_500) return `${Math.round(value / 1_000)} µs`;
  const ms = value / 1_000_000;
  if (ms < 9.995) return `${ms.toFixed(2)} ms`;
  if (ms < 99.95) return `${ms.toFixed(1)} ms`;
  if (ms < 999.5) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A local clock time with milliseconds, for spans and log lines. */
export function clockTime(unixNano: number): string {
  const date = new Date(unixNano / 1_000_000);
  const base = date.toLocaleTimeString(undefined, { hour12: false });
  return `${base}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

// Distinct hues that read on light and dark backgrounds; a service keeps its colour.
const PALETTE = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ec4899', '#06b6d4', '#84cc16', '#f97316', '#6366f1', '#14b8a6'];

/** The colour of a service (stable: derived from its name). */
export function serviceColor(service: string): string {
  let hash = 0;
  for (const char of service) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

/** OTLP severity numbers as words. */
export function severityWord(number: number, text = ''): string {
  if (text) return text.toUpperCase();
  if (number >= 21) return 'FATAL';
  if (number >= 17) return 'ERROR';
  if (number >= 13) return 'WARN';
  if (number >= 9) return 'INFO';
  if (number >= 5) return 'DEBUG';
  if (number >= 1) return 'TRACE';
  return '—';
}

/** The badge style of a severity. */
export function severityStatus(number: number): 'ok' | 'attention' | 'failing' | 'unknown' {
  if (number >= 17) return 'failing';
  if (number >= 13) return 'attention';
  if (number >= 9) return 'ok';
  return 'unknown';
}

/** One row of the waterfall. */
export interface WaterfallRow {
  span: Span;
  depth: number;
  /** How many spans sit under it (all levels). */
  descendants: number;
}

/**
 * The spans as a depth-first tree (children by start time); spans whose
 * parent is missing count as roots. Collapsed spans hide their subtree.
 */
export function waterfallRows(spans: Span[], collapsed: Set<string>): WaterfallRow[] {
  const ids = new Set(spans.map((span) => span.span_id));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const span of spans) {
    if (!span.parent_span_id || !ids.has(span.parent_span_id) || span.parent_span_id === span.span_id) {
      roots.push(span);
    } else {
      const list = children.get(span.parent_span_id) ?? [];
      list.push(span);
      children.set(span.parent_span_id, list);
    }
  }
  const byStart = (a: Span, b: Span) => a.start_unix_nano - b.start_unix_nano;
  roots.sort(byStart);
  for (const list of children.values()) list.sort(byStart);

  // Subtree sizes first (iteratively: 10,000-deep chains must not overflow the stack).
  const descendants = new Map<string, number>();
  const order: Span[] = [];
  const visiting: Span[] = [...roots];
  const seen = new Set<string>();
  while (visiting.length > 0) {
    const span = visiting.pop()!;
    if (seen.has(span.span_id)) continue;
    seen.add(span.span_id);
    order.push(span);
    for (const child of children.get(span.span_id) ?? []) visiting.push(child);
  }
  for (let index = order.length - 1; index >= 0; index -= 1) {
    const span = order[index];
    let total = 0;
    for (const child of children.get(span.span_id) ?? []) total += 1 + (descendants.get(child.span_id) ?? 0);
    descendants.set(span.span_id, total);
  }

  const rows: WaterfallRow[] = [];
  const stack: { span: Span; depth: number }[] = roots.map((span) => ({ span, depth: 0 })).reverse();
  const placed = new Set<string>();
  while (stack.length > 0) {
    const { span, depth } = stack.pop()!;
    if (placed.has(span.span_id)) continue;
    placed.add(span.span_id);
    rows.push({ span, depth, descendants: descendants.get(span.span_id) ?? 0 });
    if (collapsed.has(span.span_id)) continue;
    const list = children.get(span.span_id) ?? [];
    for (let index = list.length - 1; index >= 0; index -= 1) stack.push({ span: list[index], depth: depth + 1 });
  }
  return rows;
}

/** Bins of a duration histogram over `values` (ns): equal widths from min to max. */
export function histogram(values: number[], bins = 24): { from: number; to: number; count: number }[] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = Math.max(1, Math.ceil((max - min + 1) / bins));
  const result = Array.from({ length: bins }, (_, index) => ({ from: min + index * width, to: min + (index + 1) * width, count: 0 }));
  for (const value of values) result[Math.min(bins - 1, Math.floor((value - min) / width))].count += 1;
  return result;
}
