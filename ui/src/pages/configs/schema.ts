// Schema-driven completion for the config editor: which map the cursor is in
// (from the text above it, per format), and the keys the JSON Schema allows
// there, with their types and descriptions.

import type { ConfigFormat } from '../../lib/bindings/ConfigFormat';

export type { ConfigFormat };

/** A JSON Schema node, as far as completion reads it. */
export interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
}

/** A key the schema allows at the cursor. */
export interface KeySuggestion {
  key: string;
  type: string;
  description: string;
  required: boolean;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** YAML: the keys of the maps enclosing a new key typed at `indent`, outermost first. */
function yamlPath(lines: string[], indent: number): string[] {
  const path: string[] = [];
  let limit = indent;
  for (let index = lines.length - 1; index >= 0 && limit > 0; index--) {
    const line = lines[index];
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const own = indentOf(line);
    if (own < limit) {
      const match = /^\s*(?:-\s+)?["']?([^"':#]+?)["']?\s*:\s*(?:#.*)?$/.exec(line);
      if (match) path.unshift(match[1].trim());
      limit = own;
    }
  }
  return path;
}

/** TOML: the nearest `[table]` header above (array tables count as their table). */
function tomlPath(lines: string[]): string[] {
  for (let index = lines.length - 1; index >= 0; index--) {
    const match = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(lines[index]);
    if (match) return match[1].split('.').map((part) => part.trim().replace(/^["']|["']$/g, ''));
  }
  return [];
}

/** JSON: the keys of the objects open at the cursor. */
function jsonPath(text: string): string[] {
  const path: (string | null)[] = [];
  let lastString: string | null = null;
  let pendingKey: string | null = null;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      lastString = text.slice(index + 1, end);
      index = end;
    } else if (char === ':') {
      pendingKey = lastString;
    } else if (char === '{' || char === '[') {
      path.push(char === '{' ? pendingKey : null);
      pendingKey = null;
    } else if (char === '}' || char === ']') {
      path.pop();
    } else if (char === ',') {
      pendingKey = null;
    }
  }
  // The outermost object has no key; arrays end the path (items are not keyed).
  const keys = path.slice(1);
  const cut = keys.indexOf(null);
  return (cut === -1 ? keys : keys.slice(0, cut)) as string[];
}

/** The map the cursor is in, as keys from the top, for text before the cursor. */
export function pathAt(before: string, format: ConfigFormat): string[] {
  const lines = before.split('\n');
  const current = lines.pop() ?? '';
  switch (format) {
    case 'yaml':
      return yamlPath(lines, indentOf(current));
    case 'toml':
      return tomlPath(lines);
    case 'json':
      return jsonPath(before);
  }
}

/** The schema node at `path` (following `properties`), if the schema describes it. */
export function schemaAt(schema: SchemaNode, path: string[]): SchemaNode | null {
  let node: SchemaNode | undefined = schema;
  for (const key of path) {
    node = node?.properties?.[key];
    if (!node) return null;
  }
  return node;
}

function typeName(node: SchemaNode): string {
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (Array.isArray(node.type)) return node.type.join(' | ');
  return node.type ?? (node.properties ? 'object' : 'any');
}

/** The keys the schema allows in the map at `path`, required ones first. */
export function suggestKeys(schema: SchemaNode, path: string[]): KeySuggestion[] {
  const node = schemaAt(schema, path);
  if (!node?.properties) return [];
  const required = new Set(node.required ?? []);
  return Object.entries(node.properties)
    .map(([key, child]) => ({
      key,
      type: typeName(child),
      description: child.description ?? '',
      required: required.has(key),
    }))
    .sort((a, b) => Number(b.required) - Number(a.required) || a.key.localeCompare(b.key));
}

/** Parses a schema's text for completion; null when it is not JSON. */
export function parseSchema(text: string | null): SchemaNode | null {
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as SchemaNode) : null;
  } catch {
    return null;
  }
}

/** The environment after `env` in promotion order, if any. */
export function nextEnv(envs: string[], env: string): string | null {
  const index = envs.indexOf(env);
  return index >= 0 && index + 1 < envs.length ? envs[index + 1] : null;
}
