/// <reference types="vite/client" />
// How the end-to-end tests and the paint benchmark read renderer state: window.__latentStudio (canvas stats and
// the Studio) and window.__latentStudioAutosave. Only the e2e build sets them (vite mode 'e2e', made by
// tests/e2e/support/build-renderer.ts into test-artifacts/renderer-e2e). In every other build E2E_BUILD is the constant
// false, so the minifier drops these bodies and the names never reach the shipped bundle
// (tests/studio/electron/shipped-renderer.test.ts checks that).
import type { StageStats } from './canvas/stage-stats.js';
import type { Autosave } from './state/autosave.js';
import type { Studio } from './state/studio.svelte.js';

const E2E_BUILD = import.meta.env.MODE === 'e2e';

export function exposeCanvasForE2e(hook: { stats: StageStats; studio: Studio }): void {
  if (E2E_BUILD) (window as unknown as { __latentStudio?: unknown }).__latentStudio = hook;
}

export function exposeAutosaveForE2e(saver: Autosave): void {
  if (E2E_BUILD) (window as unknown as { __latentStudioAutosave?: unknown }).__latentStudioAutosave = saver;
}
