import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Connections from './Connections.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('Connections page', () => {
  it('says in words when an endpoint breaker is open, and when it will probe', async () => {
    mockIPC(
      (command) => {
        if (command === 'connection_list') {
          return [
            {
              endpoint: 'https://hooks.example.com:443',
              state: 'open',
              recent_failures: 5,
              calls: 9,
              retry_at_unix_ms: Date.now() + 20_000,
              recent: [{ at_unix_ms: Date.now(), status: 503, error: 'HTTP 503', duration_ms: 12, ok: false }],
            },
          ];
        }
        if (command === 'notify_targets') return [];
        if (command === 'notify_deliveries') return [];
        throw new Error(command);
      },
      { shouldMockEvents: true },
    );
    render(Connections);
    const row = await screen.findByTestId('endpoint-row');
    expect(row.textContent).toContain('Open — calls paused');
    expect(row.textContent).toContain('probe in 20 seconds');
    expect(screen.getByTestId('targets-empty').textContent).toContain('No webhook targets yet');
  });
});
