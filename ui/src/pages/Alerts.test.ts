import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Alerts from './Alerts.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

const alert = (rule: string, severity: string, state: string, extra: Record<string, unknown> = {}) => ({
  fingerprint: `fp-${rule}`, group: 'shop', rule, severity, state, value: 12,
  labels: { alertname: rule, severity, service: 'shop', instance: 'web-1' },
  annotations: { summary: `${rule} summary` },
  active_since_unix_ms: Date.now() - 120_000, fired_at_unix_ms: Date.now() - 60_000, resolved_at_unix_ms: null,
  evaluated_at_unix_ms: Date.now(), notified_at_unix_ms: null, notified_state: null,
  acknowledged_by: null, acknowledged_at_unix_ms: null, silenced_by: null, inhibited_by: null,
  ...extra,
});

describe('Alerts page', () => {
  it('says what to do when there are no rules and nothing fires', async () => {
    mockIPC((command) => {
      if (command === 'alert_list' || command === 'alert_silence_list' || command === 'alert_rule_list') return [];
      return null;
    });
    render(Alerts);
    expect((await screen.findByTestId('alerts-empty')).textContent).toContain('Nothing is firing');
    expect((await screen.findByTestId('rules-empty')).textContent).toContain('opsdeck alerts rules add');
    expect(screen.getByTestId('silences-empty')).toBeTruthy();
  });

  it('lists alerts with what holds them back, and acknowledges and silences from the row', async () => {
    const calls: { command: string; input: unknown }[] = [];
    mockIPC((command, payload) => {
      const input = (payload as { input?: unknown })?.input;
      calls.push({ command, input });
      if (command === 'alert_list') {
        return [
          alert('ShopDown', 'P1', 'firing'),
          alert('SlowCheckout', 'P3', 'firing', { inhibited_by: 'ShopDown (P1) on shop' }),
          alert('DiskFilling', 'P2', 'pending'),
        ];
      }
      if (command === 'alert_silence_list' || command === 'alert_rule_list') return [];
      if (command === 'alert_acknowledge') return alert('ShopDown', 'P1', 'firing', { acknowledged_by: 'cli:ops' });
      if (command === 'alert_silence') return { id: 'sil_1' };
      return null;
    });
    render(Alerts);
    const rows = await screen.findAllByTestId('alert-row');
    expect(rows.map((row) => row.dataset.rule)).toEqual(['ShopDown', 'SlowCheckout', 'DiskFilling']);
    expect(screen.getByTestId('alerts-summary').textContent).toMatch(/P1\s*1\s*firing/);
    expect(rows[1].textContent).toContain('Held back by ShopDown (P1) on shop');
    expect(rows[0].textContent).toContain('instance=web-1');

    await fireEvent.click(screen.getAllByTestId('alert-ack')[0]);
    await waitFor(() => expect(calls.some((call) => call.command === 'alert_acknowledge')).toBe(true));
    expect(calls.find((call) => call.command === 'alert_acknowledge')?.input).toEqual({ fingerprint: 'fp-ShopDown' });

    await fireEvent.click(screen.getAllByTestId('alert-silence')[0]);
    const reason = await screen.findByTestId('silence-reason');
    await fireEvent.input(reason, { target: { value: 'deploying the fix' } });
    await fireEvent.click(screen.getByTestId('silence-save'));
    await waitFor(() => expect(calls.some((call) => call.command === 'alert_silence')).toBe(true));
    expect(calls.find((call) => call.command === 'alert_silence')?.input).toEqual({
      selector: '{alertname="ShopDown", service="shop"}',
      minutes: 60,
      reason: 'deploying the fix',
    });
  });

  it('shows a rule that fails to evaluate with why', async () => {
    mockIPC((command) => {
      if (command === 'alert_list' || command === 'alert_silence_list') return [];
      if (command === 'alert_rule_list') {
        return [{
          group: { name: 'shop', interval_seconds: 15, repeat_interval_seconds: 14400 },
          rules: [{
            rule: { group: 'shop', name: 'Broken', expr: 'vector(1)', for_seconds: 0, severity: 'P4', labels: {}, annotations: {} },
            health: 'error', last_error: 'the expression gives a single number, not series',
            evaluated_at_unix_ms: Date.now(), updated_by: 'cli:ops', updated_at_unix_ms: Date.now(),
          }],
        }];
      }
      return null;
    });
    render(Alerts);
    const row = await screen.findByTestId('rule-row');
    expect(row.textContent).toContain('failing');
    expect(row.textContent).toContain('a single number, not series');
  });
});
