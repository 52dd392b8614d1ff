import { describe, expect, it } from 'vitest';
import { confirmOnMachine, confirmOperation, deployItems, machineConfirmation } from './confirm.svelte';

describe('asking before something runs or is written on this machine', () => {
  it('asks about the fields the catalogue marks, unless empty or unchanged', async () => {
    const input = { vault: 'prod', name: 'db', metadata: { rotate_verify: 'psql -c "select 1"' } };
    const asked = confirmOperation('secret_edit', input, 'Save a rotation check');
    expect(machineConfirmation.pending?.items).toEqual([{ label: 'rotate verify', text: 'psql -c "select 1"', kind: 'run' }]);
    machineConfirmation.answer(false);
    expect(await asked).toBe(false);

    expect(await confirmOperation('secret_edit', { metadata: { rotate_verify: '' } }, 'x')).toBe(true);
    const same = { 'metadata.rotate_verify': 'psql -c "select 1"' };
    expect(await confirmOperation('secret_edit', input, 'x', same)).toBe(true);
    expect(await confirmOperation('secret_list', { vault: 'prod' }, 'x')).toBe(true);
    expect(machineConfirmation.pending).toBeNull();
  });

  it('lists a deploy hook as files written and a command run', async () => {
    const items = deployItems({ cert_path: null, chain_path: '', fullchain_path: '/etc/ssl/a.pem', key_path: '/etc/ssl/a.key', command: 'systemctl reload nginx' });
    expect(items.map((item) => [item.kind, item.text])).toEqual([
      ['write', '/etc/ssl/a.pem'], ['write', '/etc/ssl/a.key'], ['run', 'systemctl reload nginx'],
    ]);
    const asked = confirmOnMachine({ action: 'Deploy', items });
    machineConfirmation.answer(true);
    expect(await asked).toBe(true);
  });

  it('cancels a question left open when another is asked', async () => {
    const first = confirmOnMachine({ action: 'a', items: [{ label: 'x', text: 'true', kind: 'run' }] });
    const second = confirmOnMachine({ action: 'b', items: [{ label: 'y', text: 'false', kind: 'run' }] });
    expect(await first).toBe(false);
    machineConfirmation.answer(true);
    expect(await second).toBe(true);
  });
});
