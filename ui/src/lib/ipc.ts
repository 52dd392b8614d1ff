// The one place the UI calls the Rust side: `call` runs a command and turns
// every failure into an ApiError with the backend's stable `code`. The typed
// functions are in api.ts (hand-written commands) and operations.ts
// (generated from the catalogue of operations).

import { invoke } from '@tauri-apps/api/core';
import type { CommandError } from './bindings/CommandError';

/** An error from a command, with the backend's stable `code`. */
export class ApiError extends Error implements CommandError {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CommandError).code === 'string' &&
    typeof (value as CommandError).message === 'string'
  );
}

/** Calls a command; failures become an ApiError whatever their shape. */
export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    if (isCommandError(error)) throw new ApiError(error.code, error.message);
    // Tauri itself rejects with a string (an unknown command, a denied permission).
    throw new ApiError('ipc', typeof error === 'string' ? error : String(error));
  }
}

