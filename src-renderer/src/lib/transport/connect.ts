// The one place that knows which host the renderer runs in: Electron's preload bridge
// (window.latentStudio) when present, else the browser host's WebSocket with the token from the URL.
import type { StudioApi } from '@shared/contract.js';
import { createWireClient, type WireClient } from '@shared/wire-client.js';
import { tokenFromHash, webSocketUrl } from '@shared/wire.js';

export interface Connection {
  api: StudioApi;
  /** Called when the host goes away (web only). */
  onLost(cb: (reason: string) => void): () => void;
}

export async function connectStudio(win: Window = window): Promise<Connection> {
  const bridge = win.latentStudio;
  if (bridge) return { api: bridge, onLost: () => () => undefined };
  const token = tokenFromHash(win.location.hash) ?? new URLSearchParams(win.location.search).get('token') ?? undefined;
  if (!token) throw new Error('This page needs its access token: open the address printed by `latent-studio serve` (it ends in #token=…).');
  const client: WireClient = createWireClient(new WebSocket(webSocketUrl(win.location.href, token)));
  try {
    await client.ready;
  } catch (e) {
    throw new Error(`Could not connect to the studio host: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    api: client,
    onLost: (cb) => client.onClose((info) => cb(`connection closed (${info.code}${info.reason ? `: ${info.reason}` : ''})`)),
  };
}
