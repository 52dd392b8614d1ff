// Asking before anything runs a command or writes a file on this machine.
// A page awaits `confirmOnMachine(…)`; the one `MachineConfirm` dialog in the
// app frame shows the exact text and resolves the promise with the answer.

import { machineInputs } from './operations';

/** One command or path the user is asked about. */
export interface MachineItem {
  /** What it is, e.g. "Rotation check" or "Deploy command". */
  label: string;
  /** The exact command or path. */
  text: string;
  /** `run`: a shell command; `write`: a file path written (replaced). */
  kind: 'run' | 'write';
}

export interface MachineRequest {
  /** The action, e.g. "Save the rotation check". */
  action: string;
  /** What will run or be written. */
  items: MachineItem[];
}

interface Pending extends MachineRequest {
  resolve: (confirmed: boolean) => void;
}

class MachineConfirmation {
  pending = $state<Pending | null>(null);

  /** Resolves with the user's answer (a request already open is cancelled). */
  ask(request: MachineRequest): Promise<boolean> {
    this.pending?.resolve(false);
    return new Promise((resolve) => {
      this.pending = { ...request, resolve };
    });
  }

  answer(confirmed: boolean) {
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(confirmed);
  }
}

export const machineConfirmation = new MachineConfirmation();

/** Asks before `items` run or are written; an empty list needs no question. */
export function confirmOnMachine(request: MachineRequest): Promise<boolean> {
  const items = request.items.filter((item) => item.text.trim() !== '');
  if (items.length === 0) return Promise.resolve(true);
  return machineConfirmation.ask({ ...request, items });
}

function at(input: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, part) => (value as Record<string, unknown> | null)?.[part], input);
}

/**
 * Asks before a catalogue operation's input that the catalogue marks as a
 * command or file path (`machineInputs`) is sent; fields left empty, or equal
 * to `unchanged` (what is stored already), need no question. `labels` names
 * a field for people ("Verification command" for `verify`).
 */
export function confirmOperation(
  command: string,
  input: unknown,
  action: string,
  unchanged: Record<string, string> = {},
  labels: Record<string, string> = {},
): Promise<boolean> {
  const items = (machineInputs[command] ?? [])
    .map((path) => ({ path, text: at(input, path) }))
    .filter(({ path, text }) => typeof text === 'string' && text.trim() !== '' && text !== unchanged[path])
    .map(({ path, text }) => ({
      label: labels[path] ?? path.split('.').pop()!.replace(/_/g, ' '),
      text: text as string,
      kind: 'run' as const,
    }));
  return confirmOnMachine({ action, items });
}

/** The files a deploy hook writes and the command it runs. */
export function deployItems(deploy: {
  cert_path: string | null;
  chain_path: string | null;
  fullchain_path: string | null;
  key_path: string | null;
  command: string | null;
}): MachineItem[] {
  const item = (label: string, text: string | null, kind: 'run' | 'write'): MachineItem[] =>
    text && text.trim() !== '' ? [{ label, text, kind }] : [];
  return [
    ...item('Certificate file', deploy.cert_path, 'write'),
    ...item('Chain file', deploy.chain_path, 'write'),
    ...item('Full chain file', deploy.fullchain_path, 'write'),
    ...item('Private key file', deploy.key_path, 'write'),
    ...item('Deploy command', deploy.command, 'run'),
  ];
}
