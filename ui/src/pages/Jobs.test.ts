import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Jobs from './Jobs.svelte';
import type { JobInfo, JobRun } from '../lib/api';

afterEach(() => {
  cleanup();
  clearMocks();
});

const run: JobRun = {
  id: 7,
  job_name: 'backup',
  due_at_unix_ms: Date.now() - 60_000,
  attempt: 2,
  owner: 'host:42:ab',
  started_at_unix_ms: Date.now() - 60_000,
  finished_at_unix_ms: Date.now() - 58_800,
  outcome: 'failed',
  message: 'exit code 3: disk full (retry in 10s)',
};

function job(overrides: Partial<JobInfo> = {}): JobInfo {
  return {
    name: 'backup',
    kind: 'command',
    schedule: 'every 1d',
    every_ms: 86_400_000,
    completed_at_unix_ms: null,
    payload: { command: 'backup.sh' },
    paused: false,
    next_run_at_unix_ms: Date.now() + 3600_000,
    attempt: 1,
    running_on: null,
    last_run: run,
    ...overrides,
  };
}

describe('Jobs page', () => {
  it('shows each job with its schedule, retry state and run history', async () => {
    mockIPC(
      (command) => {
        if (command === 'job_list') return [job()];
        if (command === 'job_runs') return [run];
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Jobs);
    const row = await screen.findByTestId('job-row');
    expect(row.textContent).toContain('every 1d');
    expect(row.textContent).toContain('Retrying (1 failed)');
    const history = await screen.findByTestId('job-run');
    expect(history.textContent).toContain('disk full');
    expect(history.textContent).toContain('1.2 s');
  });

  it('pauses the selected job through the backend', async () => {
    const calls: unknown[] = [];
    let paused = false;
    mockIPC(
      (command, args) => {
        if (command === 'job_list') return [job({ paused })];
        if (command === 'job_runs') return [];
        if (command === 'job_set_paused') {
          const { input } = args as { input: { name: string; paused: boolean } };
          calls.push(input);
          paused = input.paused;
          return input;
        }
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Jobs);
    await fireEvent.click(await screen.findByTestId('job-toggle-pause'));
    expect(calls).toEqual([{ name: 'backup', paused: true }]);
    expect(await screen.findByText('Paused')).toBeTruthy();
    expect(screen.getByTestId('job-toggle-pause').textContent).toContain('Resume');
  });
});
