// A StudioApi over the wire protocol, for any WebSocket-like object (the browser's WebSocket, or `ws` in tests).
// The renderer's web transport can use it as is: createWireClient(new WebSocket(webSocketUrl(location.href, token))).
import type { Channel, EventName, Result, StudioApi, StudioEvents } from './contract.js';
import { decodeFrame, encodeFrame, parseServerMessage, WIRE_PROTOCOL_VERSION, type ClientMessage } from './wire.js';

/** The part of the WebSocket API the client uses (browser WebSocket and `ws` both fit). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: any) => void): void;
}

export interface WireClient extends StudioApi {
  /** Resolves after the host's hello (rejects if the socket closes first, e.g. a refused token). */
  readonly ready: Promise<void>;
  /** Called when the connection is lost (pending calls resolve with code 'disconnected'). */
  onClose(callback: (info: { code: number; reason: string }) => void): () => void;
  close(): void;
}

const OPEN = 1;

export function createWireClient(socket: SocketLike): WireClient {
  socket.binaryType = 'arraybuffer';
  let nextId = 1;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const closeListeners = new Set<(info: { code: number; reason: string }) => void>();
  let closed = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined);

  const send = (m: ClientMessage): void => {
    if (socket.readyState === OPEN) socket.send(encodeFrame(m));
  };

  socket.addEventListener('message', (ev: { data: unknown }) => {
    let msg;
    try {
      msg = parseServerMessage(decodeFrame(ev.data as ArrayBuffer | Uint8Array));
    } catch (error) {
      console.error('latent-studio: bad frame from host', error);
      return;
    }
    if (msg.t === 'hello') {
      if (msg.protocol !== WIRE_PROTOCOL_VERSION) rejectReady(new Error(`host speaks protocol ${msg.protocol}, expected ${WIRE_PROTOCOL_VERSION}`));
      else resolveReady();
    } else if (msg.t === 'reply') {
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      done?.(msg.result);
    } else {
      try {
        for (const cb of listeners.get(msg.event) ?? []) {
          try {
            cb(msg.payload);
          } catch (error) {
            console.error(`latent-studio: ${msg.event} listener failed`, error);
          }
        }
      } finally {
        // Ack after dispatching so the host sends the next (latest) preview.
        if (msg.seq !== undefined) send({ t: 'ack', seq: msg.seq });
      }
    }
  });
  // A refused or broken connection: 'close' follows (and says why); `ws` in Node throws on an unheard 'error'.
  socket.addEventListener('error', () => undefined);
  socket.addEventListener('close', (ev: { code?: number; reason?: string }) => {
    closed = true;
    const info = { code: ev.code ?? 1006, reason: ev.reason ?? '' };
    rejectReady(new Error(`connection closed (${info.code}${info.reason ? `: ${info.reason}` : ''})`));
    for (const done of pending.values()) done({ ok: false, error: { code: 'disconnected', message: 'The connection to the studio host was lost.' } });
    pending.clear();
    for (const cb of closeListeners) cb(info);
  });

  return {
    host: 'web',
    ready,
    invoke(channel: Channel, payload?: unknown): Promise<Result<any>> {
      if (closed) return Promise.resolve({ ok: false, error: { code: 'disconnected', message: 'The connection to the studio host is closed.' } });
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        ready.then(
          () => {
            try {
              socket.send(encodeFrame({ t: 'call', id, channel, payload }));
            } catch (error) {
              pending.delete(id);
              resolve({ ok: false, error: { code: 'invalid-payload', message: error instanceof Error ? error.message : String(error) } });
            }
          },
          (error: Error) => {
            if (pending.delete(id)) resolve({ ok: false, error: { code: 'disconnected', message: error.message } });
          },
        );
      });
    },
    on<E extends EventName>(event: E, callback: (payload: StudioEvents[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const cb = callback as (p: unknown) => void;
      set.add(cb);
      return () => set.delete(cb);
    },
    onClose(callback) {
      closeListeners.add(callback);
      return () => closeListeners.delete(callback);
    },
    close() {
      socket.close(1000, 'bye');
    },
  } as WireClient;
}
