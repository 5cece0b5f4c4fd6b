// The one place that knows which host the renderer runs in: Electron's preload bridge
// (window.latentStudio) when present, else the browser host's WebSocket with the token of the printed address.
import type { StudioApi } from '@shared/contract.js';
import { createWireClient, type WireClient } from '@shared/wire-client.js';
import { tokenFromHash, webSocketUrl } from '@shared/wire.js';

export interface Connection {
  api: StudioApi;
  /** Called when the host goes away (web only). */
  onLost(cb: (reason: string) => void): () => void;
}

/** Where the browser host's token is kept once it has left the address bar (this tab only, until it is closed). */
const TOKEN_KEY = 'latent-studio:token';

/**
 * The browser host's access token. On first load it comes from the printed address (#token=…, or ?token=…):
 * it moves into this tab's session storage and out of the address, so neither the history nor a bookmark nor a
 * shared screenshot of the address bar holds it. A reload finds it in session storage.
 */
function takeToken(win: Window): string | undefined {
  const url = new URL(win.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ''));
  const fromAddress = tokenFromHash(url.hash) ?? url.searchParams.get('token') ?? undefined;
  if (fromAddress === undefined) {
    try {
      return win.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
    } catch {
      return undefined; // storage blocked: only the printed address works
    }
  }
  try {
    win.sessionStorage.setItem(TOKEN_KEY, fromAddress);
  } catch {
    // Storage blocked: the token is still used for this page; a reload then needs the printed address again.
  }
  hash.delete('token');
  url.searchParams.delete('token');
  const rest = hash.toString();
  win.history.replaceState(win.history.state, '', `${url.pathname}${url.search}${rest ? `#${rest}` : ''}`);
  return fromAddress;
}

export async function connectStudio(win: Window = window): Promise<Connection> {
  const bridge = win.latentStudio;
  if (bridge) return { api: bridge, onLost: () => () => undefined };
  const token = takeToken(win);
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
