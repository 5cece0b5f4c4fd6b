// The preload: the renderer's only door to the host. Exposes window.latentStudio = { host, invoke, on } and
// nothing else (no ipcRenderer, no Node). Runs sandboxed (sandbox: true): only 'electron' may be imported, so
// this file must not import runtime values from other modules except through electron-vite bundling (the
// imports below are bundled into the preload at build time).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_GLOBAL, IPC_ACK, IPC_EVENT, IPC_INVOKE } from '../shared/ipc.js';
import { isChannel, isEventName } from '../shared/names.js';
import type { Channel, EventName, Result, StudioApi, StudioEvents } from '../shared/contract.js';

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

ipcRenderer.on(IPC_EVENT, (_event: IpcRendererEvent, name: unknown, payload: unknown, seq?: unknown) => {
  try {
    if (!isEventName(name)) return;
    for (const cb of listeners.get(name) ?? []) {
      try {
        cb(payload);
      } catch (error) {
        console.error(`latent-studio: ${name} listener failed`, error);
      }
    }
  } finally {
    // One preview in flight per window: ack once it was dispatched so main sends the latest next one.
    if (typeof seq === 'number') ipcRenderer.send(IPC_ACK, seq);
  }
});

const api: StudioApi = {
  host: 'electron',
  invoke(channel: Channel, payload?: unknown): Promise<Result<any>> {
    if (!isChannel(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-channel', message: `unknown channel ${JSON.stringify(channel)}` } });
    }
    return ipcRenderer.invoke(IPC_INVOKE, channel, payload) as Promise<Result<any>>;
  },
  on<E extends EventName>(event: E, callback: (payload: StudioEvents[E]) => void): () => void {
    if (!isEventName(event)) throw new TypeError(`unknown event ${JSON.stringify(event)}`);
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const cb = callback as (payload: unknown) => void;
    set.add(cb);
    return () => {
      set.delete(cb);
    };
  },
} as StudioApi;

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, api);

/** The type of window.latentStudio (the renderer imports this type only). */
export type LatentStudioApi = StudioApi;
