import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { api, ApiError, errorTitle } from './api';

afterEach(() => clearMocks());

describe('api', () => {
  it('returns the status the backend sends', async () => {
    mockIPC((command) => {
      if (command === 'status') {
        return { data_dir: '/d', store: 'sqlite', store_location: '/d/opsdeck.db', schema_version: 1, store_created_at_unix_ms: 0, opsdeck_version: '0.1.0' };
      }
      throw new Error(`unexpected command ${command}`);
    });
    const status = await api.status();
    expect(status.store).toBe('sqlite');
    expect(status.data_dir).toBe('/d');
  });

  it('turns a command error into an ApiError that keeps its code', async () => {
    mockIPC(() => {
      throw { code: 'store_unreachable', message: 'cannot connect to the PostgreSQL store' };
    });
    const error = await api.status().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('store_unreachable');
    expect(errorTitle(error)).toBe('The PostgreSQL store cannot be reached');
  });

  it('titles a busy store by its code and keeps the message that says who waited how long', async () => {
    const message =
      'the SQLite store /d/opsdeck.db stayed busy for 10.0 s: another OpsDeck process held its write lock all that time';
    mockIPC(() => {
      throw { code: 'store_busy', message };
    });
    const error = await api.status().catch((caught: unknown) => caught);
    expect(errorTitle(error)).toBe('The store is busy with another process');
    expect((error as ApiError).message).toBe(message);
  });

  it('turns a plain IPC rejection into an ApiError with the ipc code', async () => {
    mockIPC(() => {
      throw 'Command deck_status not allowed by ACL';
    });
    const error = await api.status().catch((caught: unknown) => caught);
    expect((error as ApiError).code).toBe('ipc');
    expect((error as ApiError).message).toContain('not allowed');
  });
});
