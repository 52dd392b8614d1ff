// How the layers of a config are named and coloured everywhere on the page.

import type { ConfigExplained } from '../../lib/api';

export interface LayerStyle {
  label: string;
  /** Tailwind classes of the layer's badge (colour plus the text label). */
  badge: string;
  /** Which wins: a higher rank overrides a lower one. */
  rank: number;
}

export const LAYER_STYLES: Record<string, LayerStyle> = {
  defaults: { label: 'default', badge: 'bg-unknown-soft text-unknown', rank: 0 },
  committed: { label: 'committed', badge: 'bg-accent-soft text-accent', rank: 1 },
  local: { label: 'local', badge: 'bg-warn-soft text-warn', rank: 2 },
  env: { label: 'env var', badge: 'bg-ok-soft text-ok', rank: 3 },
};

export function layerStyle(layer: string): LayerStyle {
  return LAYER_STYLES[layer] ?? { label: layer, badge: 'bg-unknown-soft text-unknown', rank: -1 };
}

/** A value as one line of text (strings unquoted, the rest as JSON). */
export function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether a value is a secret reference (resolved only when rendered). */
export function isSecretReference(value: unknown): boolean {
  return typeof value === 'string' && value.trim().startsWith('opsdeck://');
}

/** Keys matching a search over key, value and source. */
export function filterKeys(keys: ConfigExplained[], search: string): ConfigExplained[] {
  const needle = search.trim().toLowerCase();
  if (!needle) return keys;
  return keys.filter(
    (entry) =>
      entry.key.toLowerCase().includes(needle) ||
      showValue(entry.value).toLowerCase().includes(needle) ||
      entry.source.toLowerCase().includes(needle),
  );
}

/** How many keys each layer set, for the summary above the table. */
export function countByLayer(keys: ConfigExplained[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const entry of keys) counts.set(entry.layer, (counts.get(entry.layer) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => layerStyle(a[0]).rank - layerStyle(b[0]).rank);
}

/** Where a key was set, without repeating its layer: `v2, line 4`, `SHOP_* variables`. */
export function whereSet(entry: Pick<ConfigExplained, 'layer' | 'source' | 'line'>): string {
  const source = entry.source.startsWith(`${entry.layer} `) ? entry.source.slice(entry.layer.length + 1) : entry.source;
  return entry.line ? `${source}, line ${entry.line}` : source;
}
