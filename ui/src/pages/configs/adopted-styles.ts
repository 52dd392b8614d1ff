// CodeMirror styles itself at run time (style-mod). In a document it does so
// with a <style> element, which the app's Content Security Policy
// (`style-src 'self'`) rightly blocks; in a shadow root it uses a
// constructed stylesheet, which CSP does not govern. This module makes the
// document take the constructed-stylesheet path too, so the editor is styled
// without loosening the CSP. Import it before any editor is created.

import { StyleModule } from 'style-mod';

type Root = Document | ShadowRoot;

const mounted: StyleModule[] = [];
let sheet: CSSStyleSheet | null = null;

/** Adds `modules` in their order (each after the one before it), keeping earlier ones. */
function mountInDocument(document: Document, modules: StyleModule[]) {
  let changed = false;
  let insertAt = 0;
  for (const module of modules) {
    const index = mounted.indexOf(module);
    if (index === -1) {
      mounted.splice(insertAt, 0, module);
      insertAt += 1;
      changed = true;
    } else {
      insertAt = Math.max(insertAt, index + 1);
    }
  }
  if (!sheet) {
    sheet = new (document.defaultView ?? window).CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    changed = true;
  }
  if (changed) sheet.replaceSync(mounted.map((module) => module.getRules()).join('\n'));
}

const original = StyleModule.mount.bind(StyleModule);

StyleModule.mount = (root: Root, modules: StyleModule | ReadonlyArray<StyleModule>, options?: { nonce?: string }) => {
  const list = (Array.isArray(modules) ? modules : [modules]) as StyleModule[];
  const isDocument = (root as Document).head !== undefined && 'adoptedStyleSheets' in root;
  if (isDocument && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
    mountInDocument(root as Document, list);
  } else {
    original(root, list, options);
  }
};
