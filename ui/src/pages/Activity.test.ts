import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import Activity from './Activity.svelte';
import type { AuditEntry } from '../lib/api';

afterEach(() => {
  cleanup();
  clearMocks();
});

function entry(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq,
    at_unix_ms: Date.now() - 60_000,
    actor: 'cli:alice',
    action: 'secret.reveal',
    target: `prod/key-${seq}`,
    outcome: 'ok',
    details: {},
    correlation_id: 'abc123',
    ...overrides,
  };
}

describe('Activity page', () => {
  it('lists entries newest first with their outcome as text', async () => {
    mockIPC((command) => {
      if (command === 'audit_log') return [entry(2, { outcome: 'denied' }), entry(1)];
      throw new Error(command);
    }, { shouldMockEvents: true });
    render(Activity);
    const rows = await screen.findAllByTestId('activity-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('prod/key-2');
    expect(rows[0].textContent).toContain('denied');
  });

  it('shows what the page is for when there is no activity', async () => {
    mockIPC(() => [], { shouldMockEvents: true });
    render(Activity);
    const empty = await screen.findByTestId('activity-empty');
    expect(empty.textContent).toContain('No activity yet');
  });

  it('reports where tampering was found', async () => {
    mockIPC((command) => {
      if (command === 'audit_log') return [entry(1)];
      if (command === 'audit_verify') return { ok: false, entries: 3, first_bad: 4, problem: 'entry 4 was edited or forged' };
      throw new Error(command);
    }, { shouldMockEvents: true });
    render(Activity);
    await fireEvent.click(await screen.findByTestId('verify-chain'));
    const result = await screen.findByTestId('verify-result');
    expect(result.textContent).toContain('Tampering found at entry 4');
    expect(result.textContent).toContain('edited or forged');
  });

  it('adds new entries as they are recorded, without a refresh', async () => {
    mockIPC(
      (command) => {
        if (command === 'audit_log') return [entry(1)];
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Activity);
    await screen.findAllByTestId('activity-row');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await emit('deck-event', { kind: 'audit_recorded', entry: entry(2, { target: 'prod/live' }) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rows = screen.getAllByTestId('activity-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('prod/live');
  });
});
