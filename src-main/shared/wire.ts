// The browser host's wire protocol (`latent-studio serve`): the studio contract over one WebSocket.
// Pure TypeScript (TextEncoder/TextDecoder, DataView): the same encoder/decoder runs in the host (Node, `ws`)
// and in the renderer (browser WebSocket).
//
// Every frame is BINARY, in one format:
//
//   offset 0   4 bytes  magic "LSW1"
//   offset 4   u32 LE   H = length of the header
//   offset 8   H bytes  header: UTF-8 JSON { m: message, b: [[offset, length], …] }
//   offset 8+H          the blobs, back to back; b[i] = blob i's offset (from the start of the blob area) and length
//
// Inside `m`, each Uint8Array (Node Buffers included) is replaced by {"\u0000b": i} and each bigint by
// {"\u0000n": "<decimal>"}. Why binary and not base64 in JSON text frames: previews (width·height·4 RGBA bytes,
// several per second) and result PNGs would grow by a third and cost an encode + decode per frame on both
// ends; here pixels are copied once and never parsed. Decoded Uint8Arrays own their buffer (byteOffset 0).
//
// Messages:
//   client → host   {t:'call', id, channel, payload}      a StudioApi.invoke
//                   {t:'ack', seq}                        "preview frame seq was delivered" (send after dispatching it)
//   host → client   {t:'hello', protocol, host:'web'}      first frame after a good connection
//                   {t:'reply', id, result}               the Result of call id
//                   {t:'event', event, payload, seq?}     a StudioEvent; previews carry seq and must be acked
//
// Connection: ws://127.0.0.1:PORT/ws?token=TOKEN (the token is in the page URL's hash: #token=TOKEN). A missing or
// wrong token is refused with HTTP 401 before the upgrade (browsers see a failed connection, close code 1006).
import type { Channel, EventName, Result, StudioEvents } from './contract.js';

export const WIRE_PROTOCOL_VERSION = 1;
export const WEB_SOCKET_PATH = '/ws';
/** The largest frame either side accepts (a 2048² RGBA preview is 16 MiB; init images and masks are PNG files). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
/** The most WebSocket connections the browser host serves at once (a studio tab is one; more wait for a free slot). */
export const MAX_CONNECTIONS = 8;
/**
 * The most bytes the browser host holds for all its connections together: frames being received, calls not yet
 * answered, and replies/events the clients have not read. MAX_FRAME_BYTES bounds one frame, this bounds them all.
 */
export const MAX_BUFFERED_BYTES = 3 * MAX_FRAME_BYTES;

export type ClientMessage =
  | { t: 'call'; id: number; channel: Channel; payload: unknown }
  | { t: 'ack'; seq: number };

export type ServerMessage =
  | { t: 'hello'; protocol: number; host: 'web' }
  | { t: 'reply'; id: number; result: Result<unknown> }
  | { [E in EventName]: { t: 'event'; event: E; payload: StudioEvents[E]; seq?: number } }[EventName];

export type WireMessage = ClientMessage | ServerMessage;

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

const MAGIC = [0x4c, 0x53, 0x57, 0x31]; // "LSW1"
const BIN = '\u0000b';
const BIG = '\u0000n';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes any JSON-like value with Uint8Arrays and bigints into one binary frame. */
export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const table: Array<[number, number]> = [];
  let blobBytes = 0;
  const replacer = function (this: unknown, key: string, value: unknown): unknown {
    // `value` has been through toJSON (Buffer → {type:'Buffer', data}); the holder has the original.
    const original = (this as Record<string, unknown>)[key];
    if (original instanceof Uint8Array) {
      table.push([blobBytes, original.byteLength]);
      blobs.push(original);
      blobBytes += original.byteLength;
      return { [BIN]: table.length - 1 };
    }
    if (typeof original === 'bigint') return { [BIG]: original.toString() };
    if (ArrayBuffer.isView(original) || original instanceof ArrayBuffer) {
      throw new WireError(`cannot send ${Object.prototype.toString.call(original)} at "${key}": only Uint8Array binary data`);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && (BIN in value || BIG in value)) {
      throw new WireError('a message object uses a reserved key');
    }
    return value;
  };
  const json = JSON.stringify(message === undefined ? null : message, replacer);
  const header = textEncoder.encode(`{"m":${json},"b":${JSON.stringify(table)}}`);
  const total = 8 + header.byteLength + blobBytes;
  if (total > MAX_FRAME_BYTES) throw new WireError(`message too large (${total} bytes; at most ${MAX_FRAME_BYTES})`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  let offset = 8 + header.byteLength;
  for (const blob of blobs) {
    out.set(blob, offset);
    offset += blob.byteLength;
  }
  return out;
}

/** Decodes a frame made by encodeFrame. Accepts a Uint8Array (Node Buffer), an ArrayBuffer or a list of Buffers (ws fragments). */
export function decodeFrame(data: Uint8Array | ArrayBuffer | readonly Uint8Array[]): unknown {
  const bytes = toBytes(data);
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new WireError('not a Latent Studio frame (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > bytes.byteLength) throw new WireError('truncated frame (header)');
  let header: { m: unknown; b: unknown };
  try {
    header = JSON.parse(textDecoder.decode(bytes.subarray(8, 8 + headerLength))) as { m: unknown; b: unknown };
  } catch {
    throw new WireError('bad frame header (not UTF-8 JSON)');
  }
  if (header === null || typeof header !== 'object' || !Array.isArray(header.b)) throw new WireError('bad frame header');
  const blobStart = 8 + headerLength;
  const blobArea = bytes.byteLength - blobStart;
  const table = header.b as unknown[];
  for (const entry of table) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      !Number.isSafeInteger(entry[0]) ||
      !Number.isSafeInteger(entry[1]) ||
      (entry[0] as number) < 0 ||
      (entry[1] as number) < 0 ||
      (entry[0] as number) + (entry[1] as number) > blobArea
    ) {
      throw new WireError('bad frame blob table');
    }
  }
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
      return value;
    }
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length === 1 && keys[0] === BIN) {
        const index = obj[BIN];
        if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= table.length) throw new WireError('bad blob reference');
        const [offset, length] = table[index] as [number, number];
        return bytes.slice(blobStart + offset, blobStart + offset + length);
      }
      if (keys.length === 1 && keys[0] === BIG) {
        const digits = obj[BIG];
        if (typeof digits !== 'string' || !/^-?\d+$/.test(digits)) throw new WireError('bad bigint');
        return BigInt(digits);
      }
      for (const k of keys) obj[k] = revive(obj[k]);
      return obj;
    }
    return value;
  };
  return revive(header.m);
}

function toBytes(data: Uint8Array | ArrayBuffer | readonly Uint8Array[]): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) {
    const parts = data as readonly Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
  throw new WireError('frame must be binary');
}

/** Checks the shape of a decoded client message (the host trusts nothing else). */
export function parseClientMessage(value: unknown): ClientMessage {
  if (value === null || typeof value !== 'object') throw new WireError('message must be an object');
  const m = value as Record<string, unknown>;
  if (m.t === 'call') {
    if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) throw new WireError('call.id must be an integer');
    if (typeof m.channel !== 'string') throw new WireError('call.channel must be a string');
    return { t: 'call', id: m.id, channel: m.channel as Channel, payload: m.payload ?? undefined };
  }
  if (m.t === 'ack') {
    if (typeof m.seq !== 'number' || !Number.isSafeInteger(m.seq)) throw new WireError('ack.seq must be an integer');
    return { t: 'ack', seq: m.seq };
  }
  throw new WireError(`unknown message type ${JSON.stringify(m.t)}`);
}

/** Checks the shape of a decoded host message. */
export function parseServerMessage(value: unknown): ServerMessage {
  if (value === null || typeof value !== 'object') throw new WireError('message must be an object');
  const m = value as Record<string, unknown>;
  if (m.t === 'hello' && typeof m.protocol === 'number') return m as unknown as ServerMessage;
  if (m.t === 'reply' && typeof m.id === 'number' && m.result !== null && typeof m.result === 'object') return m as unknown as ServerMessage;
  if (m.t === 'event' && typeof m.event === 'string') return m as unknown as ServerMessage;
  throw new WireError(`unknown message type ${JSON.stringify(m.t)}`);
}

/** The token in a page URL hash ("#token=abc" or "#abc&token=abc"); undefined when absent. */
export function tokenFromHash(hash: string): string | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token ? token : undefined;
}

/** ws://host:port/ws?token=… for a page at http://host:port/… */
export function webSocketUrl(pageUrl: string, token: string): string {
  const url = new URL(pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = WEB_SOCKET_PATH;
  url.search = `?token=${encodeURIComponent(token)}`;
  url.hash = '';
  return url.toString();
}
