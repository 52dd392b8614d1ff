import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import Scanning from './Scanning.svelte';
import type { ScanTarget } from '../lib/bindings/ScanTarget';
import type { StoredFinding } from '../lib/bindings/StoredFinding';
import type { ScanFinding } from '../lib/bindings/ScanFinding';
import { groupFindings, progressEstimate, throughput } from './scanning/group';

afterEach(() => {
  cleanup();
  clearMocks();
});

function finding(overrides: Partial<ScanFinding>): ScanFinding {
  return {
    path: '/src/shop/app.env',
    relative_path: 'app.env',
    line: 1,
    column: 5,
    rule: 'github-pat',
    description: 'A GitHub personal access token',
    match: 'ghp_…(40 chars)',
    context: 'TOKEN=ghp_…(40 chars)',
    secret_hash: 'aa',
    fingerprint: 'f1',
    commit: null,
    vault_secret: null,
    version: null,
    current: null,
    encoding: null,
    ...overrides,
  };
}

function stored(state: StoredFinding['state'], overrides: Partial<ScanFinding>): StoredFinding {
  return { target: '/src/shop', state, first_seen_unix_ms: 1, last_seen_unix_ms: 2, state_by: 'scan', finding: finding(overrides) };
}

const TARGET: ScanTarget = {
  path: '/src/shop',
  history: false,
  vault_values: true,
  allow_paths: [],
  every_hours: null,
  added_by: 'cli:me',
  last_scan_at_unix_ms: Date.now(),
  last_scan: { files: 3, bytes: 2_000_000, commits: 0, elapsed_ms: 100, findings: 2, new: 2, fixed: 0, reopened: 0, skipped: 0, error: null },
  open: 2,
  new: 2,
};

describe('Scanning', () => {
  it('says what to do when nothing is scanned yet', async () => {
    mockIPC((command) => (command === 'scan_targets' ? [] : null));
    render(Scanning);
    expect((await screen.findByTestId('scan-empty')).textContent).toContain('Add a folder');
  });

  it('shows findings grouped by rule, vault values first, and rotates a current vault value', async () => {
    const calls: { command: string; input: unknown }[] = [];
    const findings = [
      stored('new', {}),
      stored('new', { rule: 'vault-value', fingerprint: 'f2', line: 3, vault_secret: 'prod/db-password', version: 4, current: true, match: '…(20 chars)' }),
    ];
    mockIPC((command, args) => {
      calls.push({ command, input: (args as { input?: unknown }).input });
      if (command === 'scan_targets') return [TARGET];
      if (command === 'scan_findings') return findings;
      if (command === 'secret_rotate') return { vault: 'prod', name: 'db-password', version: 5, rotated: true, reason: null, public_key: null };
      return null;
    });
    render(Scanning);
    const rows = await screen.findAllByTestId('scan-finding');
    expect(rows.map((row) => row.dataset.rule)).toEqual(['vault-value', 'github-pat']);
    expect((screen.getByTestId('scan-vault-secret')).textContent).toContain('prod/db-password · version 4 (current)');
    await fireEvent.click(screen.getByTestId('scan-rotate'));
    await waitFor(() => expect((screen.getByTestId('scan-notice')).textContent).toContain('rotated to version 5'));
    expect(calls.find((call) => call.command === 'secret_rotate')?.input).toEqual({ vault: 'prod', name: 'db-password', verify: null });
  });

  it('marks a finding a false positive and it leaves the open list', async () => {
    let current = [stored('new', {})];
    mockIPC((command, args) => {
      if (command === 'scan_targets') return [TARGET];
      if (command === 'scan_findings') return current;
      if (command === 'scan_finding_mark') {
        const input = (args as { input: { state: StoredFinding['state'] } }).input;
        current = [{ ...current[0], state: input.state }];
        return current[0];
      }
      return null;
    });
    render(Scanning);
    await fireEvent.click(await screen.findByTestId('scan-mark-false'));
    expect((await screen.findByTestId('scan-no-findings')).textContent).toContain('No open findings');
  });
});

describe('Open in the editor', () => {
  it('asks the app to open the stored finding, and says what ran or why not', async () => {
    const calls: { command: string; args: unknown }[] = [];
    mockIPC((command, args) => {
      calls.push({ command, args });
      if (command === 'scan_targets') return [TARGET];
      if (command === 'scan_findings') return [stored('new', {})];
      if (command === 'open_finding') return 'code -g /src/shop/app.env:1:5';
      return null;
    });
    render(Scanning);
    await fireEvent.click(await screen.findByTestId('scan-open'));
    await waitFor(() => expect(screen.getByTestId('scan-notice').textContent).toContain('Opened with code -g /src/shop/app.env:1:5'));
    expect(calls.find((call) => call.command === 'open_finding')?.args).toMatchObject({ target: '/src/shop', fingerprint: 'f1' });
  });
});

describe('Scanning progress', () => {
  it('shows what a running scan has done, as the deck announces it', async () => {
    let finish: (value: unknown) => void = () => {};
    mockIPC(
      (command) => {
        if (command === 'scan_targets') return [TARGET];
        if (command === 'scan_findings') return [];
        if (command === 'scan_target_run') return new Promise((resolve) => (finish = resolve));
        return null;
      },
      { shouldMockEvents: true },
    );
    render(Scanning);
    await fireEvent.click(await screen.findByTestId('scan-run'));
    // Judged by the last scan's 2 MB: a quarter of it read is about 25%.
    await emit('deck-event', { kind: 'scan_progress', target: '/src/shop', files: 3, bytes: 500_000, elapsed_ms: 50 });
    await waitFor(() => expect(screen.getByTestId('scan-live').textContent).toContain('3 files · 500 KB in 0.05 s · about 25%'));
    expect(screen.getByTestId('scan-estimate').getAttribute('aria-valuenow')).toBe('25');
    await emit('deck-event', { kind: 'scan_progress', target: '/src/shop', files: 1200, bytes: 48_000_000, elapsed_ms: 400 });
    await waitFor(() => expect(screen.getByTestId('scan-live').textContent).toContain('1200 files · 48.0 MB in 0.40 s (120 MB/s)'));
    // The folder grew since: never 100% while it runs.
    expect(screen.getByTestId('scan-live').textContent).toContain('about 99%');
    // Another target's progress is not this one's.
    await emit('deck-event', { kind: 'scan_progress', target: '/elsewhere', files: 1, bytes: 1, elapsed_ms: 1 });
    expect(screen.getByTestId('scan-live').textContent).toContain('1200 files');
    finish({ summary: { ...TARGET.last_scan, new: 0 }, skipped: [], findings: [] });
    await waitFor(() => expect(screen.queryByTestId('scan-progress')).toBeNull());
  });
});

describe('progressEstimate', () => {
  it('judges by the previous scan, and says nothing without one', () => {
    expect(progressEstimate(0, 2_000)).toBe(0);
    expect(progressEstimate(1_000, 2_000)).toBe(50);
    expect(progressEstimate(5_000, 2_000)).toBe(99);
    expect(progressEstimate(1_000, 0)).toBeNull();
    expect(progressEstimate(1_000, null)).toBeNull();
  });
});

describe('throughput', () => {
  it('gives a rate only for scans large enough to have one', () => {
    expect(throughput(4_200, 150)).toBe('4 KB in 0.15 s');
    expect(throughput(120_000_000, 200)).toBe('120.0 MB in 0.20 s (600 MB/s)');
  });
});

describe('groupFindings', () => {
  it('groups by file in path order with counts', () => {
    const groups = groupFindings(
      [stored('new', { relative_path: 'b.py', fingerprint: '1' }), stored('new', { relative_path: 'a.py', fingerprint: '2' }), stored('new', { relative_path: 'a.py', line: 9, fingerprint: '3' })],
      'file',
    );
    expect(groups.map((group) => [group.title, group.subtitle])).toEqual([['a.py', '2 findings'], ['b.py', '1 finding']]);
  });
});
