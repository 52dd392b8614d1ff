import { describe, expect, it } from 'vitest';
import { nextEnv, parseSchema, pathAt, suggestKeys, type SchemaNode } from './schema';

const schema: SchemaNode = {
  type: 'object',
  required: ['server'],
  properties: {
    server: {
      type: 'object',
      required: ['port'],
      properties: {
        port: { type: 'integer', description: 'TCP port' },
        host: { type: 'string' },
        tls: { type: 'object', properties: { cert: { type: 'string' } } },
      },
    },
    log: { enum: ['debug', 'info'] },
  },
};

describe('config editor completion', () => {
  it('finds the enclosing YAML maps by indentation, past comments and blank lines', () => {
    const before = 'log: info\nserver:\n  # the listener\n  host: a\n\n  tls:\n    ';
    expect(pathAt(before, 'yaml')).toEqual(['server', 'tls']);
    expect(pathAt('server:\n  port: 1\n', 'yaml')).toEqual([]);
    expect(pathAt('server:\n  ', 'yaml')).toEqual(['server']);
  });

  it('finds the TOML table and the open JSON objects', () => {
    expect(pathAt('log = "info"\n[server.tls]\ncert = "a"\n', 'toml')).toEqual(['server', 'tls']);
    expect(pathAt('a = 1\n', 'toml')).toEqual([]);
    expect(pathAt('{"server": {"host": "a", "tls": {', 'json')).toEqual(['server', 'tls']);
    expect(pathAt('{"server": {"host": "a"}, ', 'json')).toEqual([]);
    // Inside a list's items there is no keyed map to complete.
    expect(pathAt('{"list": [{', 'json')).toEqual([]);
  });

  it('suggests the keys allowed there, required first, with types and descriptions', () => {
    const keys = suggestKeys(schema, ['server']);
    expect(keys.map((key) => key.key)).toEqual(['port', 'host', 'tls']);
    expect(keys[0]).toEqual({ key: 'port', type: 'integer', description: 'TCP port', required: true });
    expect(suggestKeys(schema, [])[1]).toMatchObject({ key: 'log', type: '"debug" | "info"' });
    expect(suggestKeys(schema, ['nowhere'])).toEqual([]);
  });

  it('reads schema text and the promotion order', () => {
    expect(parseSchema('{"type": "object"}')).toEqual({ type: 'object' });
    expect(parseSchema('not json')).toBeNull();
    expect(parseSchema(null)).toBeNull();
    expect(nextEnv(['dev', 'staging', 'prod'], 'dev')).toBe('staging');
    expect(nextEnv(['dev', 'staging', 'prod'], 'prod')).toBeNull();
  });
});
