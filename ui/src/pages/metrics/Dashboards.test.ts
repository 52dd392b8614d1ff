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
import { arrange, expand, formatDetail, parseDetail, withUnit } from './dashboard';
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

describe('arranging a saved dashboard', () => {
  it('moves and resizes panels with the keyboard, edits and removes one, asks no query again, and saves the layout', async () => {
    let asked = 0;
    let saved: { name: string; panels: { title: string; expr: string; x: number; y: number; w: number; h: number }[] } | null = null;
    const mine = { ...red, name: 'mine', title: 'Mine', variables: [] };
    mockIPC((command, payload) => {
      const input = (payload as { input?: Record<string, unknown> })?.input ?? {};
      if (command === 'dashboard_list') return [];
      if (command === 'dashboard_get') return { dashboard: mine, version: 3, generated: false };
      if (command === 'metric_source_list') return [];
      if (command === 'metric_query_range') {
        asked += 1;
        return { result_type: 'matrix', series: [series({}, [1, 2])] };
      }
      if (command === 'dashboard_save') {
        saved = input as unknown as typeof saved;
        return { name: 'mine', version: 4, saved_by: 'app:ops', saved_at_unix_ms: now, title: 'Mine', panels: saved!.panels.length };
      }
      return null;
    });
    router.go('metrics', 'mine');
    render(DashboardsView);
    await screen.findAllByTestId('panel-value');
    await waitFor(() => expect(asked).toBe(2));
    await fireEvent.click(screen.getByTestId('dashboard-arrange'));
    const [requests] = screen.getAllByTestId('arranged-panel');
    expect(requests.getAttribute('aria-label')).toBe('Requests: columns 1 to 4, rows 1 to 3');
    // Down a row, then two rows taller: the bar beside it is not in the way.
    await fireEvent.keyDown(requests, { key: 'ArrowDown' });
    await fireEvent.keyDown(requests, { key: 'ArrowDown', shiftKey: true });
    await fireEvent.keyDown(requests, { key: 'ArrowDown', shiftKey: true });
    // Gravity keeps it at the top; it is 5 rows high now.
    expect(screen.getAllByTestId('arranged-panel')[0].getAttribute('aria-label')).toBe('Requests: columns 1 to 4, rows 1 to 5');
    // Wider by 8 columns: it takes the whole row and the bar goes below it.
    for (let step = 0; step < 8; step += 1) await fireEvent.keyDown(screen.getAllByTestId('arranged-panel')[0], { key: 'ArrowRight', shiftKey: true });
    expect(screen.getAllByTestId('arranged-panel')[1].getAttribute('aria-label')).toBe('Slowest: columns 5 to 12, rows 6 to 8');
    expect(asked).toBe(2);

    // Edit the bar's query in the form (saved at once), after removing nothing.
    await fireEvent.click(screen.getAllByTestId('panel-edit')[1]);
    expect((screen.getByTestId('panel-expr') as HTMLInputElement).value).toBe('topk(3, p95{service_name="$service"})');
    await fireEvent.input(screen.getByTestId('panel-expr'), { target: { value: 'topk(5, p95)' } });
    await fireEvent.click(screen.getByTestId('panel-save'));
    await waitFor(() => expect(saved).not.toBeNull());
    expect(saved!.name).toBe('mine');
    expect(saved!.panels.map((panel) => [panel.title, panel.expr, panel.x, panel.y, panel.w, panel.h])).toEqual([
      ['Requests', 'sum(rate(calls{service_name="$service"}[5m]))', 0, 0, 12, 5],
      ['Slowest', 'topk(5, p95)', 4, 5, 8, 3],
    ]);
    expect((await screen.findByTestId('dashboard-notice')).textContent).toBe('Panel changed; mine is now version 4.');
  });

  it('removes a panel and Cancel puts the layout back', async () => {
    const mine = { ...red, name: 'mine', title: 'Mine', variables: [] };
    mockIPC((command) => {
      if (command === 'dashboard_list') return [];
      if (command === 'dashboard_get') return { dashboard: mine, version: 3, generated: false };
      if (command === 'metric_source_list') return [];
      if (command === 'metric_query_range') return { result_type: 'matrix', series: [] };
      return null;
    });
    router.go('metrics', 'mine');
    render(DashboardsView);
    await screen.findAllByTestId('dashboard-panel');
    await fireEvent.click(screen.getByTestId('dashboard-arrange'));
    await fireEvent.click(screen.getAllByTestId('panel-remove')[0]);
    const left = screen.getAllByTestId('arranged-panel');
    expect(left).toHaveLength(1);
    expect(left[0].getAttribute('aria-label')).toBe('Slowest: columns 5 to 12, rows 1 to 3');
    await fireEvent.click(screen.getByTestId('arrange-cancel'));
    expect(screen.queryByTestId('arrange-bar')).toBeNull();
    expect(screen.getAllByTestId('dashboard-panel')).toHaveLength(2);
  });
});

describe('arranging panels on the grid', () => {
  const place = (x: number, y: number, w: number, h: number) => ({ x, y, w, h });
  const noOverlap = (panels: { x: number; y: number; w: number; h: number }[]) => {
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        expect(apart, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`).toBe(true);
      }
    }
  };

  it('pushes a panel in the way down and lets the rest rise', () => {
    const panels = [place(0, 0, 6, 3), place(6, 0, 6, 3), place(0, 3, 12, 5)];
    // The first panel dropped onto the wide one below: that one goes under it.
    const moved = arrange(panels, 0, place(0, 3, 6, 3));
    noOverlap(moved);
    expect(moved[1]).toEqual(place(6, 0, 6, 3));
    // With gravity the dragged panel rises back to row 0 (nothing above it).
    expect(moved[0]).toEqual(place(0, 0, 6, 3));
    expect(moved[2].y).toBe(3);
  });

  it('swaps two rows when one is dragged below the other', () => {
    const panels = [place(0, 0, 12, 3), place(0, 3, 12, 5)];
    const moved = arrange(panels, 0, place(0, 5, 12, 3));
    noOverlap(moved);
    expect(moved[1].y).toBe(0);
    expect(moved[0].y).toBe(5);
  });

  it('keeps a resized panel inside the columns and at least 2 × 2', () => {
    const panels = [place(0, 0, 6, 3), place(6, 0, 6, 3)];
    const wider = arrange(panels, 1, place(6, 0, 10, 1));
    noOverlap(wider);
    expect(wider[1]).toEqual(place(2, 0, 10, 2));
    expect(wider[0].y).toBe(2);
    expect(arrange(panels, 0, place(-3, 0, 1, 3))[0]).toEqual(place(0, 0, 2, 3));
  });
});
