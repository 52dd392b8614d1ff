import { describe, expect, it } from 'vitest';
import type { Span } from '../../lib/api';
import { formatNanos, histogram, severityWord, waterfallRows } from './telemetry';

function span(id: string, parent: string, start: number, end = start + 10): Span {
  return {
    trace_id: 'a'.repeat(32),
    span_id: id,
    parent_span_id: parent,
    service: 'svc',
    name: `op ${id}`,
    kind: 1,
    start_unix_nano: start,
    end_unix_nano: end,
    status_code: 0,
    status: 'unset',
    status_message: '',
    trace_state: '',
    flags: 0,
    attributes: {},
    resource: {},
    scope: {},
    events: [],
    links: [],
  };
}

describe('the waterfall rows', () => {
  it('lists spans depth first, children by start, orphans as roots', () => {
    const spans = [span('c', 'a', 5), span('a', '', 0, 100), span('b', 'a', 1), span('d', 'b', 2), span('x', 'missing', 50)];
    const rows = waterfallRows(spans, new Set());
    expect(rows.map((row) => `${row.span.span_id}@${row.depth}`)).toEqual(['a@0', 'b@1', 'd@2', 'c@1', 'x@0']);
    expect(rows[0].descendants).toBe(3);
  });

  it('hides what a folded span holds and keeps counting it', () => {
    const spans = [span('a', '', 0, 100), span('b', 'a', 1), span('d', 'b', 2), span('c', 'a', 5)];
    const rows = waterfallRows(spans, new Set(['b']));
    expect(rows.map((row) => row.span.span_id)).toEqual(['a', 'b', 'c']);
    expect(rows[1].descendants).toBe(1);
  });

  it('takes a 10,000-deep chain without running out of stack', () => {
    const spans = Array.from({ length: 10_000 }, (_, index) => span(`s${index}`, index === 0 ? '' : `s${index - 1}`, index));
    const rows = waterfallRows(spans, new Set());
    expect(rows).toHaveLength(10_000);
    expect(rows[9_999].depth).toBe(9_999);
    expect(rows[0].descendants).toBe(9_999);
  });

  it('survives a span that names itself as its parent', () => {
    const rows = waterfallRows([span('a', 'a', 0)], new Set());
    expect(rows.map((row) => row.span.span_id)).toEqual(['a']);
  });
});

describe('formatting', () => {
  it('shows durations in the unit that reads best', () => {
    expect(formatNanos(850)).toBe('850 ns');
    expect(formatNanos(840_000)).toBe('840 µs');
    expect(formatNanos(7_570_000)).toBe('7.57 ms');
    expect(formatNanos(115_000_000)).toBe('115 ms');
    expect(formatNanos(20_000_000_000)).toBe('20.00 s');
  });

  it('names severities from their numbers or the source word', () => {
    expect(severityWord(17)).toBe('ERROR');
    expect(severityWord(9)).toBe('INFO');
    expect(severityWord(9, 'notice')).toBe('NOTICE');
    expect(severityWord(0)).toBe('—');
  });

  it('bins durations from the shortest to the longest', () => {
    const bins = histogram([10, 20, 30, 1000], 4);
    expect(bins).toHaveLength(4);
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(4);
    expect(bins[0].count).toBe(3);
    expect(bins[3].count).toBe(1);
    expect(histogram([], 4)).toEqual([]);
  });
});
