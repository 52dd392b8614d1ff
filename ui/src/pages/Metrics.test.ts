import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { QueryAnswer } from '../lib/bindings/QueryAnswer';
import { alignedData, compact, seriesName, seriesRows } from './metrics/series';

// jsdom draws no canvas: the chart library is replaced by one that keeps
// what it was given (the real chart is looked at in the e2e journey).
const drawn: { labels: string[]; data: unknown[] }[] = [];
vi.mock('uplot', () => ({
  default: class {
    constructor(options: { series: { label?: string }[] }, data: unknown[]) {
      drawn.push({ labels: options.series.slice(1).map((series) => series.label ?? ''), data });
    }
    setSize() {}
    destroy() {}
  },
}));
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

const { default: Metrics } = await import('./Metrics.svelte');

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
  drawn.length = 0;
});

const answer: QueryAnswer = {
  result_type: 'matrix',
  series: [
    {
      labels: { job: 'shop', instance: 'a' },
      points: [
        { t_unix_ms: 60_000, value: '1.5' },
        { t_unix_ms: 120_000, value: '2500' },
      ],
    },
    { labels: { job: 'shop', instance: 'b' }, points: [{ t_unix_ms: 120_000, value: 'NaN' }] },
  ],
};

const target = {
  target: {
    name: 'node',
    url: 'http://127.0.0.1:9100/metrics',
    interval_seconds: 15,
    timeout_seconds: null,
    labels: {},
    honor_labels: false,
    sample_limit: null,
    bearer_token: null,
    basic_auth_username: null,
    basic_auth_password: null,
  },
  health: 'up',
  last_message: 'up: 312 samples in 9 ms',
  last_scrape_unix_ms: Date.now(),
  next_scrape_unix_ms: Date.now() + 15_000,
};

function backend(names: string[], calls: string[], failure?: unknown, targets: unknown[] = []) {
  mockIPC(
    (command, args) => {
      calls.push(`${command} ${JSON.stringify(args)}`);
      if (command === 'metric_target_list') return targets;
      if (command === 'metric_target_set') return target;
      if (command === 'metric_label_values') return names;
      if (command === 'metric_retention') {
        return { retention: { full_resolution_days: 7, keep_days: 90, max_bytes: 1 << 30 }, stored_bytes: 0, last_run: null };
      }
      if (command === 'metric_query_range') {
        if (failure) throw failure;
        return answer;
      }
      throw new Error(`unexpected ${command}`);
    },
    { shouldMockEvents: true },
  );
}

describe('Metrics page', () => {
  it('says how to send metrics when there are none but OpsDeck\'s own', async () => {
    backend(['opsdeck_series', 'opsdeck_store_bytes'], []);
    render(Metrics);
    const empty = await screen.findByTestId('metrics-empty');
    expect(empty.textContent).toContain('127.0.0.1:4318');
  });

  it('runs the first metric at once, then charts and tabulates what a query returns', async () => {
    const calls: string[] = [];
    backend(['orders_placed_total', 'up'], calls);
    render(Metrics);
    const table = await screen.findByTestId('metrics-table');
    expect(calls.some((call) => call.startsWith('metric_query_range') && call.includes('orders_placed_total'))).toBe(true);
    expect(table.textContent).toContain('{instance="a", job="shop"}');
    expect(table.textContent).toContain('2.5k');
    expect(drawn.at(-1)?.labels).toEqual(['{instance="a", job="shop"}', '{instance="b", job="shop"}']);

    const input = screen.getByTestId('metrics-query') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'sum(rate(up[5m]))' } });
    await fireEvent.submit(input.form!);
    await screen.findByTestId('metrics-table');
    expect(calls.at(-1)).toContain('sum(rate(up[5m]))');
    expect(localStorage.getItem('opsdeck.metrics.query')).toBe('sum(rate(up[5m]))');
  });

  it('shows why a query was refused where it was typed', async () => {
    backend(['up'], [], { code: 'invalid_input', message: '`sum(up` is not valid PromQL: unclosed left parenthesis' });
    render(Metrics);
    const panel = await screen.findByTestId('error-panel');
    expect(panel.textContent).toContain('not valid PromQL');
  });
});

describe('Scrape targets', () => {
  it('lists targets with their health and adds one from the form', async () => {
    const calls: string[] = [];
    backend([], calls, undefined, [target]);
    render(Metrics);
    const row = await screen.findByTestId('target-row');
    expect(row.textContent).toContain('http://127.0.0.1:9100/metrics');
    expect(row.textContent).toContain('up: 312 samples');

    await fireEvent.click(screen.getByTestId('target-add'));
    await fireEvent.input(screen.getByTestId('target-name'), { target: { value: 'api' } });
    await fireEvent.input(screen.getByTestId('target-url'), { target: { value: 'http://127.0.0.1:8080/metrics' } });
    await fireEvent.submit(screen.getByTestId('target-form'));
    await vi.waitFor(() => expect(calls.some((call) => call.startsWith('metric_target_set'))).toBe(true));
    const sent = calls.find((call) => call.startsWith('metric_target_set')) ?? '';
    expect(sent).toContain('"name":"api"');
    expect(sent).toContain('"interval_seconds":15');
  });
});

describe('series helpers', () => {
  it('names, aligns and summarises series as the page shows them', () => {
    expect(seriesName({ __name__: 'up', job: 'a' })).toBe('up{job="a"}');
    expect(seriesName({ __name__: 'up' })).toBe('up');
    const { xs, ys } = alignedData(answer);
    expect(xs).toEqual([60, 120]);
    expect(ys).toEqual([
      [1.5, 2500],
      [null, null],
    ]);
    const rows = seriesRows(answer);
    expect(rows[0]).toMatchObject({ last: 2500, min: 1.5, max: 2500, points: 2 });
    expect(rows[1]).toMatchObject({ last: null, min: null, points: 1 });
    expect([compact(1234), compact(0.5), compact(2e-7), compact(null)]).toEqual(['1.23k', '0.5', '2.00e-7', '—']);
  });
});
