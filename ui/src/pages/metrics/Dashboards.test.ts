import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';

// jsdom draws no canvas: the chart library is replaced (the real charts are looked at in the e2e journey).
vi.mock('uplot', () => ({
  default: class {
    setSize() {}
    destroy() {}
  },
}));
vi.mock('uplot/dist/uPlot.min.css', () => ({}));
const { default: DashboardsView } = await import('./DashboardsView.svelte');
import { expand, formatDetail, parseDetail, withUnit } from './dashboard';
import { router } from '../../lib/router.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

const red = {
  name: 'red',
  title: 'Service RED',
  description: 'Rate, errors and duration.',
  variables: [{ name: 'service', label: 'service_name', selector: 'traces_span_metrics_calls_total' }],
  range_minutes: 60,
  panels: [
    { title: 'Requests', kind: 'stat', expr: 'sum(rate(calls{service_name="$service"}[5m]))', unit: 'reqps', x: 0, y: 0, w: 4, h: 3, min: null, max: null },
    { title: 'Slowest', kind: 'bar', expr: 'topk(3, p95{service_name="$service"})', unit: 's', x: 4, y: 0, w: 8, h: 3, min: null, max: null },
  ],
};

const now = Date.now();
const series = (labels: Record<string, string>, values: number[]) => ({
  labels,
  points: values.map((value, index) => ({ t_unix_ms: now - (values.length - index) * 60_000, value: String(value) })),
});

describe('dashboard helpers', () => {
  it('puts variables into queries, escaped, longest name first', () => {
    expect(expand('up{a="$service", b="$service_name", c="${service}"}', { service: 'sh"op', service_name: 'x' })).toBe(
      'up{a="sh\\"op", b="x", c="sh\\"op"}',
    );
  });
  it('keeps a dashboard and its variables in the route', () => {
    expect(formatDetail('red', { service: 'shop', region: 'eu west' })).toBe('red?service=shop&region=eu%20west');
    expect(parseDetail('red?service=shop&region=eu%20west')).toEqual({ name: 'red', values: { service: 'shop', region: 'eu west' } });
  });
  it('writes values with their units', () => {
    expect(withUnit(0.0523, 'percentunit')).toBe('5.23%');
    expect(withUnit(0.25, 's')).toBe('250 ms');
    expect(withUnit(12_500, 'reqps')).toBe('12.5k/s');
    expect(withUnit(null, 's')).toBe('–');
  });
});

describe('Dashboards view', () => {
  it('draws the panels with the chosen service and saves a panel added to a generated dashboard as a copy', async () => {
    const queries: string[] = [];
    let saved: { name: string; panels: unknown[] } | null = null;
    mockIPC((command, payload) => {
      const input = (payload as { input?: Record<string, unknown> })?.input ?? {};
      if (command === 'dashboard_list') return [{ name: 'red', title: 'Service RED', description: '', panels: 2, generated: true, version: 0, saved_by: 'opsdeck', saved_at_unix_ms: 0 }];
      if (command === 'dashboard_get') return { dashboard: red, version: 0, generated: true };
      if (command === 'metric_label_values') return ['cart', 'shop'];
      if (command === 'metric_source_list') return [];
      if (command === 'metric_query_range') {
        queries.push(String(input.query));
        if (String(input.query).startsWith('topk')) {
          return { result_type: 'matrix', series: [series({ span_name: 'POST /checkout' }, [0.9]), series({ span_name: 'GET /cart' }, [0.01])] };
        }
        return { result_type: 'matrix', series: [series({}, [2, 3, 4.5])] };
      }
      if (command === 'dashboard_save') {
        saved = input as unknown as { name: string; panels: unknown[] };
        return { name: saved.name, version: 1, saved_by: 'app:ops', saved_at_unix_ms: now, title: 'copy', panels: saved.panels.length };
      }
      return null;
    });
    router.go('metrics', 'red?service=shop');
    render(DashboardsView);
    const value = await screen.findByTestId('panel-value');
    expect(value.textContent).toBe('4.5/s');
    await waitFor(() => expect(queries).toContain('sum(rate(calls{service_name="shop"}[5m]))'));
    const panels = screen.getAllByTestId('dashboard-panel');
    expect(panels.map((panel) => panel.dataset.kind)).toEqual(['stat', 'bar']);
    await waitFor(() => expect(panels[1].textContent).toContain('900 ms'));

    await fireEvent.click(screen.getByTestId('panel-add'));
    await fireEvent.input(screen.getByTestId('panel-title'), { target: { value: 'Errors' } });
    await fireEvent.input(screen.getByTestId('panel-expr'), { target: { value: 'sum(rate(errors{service_name="$service"}[5m]))' } });
    await fireEvent.click(screen.getByTestId('panel-save'));
    await waitFor(() => expect(saved).not.toBeNull());
    expect(saved!.name).toBe('red-copy');
    expect(saved!.panels).toHaveLength(3);
    expect((await screen.findByTestId('dashboard-notice')).textContent).toContain('saved as your copy, red-copy');
  });

  it('asks every panel for a custom range, and says when it is backwards', async () => {
    const ranges: { start: number; end: number }[] = [];
    mockIPC((command, payload) => {
      const input = (payload as { input?: Record<string, unknown> })?.input ?? {};
      if (command === 'dashboard_list') return [];
      if (command === 'dashboard_get') return { dashboard: red, version: 0, generated: true };
      if (command === 'metric_label_values') return ['shop'];
      if (command === 'metric_source_list') return [];
      if (command === 'metric_query_range') {
        ranges.push({ start: Number(input.start_unix_ms), end: Number(input.end_unix_ms) });
        return { result_type: 'matrix', series: [] };
      }
      return null;
    });
    router.go('metrics', 'red?service=shop');
    render(DashboardsView);
    await screen.findAllByTestId('dashboard-panel');
    await fireEvent.change(screen.getByTestId('dashboard-range'), { target: { value: '0' } });
    const from = await screen.findByTestId('custom-from');
    await fireEvent.input(from, { target: { value: '2026-12-01T10:00' } });
    await fireEvent.input(screen.getByTestId('custom-to'), { target: { value: '2026-12-01T09:00' } });
    await fireEvent.click(screen.getByTestId('custom-apply'));
    expect((await screen.findByRole('alert')).textContent).toContain('end must come after the start');
    await fireEvent.input(screen.getByTestId('custom-to'), { target: { value: '2026-12-01T12:30' } });
    ranges.length = 0;
    await fireEvent.click(screen.getByTestId('custom-apply'));
    const end = new Date('2026-12-01T12:30').getTime();
    await waitFor(() => expect(ranges.length).toBeGreaterThanOrEqual(2));
    expect(ranges.every((range) => range.end === end && range.start === end - 150 * 60_000)).toBe(true);
  });
});
