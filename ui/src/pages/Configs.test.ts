import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import Configs from './Configs.svelte';
import MachineConfirm from '../lib/components/MachineConfirm.svelte';
import type { ConfigExplained, PromotionPreview, ProjectInfo } from '../lib/api';

// jsdom lays nothing out; CodeMirror measures text ranges, so give it empty ones.
Range.prototype.getClientRects = () => ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as unknown as DOMRectList;
Range.prototype.getBoundingClientRect = () => new DOMRect(0, 0, 0, 0);

afterEach(() => {
  cleanup();
  clearMocks();
});

const project: ProjectInfo = { name: 'shop', env_prefix: 'SHOP', has_schema: true, envs: ['dev', 'staging', 'prod'], approval_envs: ['prod'] };

const explained: ConfigExplained[] = [
  { key: 'db.pool', value: 20, layer: 'local', source: 'local v2', line: 1, overridden: [['committed', 5]] },
  { key: 'server.port', value: 8080, layer: 'defaults', source: 'schema defaults', line: null, overridden: [] },
  { key: 'token', value: 'opsdeck://team/token', layer: 'committed', source: 'committed v1', line: 3, overridden: [] },
];

function backend(extra: (command: string, args: Record<string, unknown>) => unknown = () => undefined) {
  const calls: Array<[string, Record<string, unknown>]> = [];
  mockIPC(
    (command, args) => {
      calls.push([command, args as Record<string, unknown>]);
      const answer = extra(command, args as Record<string, unknown>);
      if (answer !== undefined) return answer;
      switch (command) {
        case 'config_projects':
          return [project];
        case 'config_schema':
          return { project: 'shop', schema: '{"type":"object","properties":{"server":{"type":"object"}}}' };
        case 'config_layers':
          return [{ layer: 'committed', format: 'yaml', content: 'db:\n  pool: 5\n', version: 1 }];
        case 'config_check_draft':
          return { ok: true, syntax: null, violations: [] };
        case 'config_explain':
          return explained;
        case 'config_validate':
          return { ok: true, has_schema: true, violations: [] };
        case 'config_history':
          return [];
        default:
          throw new Error(`unexpected command ${command}`);
      }
    },
    { shouldMockEvents: true },
  );
  return calls;
}

describe('Configs page', () => {
  it('says what to do when there are no projects', async () => {
    backend((command) => (command === 'config_projects' ? [] : undefined));
    render(Configs);
    expect(await screen.findByTestId('configs-empty')).toHaveProperty('textContent', expect.stringContaining('opsdeck config import'));
  });

  it('lists each project with dev, staging and prod and opens the committed file in the editor', async () => {
    const calls = backend();
    render(Configs);
    const envs = await screen.findAllByTestId('config-env');
    expect(envs.map((button) => button.dataset.env)).toEqual(['dev', 'staging', 'prod']);
    expect(await screen.findByTestId('config-title')).toHaveProperty('textContent', expect.stringContaining('shop / dev'));
    await waitFor(() => expect(calls.some(([command]) => command === 'config_layers')).toBe(true));
    const editor = await screen.findByTestId('config-editor');
    await waitFor(() => expect(editor.textContent).toContain('pool: 5'));
    expect(screen.getByTestId('config-promote').textContent).toContain('Promote to staging');
  });

  it('shows the effective config with the layer that set each key and what it overrode', async () => {
    backend();
    render(Configs);
    await fireEvent.click(await screen.findByTestId('config-tab-effective'));
    const rows = await screen.findAllByTestId('config-key');
    expect(rows.map((row) => [row.dataset.key, row.dataset.layer])).toEqual([
      ['db.pool', 'local'],
      ['server.port', 'defaults'],
      ['token', 'committed'],
    ]);
    expect(rows[0].textContent).toContain('v2, line 1');
    expect(rows[0].textContent).toContain('5');
    expect(rows[2].querySelector('[aria-label="secret reference"]')).not.toBeNull();
  });

  it('refuses a promotion the schema would reject and shows why', async () => {
    const preview: PromotionPreview = {
      from: 'dev v3',
      to: 'staging',
      unchanged: false,
      changes: [{ key: 'server.port', kind: 'changed', before: 8080, after: 'eighty' }],
      text: [],
      violations: [{ path: 'server.port', message: '"eighty" is not of type "integer"', source: 'committed (dev v3)', layer: 'committed', line: 2 }],
    };
    const calls = backend((command) => (command === 'config_preview_promotion' ? preview : undefined));
    render(Configs);
    await fireEvent.click(await screen.findByTestId('config-promote'));
    const status = await screen.findByTestId('promote-status');
    await waitFor(() => expect(status.textContent).toContain('Would break the schema'));
    expect(screen.getByTestId('promote-violations').textContent).toContain('server.port');
    expect(screen.getByTestId('config-change').dataset.kind).toBe('changed');
    expect((screen.getByTestId('promote-confirm') as HTMLButtonElement).disabled).toBe(true);
    expect(calls.some(([command]) => command === 'config_promote')).toBe(false);
  });

  it('lints the text as a save would check it and lists the problems with their lines', async () => {
    const calls = backend((command) =>
      command === 'config_check_draft'
        ? {
            ok: false,
            syntax: null,
            violations: [
              { path: 'db.pool', message: '5 is less than the minimum of 10', source: 'committed (committed (draft))', layer: 'committed', line: 2 },
              { path: 'db.host', message: '"db.host" is a required property', source: 'local (local v4)', layer: 'local', line: 1 },
            ],
          }
        : undefined,
    );
    render(Configs);
    const problems = await screen.findAllByTestId('config-problem', {}, { timeout: 3000 });
    expect(problems.map((problem) => problem.textContent)).toEqual([
      'db.pool: 5 is less than the minimum of 10',
      'db.host: "db.host" is a required property',
    ]);
    // The draft's own problem links to its line; the other layer's names its source.
    const list = screen.getByTestId('config-problems');
    expect(list.querySelector('button')?.textContent).toBe('line 2');
    expect(list.textContent).toContain('local (local v4)');
    expect(screen.getByTestId('config-check-status').textContent).toContain('2 schema problems');
    const draft = calls.find(([command]) => command === 'config_check_draft')?.[1]?.input;
    expect(draft).toMatchObject({ project: 'shop', env: 'dev', layer: 'committed', format: 'yaml', content: 'db:\n  pool: 5\n' });
  });
  it('checks the text again when a change elsewhere leaves it as it was', async () => {
    // The CLI's import is announced after the page opened: the layers are
    // reloaded with the same text, and the status must not stay blank.
    const calls = backend();
    render(Configs);
    const status = await screen.findByTestId('config-check-status');
    await waitFor(() => expect(status.textContent).toContain('Meets the schema'), { timeout: 3000 });
    const before = calls.filter(([command]) => command === 'config_check_draft').length;
    await emit('deck-event', {
      kind: 'audit_recorded',
      entry: { seq: 9, at_unix_ms: Date.now(), actor: 'cli:alice', action: 'config.import', target: 'shop/dev', outcome: 'ok', details: {}, correlation_id: 'c' },
    });
    await waitFor(() => expect(calls.filter(([command]) => command === 'config_check_draft').length).toBeGreaterThan(before));
    await waitFor(() => expect(status.textContent).toContain('Meets the schema'));
  });

  it('sets the reload hook of an environment', async () => {
    const calls = backend((command) => {
      if (command === 'config_reload_hook') return { command: 'systemctl reload shop', webhook: null };
      if (command === 'notify_targets') return [{ name: 'ops', url: 'https://hooks.example.test/x' }];
      if (command === 'config_set_reload_hook') return null;
      return undefined;
    });
    render(Configs);
    render(MachineConfirm);
    await fireEvent.click(await screen.findByTestId('config-tab-reload'));
    const input = (await screen.findByTestId('config-reload-command')) as HTMLInputElement;
    await waitFor(() => expect(input.value).toBe('systemctl reload shop'));
    await fireEvent.change(screen.getByTestId('config-reload-webhook'), { target: { value: 'ops' } });
    // The command is shown before it is saved; Cancel sends nothing.
    await fireEvent.click(screen.getByTestId('config-reload-save'));
    expect((await screen.findByTestId('machine-confirm-text')).textContent).toBe('systemctl reload shop');
    await fireEvent.click(screen.getByTestId('machine-cancel'));
    await waitFor(() => expect(screen.queryByTestId('machine-confirm-text')).toBeNull());
    expect(calls.some(([command]) => command === 'config_set_reload_hook')).toBe(false);
    await fireEvent.click(screen.getByTestId('config-reload-save'));
    await fireEvent.click(await screen.findByTestId('machine-confirm'));
    await waitFor(() => expect(calls.some(([command]) => command === 'config_set_reload_hook')).toBe(true));
    const [, args] = calls.find(([command]) => command === 'config_set_reload_hook')!;
    expect(args).toMatchObject({ input: { project: 'shop', env: 'dev', hook: { command: 'systemctl reload shop', webhook: 'ops' } } });
  });
  it('lists promotion requests and approves a pending one', async () => {
    const pending = {
      id: 'pr_1', project: 'shop', from: 'staging v3', to: 'prod', content_hash: 'ab', requested_by: 'cli:ana',
      message: 'ship it', status: 'pending', decided_by: null, reason: null, created_at: Date.now(), decided_at: null,
    };
    const calls = backend((command) => {
      if (command === 'config_requests') return [pending];
      if (command === 'config_approve') return { version: 7, layer: 'committed', format: 'yaml', content_hash: 'ab', author: 'cli:ana', message: 'm', created_at: 0 };
      return undefined;
    });
    render(Configs);
    await fireEvent.click(await screen.findByTestId('config-tab-approvals'));
    const request = await screen.findByTestId('config-request');
    expect(request.dataset.status).toBe('pending');
    expect(request.textContent).toContain('asked by cli:ana');
    expect((screen.getByTestId('config-approval-prod') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(screen.getByTestId('config-approve'));
    expect((await screen.findByTestId('config-approval-notice')).textContent).toContain('prod is version 7');
    expect(calls.find(([command]) => command === 'config_approve')?.[1]).toEqual({ input: { id: 'pr_1' } });
  });

  it('shows a linked file in conflict with both texts and writes the stored version only when asked', async () => {
    const link = {
      project: 'shop', env: 'dev', layer: 'committed', path: '/srv/shop/dev.yaml', last_hash: 'b', last_error: null,
      checked_at: 1, synced_hash: 'a', conflict_since: Date.now() - 60_000, conflict_version: 3,
    };
    let resolved = false;
    const calls = backend((command) => {
      if (command === 'config_links') return resolved ? [{ ...link, conflict_since: null, conflict_version: null }] : [link];
      if (command === 'config_link_conflict') {
        return { link, file_text: 'db:\n  pool: 7  # mine\n', file_error: null, stored_text: 'db:\n  pool: 5\n', stored_version: 3 };
      }
      if (command === 'config_resolve_link') {
        resolved = true;
        return { link: { ...link, conflict_since: null }, version: null, copy: '/srv/shop/dev.yaml.opsdeck-conflict-20261205T120000Z' };
      }
      return undefined;
    });
    render(Configs);
    const panel = await screen.findByTestId('config-link-conflict');
    expect(panel.textContent).toContain('The file has an edit OpsDeck has not stored');
    expect(panel.textContent).toContain('Stored version 3 was not written over it');
    await waitFor(() => expect(panel.textContent).toContain('On disk: /srv/shop/dev.yaml'));
    expect(calls.some(([command]) => command === 'config_resolve_link')).toBe(false);
    await fireEvent.click(screen.getByTestId('config-conflict-keep-stored'));
    const notice = await screen.findByTestId('config-saved');
    expect(notice.textContent).toContain('dev.yaml.opsdeck-conflict-20261205T120000Z');
    const resolve = calls.find(([command]) => command === 'config_resolve_link');
    expect(resolve?.[1]?.input).toMatchObject({ project: 'shop', env: 'dev', layer: 'committed', resolution: 'keep_stored' });
    await waitFor(() => expect(screen.queryByTestId('config-link-conflict')).toBeNull());
  });
});
