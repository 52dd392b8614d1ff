import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Overview from './Overview.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

// One remembered folder with two open findings, one of them new.
const SCAN_TARGETS = [
  { path: '/src/shop', history: false, vault_values: true, allow_paths: [], every_hours: null, added_by: 'me', last_scan_at_unix_ms: 1, last_scan: null, open: 2, new: 1 },
];

describe('Overview page', () => {
  it('shows the store and the data dir from the backend', async () => {
    mockIPC((command) => {
      if (command === 'scan_targets') return SCAN_TARGETS;
      if (command === 'alert_list') return [];
      if (command === 'cert_summary') return { total: 0, expiring_soon: 0, expired: 0, failed: 0 };
      if (command === 'config_summary') return { projects: 0, environments: 0, invalid: [], pending_approvals: 0, link_problems: [] };
      if (command === 'telemetry_summary') return { grpc: null, http: null, traces_last_hour: 0, error_traces_last_hour: 0 };
      return {
        data_dir: '/home/ops/.local/share/opsdeck',
        store: 'postgres',
        store_location: 'postgres://ops:***@db/deck',
        schema_version: 3,
        store_created_at_unix_ms: Date.now() - 5 * 60_000,
        opsdeck_version: '0.1.0',
      };
    });
    render(Overview);
    expect(await screen.findByText('PostgreSQL')).toBeTruthy();
    expect(screen.getByTestId('data-dir').textContent).toBe('/home/ops/.local/share/opsdeck');
    expect(screen.getByText('Version 3')).toBeTruthy();
    expect(screen.getByText('5 minutes ago')).toBeTruthy();
    const scanning = await screen.findByTestId('scanning-summary');
    expect(scanning.textContent).toContain('2 open findings in 1 folder');
    expect(screen.getByTestId('scanning-card').textContent).toContain('1 new');
  });

  it('shows the error where the data would be, with a way to retry', async () => {
    mockIPC(() => {
      throw { code: 'data_dir_not_writable', message: 'data dir /x is not writable' };
    });
    render(Overview);
    const panel = await screen.findByTestId('error-panel');
    expect(panel.textContent).toContain('The data directory cannot be used');
    expect(panel.textContent).toContain('data dir /x is not writable');
    expect(screen.getByText('Try again')).toBeTruthy();
  });
  it('lists invalid configs and waiting promotions on the Configs card', async () => {
    mockIPC((command) => {
      if (command === 'scan_targets') return SCAN_TARGETS;
      if (command === 'alert_list') return [];
      if (command === 'config_summary') {
        return {
          projects: 2,
          environments: 5,
          invalid: ['shop/prod: 1 schema problem'],
          pending_approvals: 1,
          link_problems: ['shop/dev committed: does not parse'],
        };
      }
      if (command === 'cert_summary') return { total: 0, expiring_soon: 0, expired: 0, failed: 0 };
      if (command === 'telemetry_summary') return { grpc: null, http: null, traces_last_hour: 0, error_traces_last_hour: 0 };
      return {
        data_dir: '/d', store: 'sqlite', store_location: '/d/opsdeck.db', schema_version: 3,
        store_created_at_unix_ms: Date.now(), opsdeck_version: '0.1.0',
      };
    });
    render(Overview);
    const card = await screen.findByTestId('configs-card');
    expect((await screen.findByTestId('configs-summary')).textContent).toContain('2 projects, 5 environments, 1 promotion waiting');
    expect(card.textContent).toContain('Action needed');
    expect(card.textContent).toContain('shop/prod: 1 schema problem');
    expect(card.textContent).toContain('shop/dev committed: does not parse');
  });

  it('shows where telemetry is received and the last hour\'s error share', async () => {
    mockIPC((command) => {
      if (command === 'scan_targets') return SCAN_TARGETS;
      if (command === 'alert_list') return [];
      if (command === 'telemetry_summary') {
        return { grpc: '127.0.0.1:4317', http: '127.0.0.1:4318', traces_last_hour: 200, error_traces_last_hour: 24 };
      }
      if (command === 'cert_summary') return { total: 0, expiring_soon: 0, expired: 0, failed: 0 };
      if (command === 'config_summary') return { projects: 0, environments: 0, invalid: [], pending_approvals: 0, link_problems: [] };
      return {
        data_dir: '/d', store: 'sqlite', store_location: '/d/opsdeck.db', schema_version: 3,
        store_created_at_unix_ms: Date.now(), opsdeck_version: '0.1.0',
      };
    });
    render(Overview);
    const card = await screen.findByTestId('telemetry-card');
    expect((await screen.findByTestId('telemetry-summary')).textContent).toContain('200 traces in the last hour, 24 with errors');
    expect(card.textContent).toContain('12.0% errors');
    expect(card.textContent).toContain('127.0.0.1:4317');
  });

  it('shows firing alerts by severity on the Alerts card', async () => {
    const alert = (rule: string, severity: string, state: string, summary: string) => ({
      fingerprint: rule, group: 'shop', rule, severity, state, value: 12,
      labels: { alertname: rule, severity, service: 'shop' }, annotations: { summary },
      active_since_unix_ms: Date.now() - 60_000, fired_at_unix_ms: Date.now(), resolved_at_unix_ms: null,
      evaluated_at_unix_ms: Date.now(), notified_at_unix_ms: null, notified_state: null,
      acknowledged_by: null, acknowledged_at_unix_ms: null, silenced_by: null, inhibited_by: null,
    });
    mockIPC((command) => {
      if (command === 'scan_targets') return SCAN_TARGETS;
      if (command === 'alert_list') {
        return [
          alert('ShopDown', 'P1', 'firing', 'shop answers nothing'),
          alert('SlowCheckout', 'P3', 'firing', 'checkout p99 is 2.1s'),
          alert('DiskFilling', 'P2', 'pending', 'disk 91% full'),
        ];
      }
      if (command === 'cert_summary') return { total: 0, expiring_soon: 0, expired: 0, failed: 0 };
      if (command === 'config_summary') return { projects: 0, environments: 0, invalid: [], pending_approvals: 0, link_problems: [] };
      if (command === 'telemetry_summary') return { grpc: null, http: null, traces_last_hour: 0, error_traces_last_hour: 0 };
      return {
        data_dir: '/d', store: 'sqlite', store_location: '/d/opsdeck.db', schema_version: 3,
        store_created_at_unix_ms: Date.now(), opsdeck_version: '0.1.0',
      };
    });
    render(Overview);
    const card = await screen.findByTestId('alerts-card');
    await screen.findAllByTestId('alerts-firing');
    expect(card.textContent).toContain('2 firing');
    expect(screen.getByTestId('alerts-counts').textContent?.replace(/\s+/g, '')).toBe('P11P20P31P40');
    const firing = screen.getAllByTestId('alerts-firing').map((line) => line.textContent);
    expect(firing[0]).toContain('shop answers nothing');
    expect(firing.join(' ')).not.toContain('disk 91% full');
  });
});
