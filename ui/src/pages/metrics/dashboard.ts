// Dashboards in the page: the route's detail (`red?service=shop`), variables
// put into queries, and values written with their units.
import type { QueryAnswer } from '../../lib/bindings/QueryAnswer';
import { numberOf } from './series';

/** `red?service=shop&region=eu` → the dashboard and its variables' values. */
export function parseDetail(detail: string): { name: string; values: Record<string, string> } {
  const [name, query = ''] = detail.split('?');
  const values: Record<string, string> = {};
  for (const pair of query.split('&').filter(Boolean)) {
    const [key, value = ''] = pair.split('=');
    values[decodeURIComponent(key)] = decodeURIComponent(value);
  }
  return { name, values };
}

/** The route's detail for a dashboard and its variables' values. */
export function formatDetail(name: string, values: Record<string, string>): string {
  const query = Object.entries(values)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  return query ? `${name}?${query}` : name;
}

/** `expr` with `$name` and `${name}` replaced (longer names first), values escaped for label matchers. */
export function expand(expr: string, values: Record<string, string>): string {
  let text = expr;
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  for (const name of names) {
    const escaped = values[name].replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    text = text.split(`\${${name}}`).join(escaped).split(`$${name}`).join(escaped);
  }
  return text;
}

function short(value: number): string {
  const magnitude = Math.abs(value);
  const [scaled, suffix] =
    magnitude >= 1e9 ? [value / 1e9, 'G'] : magnitude >= 1e6 ? [value / 1e6, 'M'] : magnitude >= 1e3 ? [value / 1e3, 'k'] : [value, ''];
  const digits = Math.abs(scaled) >= 100 || Number.isInteger(scaled) ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
  return `${Number(scaled.toFixed(digits))}${suffix}`;
}

/** A value with its unit, short (`5.23%`, `250 ms`, `12.5k/s`). */
export function withUnit(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return value === null ? '–' : String(value);
  switch (unit) {
    case 'percentunit':
      return `${short(value * 100)}%`;
    case 'percent':
      return `${short(value)}%`;
    case 's':
      return value !== 0 && Math.abs(value) < 1 ? `${short(value * 1000)} ms` : `${short(value)} s`;
    case 'reqps':
      return `${short(value)}/s`;
    case 'bytes':
      return `${short(value)}B`;
    case '':
      return short(value);
    default:
      return `${short(value)} ${unit}`;
  }
}

/** Each series' latest finite value. */
export function latestValues(answer: QueryAnswer): { labels: Record<string, string>; value: number | null }[] {
  return answer.series.map((series) => {
    for (let index = series.points.length - 1; index >= 0; index -= 1) {
      const value = numberOf(series.points[index].value);
      if (Number.isFinite(value)) return { labels: series.labels, value };
    }
    return { labels: series.labels, value: null };
  });
}

/** Where a panel sits on the 12-column grid, in cells. */
export type Place = { x: number; y: number; w: number; h: number };

/** Columns of a dashboard's grid. */
export const COLUMNS = 12;

function overlaps(a: Place, b: Place): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

const clamp = (value: number, low: number, high: number) => Math.min(Math.max(Math.round(value), low), high);

/**
 * The panels with `panels[index]` moved or resized to `place` (kept inside
 * the columns, at least 2 columns and 2 rows): the others in its way go
 * down below it, then every panel rises as far as it can, as panels do on
 * a dashboard grid with gravity. Nothing ever overlaps.
 */
export function arrange<P extends Place>(panels: P[], index: number, place: Place): P[] {
  const w = clamp(place.w, 2, COLUMNS);
  const placed = { x: clamp(place.x, 0, COLUMNS - w), y: Math.max(0, Math.round(place.y)), w, h: clamp(place.h, 2, 60) };
  const moved = panels.map((panel, at) => (at === index ? { ...panel, ...placed } : { ...panel }));
  const byRow = (a: number, b: number) => moved[a].y - moved[b].y || (a === index ? -1 : b === index ? 1 : moved[a].x - moved[b].x);
  // Out of the way: a panel the dragged one moved down onto, from above,
  // goes up above it where it fits (two rows swap); otherwise each other
  // panel, top first, goes below what it hits.
  const movedDown = placed.y > panels[index].y;
  const settled = [index];
  for (const at of moved.map((_, i) => i).filter((i) => i !== index).sort(byRow)) {
    const above = { ...moved[at], y: placed.y - moved[at].h };
    if (movedDown && overlaps(moved[at], placed) && moved[at].y < placed.y && above.y >= 0 && !settled.some((j) => overlaps(moved[j], above))) {
      moved[at].y = above.y;
    }
    for (let hit = settled.find((j) => overlaps(moved[j], moved[at])); hit !== undefined; hit = settled.find((j) => overlaps(moved[j], moved[at]))) {
      moved[at].y = moved[hit].y + moved[hit].h;
    }
    settled.push(at);
  }
  // Gravity: top first, each rises until it would touch one above it.
  const risen: number[] = [];
  for (const at of moved.map((_, i) => i).sort(byRow)) {
    while (moved[at].y > 0 && !risen.some((j) => overlaps(moved[j], { ...moved[at], y: moved[at].y - 1 }))) moved[at].y -= 1;
    risen.push(at);
  }
  return moved;
}
