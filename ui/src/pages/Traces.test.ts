import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Traces from './Traces.svelte';
import Logs from './Logs.svelte';
import type { LogRecord, Span, TraceDetail, TraceSummary } from '../lib/api';

// jsdom has no layout: the waterfall measures its height through ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(() => {
  cleanup();
  clearMocks();
});

const now = Date.now() * 1e6;
const traceId = '5b8efff798038103d269b633813fc60c';

function span(id: string, parent: string, service: string, name: string, start: number, end: number, status = 0): Span {
  return {
    trace_id: traceId,
    span_id: id,
    parent_span_id: parent,
    service,
    name,
    kind: 2,
    start_unix_nano: now + start * 1e6,
    end_unix_nano: now + end * 1e6,
    status_code: status,
    status: status === 2 ? 'error' : 'unset',
    status_message: status === 2 ? 'card declined' : '',
    trace_state: '',
    flags: 1,
    attributes: { 'payment.provider': 'acme-pay' },
    resource: { 'service.name': service },
    scope: { name: 'checkout', version: '1.0' },
    events: [],
    links: [],
  };
}

const summary: TraceSummary = {
  trace_id: traceId,
  root_service: 'gateway',
  root_operation: 'POST /checkout',
  start_unix_nano: now,
  duration_nano: 120e6,
  duration_ms: 120,
  span_count: 2,
  error_count: 1,
  error: true,
};

const log: LogRecord = {
  time_unix_nano: now + 50e6,
  observed_unix_nano: now + 50e6,
  severity_number: 17,
  severity_text: 'ERROR',
  body: 'payment failed: card declined',
  service: 'payments',
  trace_id: traceId,
  span_id: '0000000000000002',
  attributes: {},
  resource: {},
  scope: {},
};

const detail: TraceDetail = {
  trace_id: traceId,
  spans: [span('0000000000000001', '', 'gateway', 'POST /checkout', 0, 120), span('0000000000000002', '0000000000000001', 'payments', 'charge card', 10, 110, 2)],
  logs: [log],
  critical_path_segments: [
    { span_id: '0000000000000001', service: 'gateway', name: 'POST /checkout', start_unix_nano: now, end_unix_nano: now + 10e6 },
    { span_id: '0000000000000002', service: 'payments', name: 'charge card', start_unix_nano: now + 10e6, end_unix_nano: now + 110e6 },
    { span_id: '0000000000000001', service: 'gateway', name: 'POST /checkout', start_unix_nano: now + 110e6, end_unix_nano: now + 120e6 },
  ],
  critical_path: ['0000000000000001', '0000000000000002'],
  self_time_nano: { '0000000000000001': 20e6, '0000000000000002': 100e6 },
};

function backend(traces: TraceSummary[], calls: string[] = []) {
  mockIPC(
    (command, args) => {
      calls.push(`${command} ${JSON.stringify(args)}`);
      if (command === 'trace_search') return traces;
      if (command === 'telemetry_services') return [{ service: 'gateway', operations: ['POST /checkout'] }];
      if (command === 'telemetry_receivers') return { grpc: '127.0.0.1:4317', http: '127.0.0.1:4318' };
      if (command === 'trace_show') return detail;
      if (command === 'log_search') return [log];
      if (command === 'telemetry_demo') return { endpoint: 'http://127.0.0.1:4318', traces: 200, spans: 900, logs: 300 };
      throw new Error(`unexpected ${command}`);
    },
    { shouldMockEvents: true },
  );
}

describe('Traces page', () => {
  it('says where to send traces when there are none, and sends demo traffic', async () => {
    const calls: string[] = [];
    backend([], calls);
    render(Traces);
    const empty = await screen.findByTestId('traces-empty');
    expect(empty.textContent).toContain('127.0.0.1:4317');
    expect(empty.textContent).toContain('opsdeck demo');
    await fireEvent.click(screen.getByTestId('traces-empty-demo'));
    expect((await screen.findByTestId('demo-sent')).textContent).toContain('Sent 200 traces');
    expect(calls.some((call) => call.startsWith('telemetry_demo'))).toBe(true);
  });

  it('lists traces with a histogram and opens one with its critical path and span detail', async () => {
    backend([summary]);
    render(Traces);
    const row = await screen.findByTestId('trace-row');
    expect(row.textContent).toContain('POST /checkout');
    expect(row.textContent).toContain('120 ms');
    expect(row.textContent).toContain('1 error');
    expect(screen.getAllByTestId('histogram-bar').length).toBeGreaterThan(0);
    await fireEvent.click(row);
    expect((await screen.findByTestId('trace-title')).textContent).toContain('gateway · POST /checkout');
    expect(screen.getByTestId('critical-path-count').textContent).toContain('2 spans');
    const rows = await screen.findAllByTestId('span-row');
    expect(rows.map((element) => element.dataset.critical)).toEqual(['true', 'true']);
    await fireEvent.click(rows[1]);
    expect((await screen.findByTestId('span-detail-name')).textContent).toBe('charge card');
    expect(screen.getByTestId('span-self-time').textContent).toBe('100 ms');
    expect(screen.getByTestId('span-on-critical-path').textContent).toContain('100 ms');
    expect(screen.getByTestId('span-logs').textContent).toContain('card declined');
    expect(screen.getByTestId('span-attributes').textContent).toContain('acme-pay');
  });

  it('sends the form as a search: service, durations, attribute, errors', async () => {
    const calls: string[] = [];
    backend([summary], calls);
    render(Traces);
    await screen.findByTestId('trace-row');
    await fireEvent.input(screen.getByTestId('search-min'), { target: { value: '100' } });
    await fireEvent.input(screen.getByTestId('search-attribute'), { target: { value: 'http.route' } });
    await fireEvent.input(screen.getByTestId('search-attribute-value'), { target: { value: '/checkout' } });
    await fireEvent.click(screen.getByTestId('search-errors'));
    await fireEvent.click(screen.getByTestId('search-run'));
    const last = calls.filter((call) => call.startsWith('trace_search')).pop()!;
    expect(last).toContain('"min_duration_ms":100');
    expect(last).toContain('"attribute_key":"http.route","attribute_value":"/checkout"');
    expect(last).toContain('"errors_only":true');
  });
});

describe('Logs page', () => {
  it('shows records with severity and a link to their trace', async () => {
    backend([summary]);
    render(Logs);
    const row = await screen.findByTestId('log-row');
    expect(row.textContent).toContain('ERROR');
    expect(row.textContent).toContain('payment failed: card declined');
    expect(screen.getByTestId('log-trace-link').textContent).toContain('5b8efff7');
    expect(screen.getByTestId('logs-live').getAttribute('aria-pressed')).toBe('true');
  });
});
