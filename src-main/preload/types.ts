// Types for the renderer: `import type { LatentStudioApi } from '../../src-main/preload/types'`.
// window.latentStudio exists only under Electron; in the browser host the renderer builds a WebSocket client
// with the same StudioApi shape (createWireClient in src-main/shared/wire-client.ts).
import type { StudioApi } from '../shared/contract.js';

export type LatentStudioApi = StudioApi;
export type * from '../shared/contract.js';

declare global {
  interface Window {
    /** Present under Electron only. */
    latentStudio?: LatentStudioApi;
  }
}
