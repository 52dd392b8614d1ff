import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import Overview from './Overview.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('Overview page', () => {
  it('shows the store and the data dir from the backend', async () => {
    mockIPC(() => ({
      data_dir: '/home/ops/.local/share/opsdeck',
      store: 'postgres',
      store_location: 'postgres://ops:***@db/deck',
      schema_version: 3,
      store_created_at_unix_ms: Date.now() - 5 * 60_000,
      opsdeck_version: '0.1.0',
    }));
    render(Overview);
    expect(await screen.findByText('PostgreSQL')).toBeTruthy();
    expect(screen.getByTestId('data-dir').textContent).toBe('/home/ops/.local/share/opsdeck');
    expect(screen.getByText('Version 3')).toBeTruthy();
    expect(screen.getByText('5 minutes ago')).toBeTruthy();
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
});
