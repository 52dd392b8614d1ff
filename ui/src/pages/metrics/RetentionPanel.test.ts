import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import RetentionPanel from './RetentionPanel.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('the series store retention', () => {
  it('shows what is held, applies new settings and shows a refusal where it happened', async () => {
    const sent: unknown[] = [];
    mockIPC((command, payload) => {
      const input = (payload as { input?: Record<string, number> })?.input ?? {};
      if (command === 'metric_retention') {
        return { retention: { full_resolution_days: 7, keep_days: 90, max_bytes: 1024 * 1024 * 1024 }, stored_bytes: 5 * 1024 * 1024, last_run: null };
      }
      if (command === 'metric_retention_set') {
        sent.push(input);
        if (input.full_resolution_days > input.keep_days) {
          throw { code: 'invalid_input', message: `full_resolution_days is ${input.full_resolution_days}: give between 1 and keep_days (${input.keep_days})` };
        }
        return { retention: input, stored_bytes: 3 * 1024 * 1024, last_run: 'rolled 4 series up to 5-minute samples (1000 samples became 40)' };
      }
      return null;
    });
    render(RetentionPanel);
    const status = await screen.findByTestId('retention-status');
    expect(status.textContent).toContain('5.0 MB');
    expect(status.textContent).toContain('no pass yet');
    expect((screen.getByTestId('retention-keep') as HTMLInputElement).value).toBe('90');

    await fireEvent.input(screen.getByTestId('retention-keep'), { target: { value: '30' } });
    await fireEvent.input(screen.getByTestId('retention-max'), { target: { value: '512' } });
    await fireEvent.submit(screen.getByTestId('retention-form'));
    await waitFor(() => expect(screen.getByTestId('retention-status').textContent).toContain('rolled 4 series'));
    expect(sent[0]).toEqual({ full_resolution_days: 7, keep_days: 30, max_bytes: 512 * 1024 * 1024 });
    expect(screen.getByTestId('retention-status').textContent).toContain('3.0 MB');

    await fireEvent.input(screen.getByTestId('retention-full'), { target: { value: '40' } });
    await fireEvent.submit(screen.getByTestId('retention-form'));
    expect(await screen.findByText(/full_resolution_days is 40/)).toBeTruthy();
  });
});
