// The CodeMirror 6 pieces the config pages share: a language per format, a
// theme and highlighting drawn from the app's colour variables (so light and
// dark follow the app), and problems turned into editor diagnostics.

// Must come first: it lets CodeMirror style itself under the app's CSP.
import './adopted-styles';
import { EditorView } from '@codemirror/view';
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type LanguageSupport } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { yaml } from '@codemirror/lang-yaml';
import { json } from '@codemirror/lang-json';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import type { Diagnostic } from '@codemirror/lint';
import type { Text, Extension } from '@codemirror/state';
import type { DraftCheck } from '../../lib/api';
import type { ConfigFormat } from './schema';

/** The language of a format. */
export function languageOf(format: ConfigFormat): LanguageSupport | Extension {
  switch (format) {
    case 'yaml':
      return yaml();
    case 'json':
      return json();
    case 'toml':
      return StreamLanguage.define(toml);
  }
}

/** The editor's look, in the app's colours. */
export const editorTheme: Extension = [
  EditorView.theme({
    '&': { backgroundColor: 'var(--panel)', color: 'var(--text)', fontSize: '13px', height: '100%' },
    '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.55' },
    '.cm-content': { caretColor: 'var(--text)' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
    '.cm-gutters': { backgroundColor: 'var(--surface)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
    '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--accent-soft) 45%, transparent)' },
    '.cm-activeLineGutter': { backgroundColor: 'var(--accent-soft)', color: 'var(--text)' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': {
      backgroundColor: 'color-mix(in srgb, var(--accent) 28%, transparent) !important',
    },
    '&.cm-focused': { outline: 'none' },
    '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--border)' },
    '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: 'var(--accent-soft)', color: 'var(--text)' },
    '.cm-completionDetail': { color: 'var(--muted)', fontStyle: 'normal', marginLeft: '0.75em' },
    '.cm-diagnostic-error': { borderLeftColor: 'var(--bad)' },
    '.cm-lintRange-error': {
      backgroundImage: 'none',
      borderBottom: '2px dotted var(--bad)',
      backgroundColor: 'color-mix(in srgb, var(--bad) 10%, transparent)',
    },
    '.cm-panels': { backgroundColor: 'var(--surface)', color: 'var(--text)' },
    '.cm-searchMatch': { backgroundColor: 'color-mix(in srgb, var(--warn) 30%, transparent)' },
    '.cm-changedLine': { backgroundColor: 'color-mix(in srgb, var(--ok) 12%, transparent) !important' },
    '.cm-deletedChunk': { backgroundColor: 'color-mix(in srgb, var(--bad) 12%, transparent) !important' },
    '.cm-changedText': { background: 'color-mix(in srgb, var(--ok) 30%, transparent) !important' },
    '.cm-deletedChunk .cm-deletedText, del.cm-deletedText': {
      background: 'color-mix(in srgb, var(--bad) 30%, transparent) !important',
    },
  }),
  syntaxHighlighting(
    HighlightStyle.define([
      { tag: [tags.propertyName, tags.definition(tags.propertyName), tags.heading], color: 'var(--accent)' },
      { tag: [tags.string, tags.special(tags.string)], color: 'var(--ok)' },
      { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--warn)' },
      { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--muted)', fontStyle: 'italic' },
      { tag: [tags.keyword, tags.meta, tags.labelName, tags.typeName], color: 'var(--bad)' },
      { tag: [tags.punctuation, tags.separator, tags.bracket], color: 'var(--muted)' },
    ]),
  ),
];

/** The span of a 1-based line, clamped to the document. */
function lineSpan(doc: Text, line: number | null): { from: number; to: number } {
  const number = Math.min(Math.max(line ?? 1, 1), doc.lines);
  const found = doc.line(number);
  // An empty line still gets a visible one-character mark where possible.
  return { from: found.from, to: found.to > found.from ? found.to : Math.min(found.from + 1, doc.length) };
}

/**
 * Editor diagnostics for a draft check of `layer`: the syntax error, and the
 * violations this layer's text caused (others are listed beside the editor).
 */
export function diagnosticsOf(check: DraftCheck, layer: string, doc: Text): Diagnostic[] {
  if (check.syntax) {
    return [{ ...lineSpan(doc, check.syntax.line), severity: 'error', source: 'syntax', message: check.syntax.message }];
  }
  return check.violations
    .filter((violation) => violation.layer === layer && violation.line !== null)
    .map((violation) => ({
      ...lineSpan(doc, violation.line),
      severity: 'error' as const,
      source: 'schema',
      message: `${violation.path || '(top level)'}: ${violation.message}`,
    }));
}
