// The browser host's limits across connections: a capped number of WebSockets, and a byte budget shared by
// all of them (frames being received + calls not answered + output not read), not only a per-frame limit.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../src-main/web/index.js';
import { decodeFrame, encodeFrame } from '../../../src-main/shared/wire.js';
import { modelsDir } from './helpers.js';

let host: WebHost | undefined;
let tmp: string | undefined;
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await host?.close();
  host = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function start(limits: { maxConnections?: number; maxBufferedBytes?: number }): Promise<{ host: WebHost; url: string; warnings: string[] }> {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-web-limits-'));
  const warnings: string[] = [];
  host = await startWebHost({
    rendererDir: tmp,
    modelsDir,
    settingsFile: path.join(tmp, 'settings.json'),
    log: (level, message) => {
      if (level === 'warning') warnings.push(message);
    },
    ...limits,
  });
  return { host, url: `ws://127.0.0.1:${host.port}/ws?token=${host.token}`, warnings };
}

/** Connects; resolves the open socket or the HTTP status of a refused upgrade. */
function connect(url: string): Promise<{ open: true; ws: WebSocket } | { open: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    clients.push(ws);
    ws.on('open', () => resolve({ open: true, ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ open: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => resolve({ open: false, status: 0 }));
  });
}

async function open(url: string): Promise<WebSocket> {
  const r = await connect(url);
  if (!r.open) throw new Error(`refused with ${r.status}`);
  return r.ws;
}

/**
 * Sends the first part of a message (FIN not set) followed by a ping. The host reads a connection's bytes in
 * order, so its pong proves it has received (and counted) the part; a dropped connection closes instead.
 */
function sendPartAndPing(ws: WebSocket, part: Uint8Array): Promise<'pong' | 'closed'> {
  return new Promise((resolve) => {
    ws.once('pong', () => resolve('pong'));
    ws.once('close', () => resolve('closed'));
    ws.send(part, { binary: true, fin: false });
    ws.ping();
  });
}

function nextReply(ws: WebSocket): Promise<{ t: string; id: number }> {
  return new Promise((resolve) => {
    ws.on('message', (data) => {
      const m = decodeFrame(data as Buffer) as { t: string; id: number };
      if (m.t === 'reply') resolve(m);
    });
  });
}

describe('browser host limits', () => {
  it('refuses connections over the cap with 503, and takes one again when a slot is free', async () => {
    const { url, warnings } = await start({ maxConnections: 2 });
    const first = await open(url);
    await open(url);
    expect(await connect(url)).toEqual({ open: false, status: 503 });
    expect(warnings.some((w) => /at most 2/.test(w))).toBe(true);

    first.close();
    // The host frees the slot when it sees the close; until then it answers 503.
    for (;;) {
      const r = await connect(url);
      if (r.open) break;
      expect(r.status).toBe(503);
    }
  });

  it('caps the bytes held by all connections together: the connection that goes over is dropped, the others go on', async () => {
    const budget = 1024 * 1024;
    const { url, warnings } = await start({ maxBufferedBytes: budget });
    // A call whose frame is 0.6 of the budget: one fits, two at once do not.
    const frame = encodeFrame({ t: 'call', id: 1, channel: 'no-such-channel', payload: { pad: new Uint8Array(Math.round(budget * 0.6)) } });
    const head = frame.subarray(0, frame.byteLength - 16);
    const tail = frame.subarray(frame.byteLength - 16);

    const a = await open(url);
    expect(await sendPartAndPing(a, head)).toBe('pong');
    const b = await open(url);
    expect(await sendPartAndPing(b, head)).toBe('closed');
    expect(warnings.some((w) => w.includes(`more than ${budget} bytes`))).toBe(true);

    // The first connection finishes its message and gets its answer; what it held is released.
    const reply = nextReply(a);
    a.send(tail, { binary: true, fin: true });
    expect(await reply).toMatchObject({ t: 'reply', id: 1 });
    const c = await open(url);
    expect(await sendPartAndPing(c, head)).toBe('pong');
  });

  it('a single frame larger than the whole budget is dropped although it is under the per-frame limit', async () => {
    const { url } = await start({ maxBufferedBytes: 256 * 1024 });
    const ws = await open(url);
    expect(await sendPartAndPing(ws, new Uint8Array(512 * 1024))).toBe('closed');
  });
});
