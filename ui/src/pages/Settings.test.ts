import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Settings from './Settings.svelte';
import { deck } from '../lib/deck.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
  deck.status = null;
});

const status = {
  data_dir: '/home/ops/.local/share/opsdeck',
  store: 'sqlite',
  store_location: '/home/ops/.local/share/opsdeck/opsdeck.db',
  schema_version: 3,
  store_created_at_unix_ms: 0,
  opsdeck_version: '0.1.0',
};

describe('Settings page', () => {
  it('says how to turn the local API on when it is off, and how to make a first token', async () => {
    mockIPC((command) => (command === 'api_token_list' ? [] : { ...status, api: null }));
    render(Settings);
    expect((await screen.findByTestId('settings-api')).textContent).toContain('OPSDECK_API=127.0.0.1:7878');
    expect((await screen.findByTestId('settings-no-tokens')).textContent).toContain('opsdeck api token create');
  });

  it('shows where the API is served and which tokens may use it', async () => {
    const day = 86_400_000;
    mockIPC((command) =>
      command === 'api_token_list'
        ? [
            { name: 'ci', role: 'viewer', vault: 'prod', reveal: false, created_by: 'ana', created_at_unix_ms: 0, expires_at_unix_ms: null, revoked_at_unix_ms: null, last_used_at_unix_ms: Date.now() - 60_000 },
            { name: 'old', role: 'admin', vault: null, reveal: true, created_by: 'ana', created_at_unix_ms: 0, expires_at_unix_ms: Date.now() - day, revoked_at_unix_ms: null, last_used_at_unix_ms: null },
          ]
        : { ...status, api: 'http://127.0.0.1:7878' },
    );
    render(Settings);
    expect((await screen.findByTestId('settings-api')).textContent).toContain('http://127.0.0.1:7878/openapi.json');
    const rows = [...(await screen.findByTestId('settings-tokens')).querySelectorAll('tbody tr')].map((row) => row.textContent);
    expect(rows[0]).toContain('ci');
    expect(rows[0]).toContain('prod');
    expect(rows[0]).toContain('active');
    expect(rows[1]).toContain('admin + reveal');
    expect(rows[1]).toContain('every vault');
    expect(rows[1]).toContain('expired');
  });
});
