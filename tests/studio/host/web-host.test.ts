// The browser host over a real WebSocket on 127.0.0.1: token, origin and host checks, a generate round-trip,
// stale previews dropped while a frame is not acked.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../src-main/web/index.js';
import { createWireClient, type SocketLike } from '../../../src-main/shared/wire-client.js';
import { decodeFrame, encodeFrame } from '../../../src-main/shared/wire.js';
import { modelsDir, PNG_SIGNATURE, TINY } from './helpers.js';

const small = { model: TINY, prompt: 'a lighthouse', width: 64, height: 64, steps: 4, seed: 7, sampler: 'euler' as const };

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** Connects and resolves 'open' or the HTTP status of a refused upgrade. */
function tryConnect(url: string, options: WebSocket.ClientOptions = {}): Promise<{ open: true; ws: WebSocket } | { open: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => resolve({ open: true, ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ open: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => resolve({ open: false, status: 0 }));
  });
}

describe('browser host', () => {
  let host: WebHost;
  let tmp: string;
  let wsBase: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-web-'));
    const rendererDir = path.join(tmp, 'renderer');
    await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
    await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Latent Studio</title><script type="module" src="./assets/app.js"></script>');
    await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("hi")');
    await writeFile(path.join(tmp, 'secret.txt'), 'secret');
    host = await startWebHost({ rendererDir, modelsDir, settingsFile: path.join(tmp, 'settings.json'), version: '0.1.0-test' });
    wsBase = `ws://127.0.0.1:${host.port}/ws`;
  });
  afterAll(async () => {
    await host?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/#token=${host.token}`);
    expect(host.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a host other than 127.0.0.1', async () => {
    await expect(startWebHost({ rendererDir: tmp, host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/127\.0\.0\.1 only/);
  });

  it('says so when the renderer is not built', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'ls-web-empty-'));
    const fake = { generate: async () => [], listBackends: async () => [], close: async () => undefined };
    const h2 = await startWebHost({ rendererDir: empty, modelsDir, settingsFile: path.join(empty, 's.json'), engine: fake });
    try {
      const r = await get(`http://127.0.0.1:${h2.port}/`);
      expect(r.status).toBe(503);
      expect(r.body).toContain('not built');
    } finally {
      await h2.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('serves the renderer with a strict CSP, and nothing outside it', async () => {
    const index = await get(`http://127.0.0.1:${host.port}/`);
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>Latent Studio</title>');
    expect(index.headers['content-type']).toMatch(/text\/html/);
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`ws://127.0.0.1:${host.port}`);
    expect(csp).not.toMatch(/unsafe-eval|https?:\/\/(?!127)/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const js = await get(`http://127.0.0.1:${host.port}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    for (const p of ['/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const r = await get(`http://127.0.0.1:${host.port}${p}`);
      expect([403, 404], p).toContain(r.status);
      expect(r.body).not.toContain('secret');
    }
    expect((await get(`http://127.0.0.1:${host.port}/..%2fsecret.txt`)).status).toBe(403);
    expect((await get(`http://127.0.0.1:${host.port}/nope.js`)).status).toBe(404);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
    expect((await get(`http://127.0.0.1:${host.port}/`, { Host: `evil.example:${host.port}` })).status).toBe(421);
  });

  it('refuses WebSockets without the right token, from other origins, or on other paths', async () => {
    expect(await tryConnect(wsBase)).toEqual({ open: false, status: 401 });
    expect(await tryConnect(`${wsBase}?token=wrong`)).toEqual({ open: false, status: 401 });
    expect(await tryConnect(`${wsBase}?token=${host.token}x`)).toEqual({ open: false, status: 401 });
    expect(await tryConnect(`${wsBase}?token=${host.token}`, { origin: 'http://evil.example' })).toEqual({ open: false, status: 403 });
    expect(await tryConnect(`ws://127.0.0.1:${host.port}/other?token=${host.token}`)).toEqual({ open: false, status: 404 });
    const good = await tryConnect(`${wsBase}?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    expect(good.open).toBe(true);
    if (good.open) good.ws.close();
  });

  it('the wire client reports a refused token', async () => {
    const client = createWireClient(new WebSocket(`${wsBase}?token=nope`) as unknown as SocketLike);
    await expect(client.ready).rejects.toThrow(/connection closed/);
    expect(await client.invoke('listModels')).toMatchObject({ ok: false, error: { code: 'disconnected' } });
  });

  it('a generate round-trip through the wire client', async () => {
    const client = createWireClient(new WebSocket(`${wsBase}?token=${host.token}`) as unknown as SocketLike);
    await client.ready;
    try {
      expect(client.host).toBe('web');
      const models = await client.invoke('listModels');
      expect(models.ok && models.value.some((m) => m.id === TINY)).toBe(true);
      const bad = await client.invoke('generate', { ...small, steps: 0 });
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-payload' } });

      const events: string[] = [];
      const previews: Array<{ rgba: Uint8Array; width: number; height: number }> = [];
      client.on('progress', (p) => events.push(`progress:${p.step}`));
      client.on('preview', (p) => previews.push(p));
      const done = new Promise<{ jobId: string; images: Array<{ png: Uint8Array; seed: string; width: number }> }>((resolve) => client.on('result', resolve));
      const r = await client.invoke('generate', small);
      expect(r.ok).toBe(true);
      const result = await done;
      if (r.ok) expect(result.jobId).toBe(r.value.jobId);
      expect(events).toEqual(['progress:1', 'progress:2', 'progress:3', 'progress:4']);
      expect(previews.length).toBeGreaterThan(0);
      expect(previews[0]!.rgba).toBeInstanceOf(Uint8Array);
      expect(previews[0]!.rgba.byteLength).toBe(previews[0]!.width * previews[0]!.height * 4);
      const img = result.images[0]!;
      expect([...img.png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(img).toMatchObject({ seed: '7', width: 64 });

      // Binary inputs go the other way too: an img2img request with the result as init image.
      const img2imgDone = new Promise<unknown>((resolve) => client.on('result', resolve));
      const img2img = await client.invoke('generate', { ...small, initImage: img.png, strength: 0.5 });
      expect(img2img.ok).toBe(true);
      await img2imgDone;
    } finally {
      client.close();
    }
  });

  it('drops stale preview frames while one is not acked', async () => {
    const raw = await tryConnect(`${wsBase}?token=${host.token}`);
    if (!raw.open) throw new Error('no connection');
    const ws = raw.ws;
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(decodeFrame(data as Buffer)));
    const call = (id: number, channel: string, payload: unknown): void => ws.send(encodeFrame({ t: 'call', id, channel, payload }));
    // Checked as each message arrives (after it is recorded above).
    const until = (pred: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (!pred()) return;
          ws.off('message', check);
          resolve();
        };
        ws.on('message', check);
        check();
      });
    try {
      call(1, 'generate', { ...small, steps: 12 });
      await until(() => messages.some((m) => m.t === 'reply' && m.id === 1));
      const jobId = messages.find((m) => m.t === 'reply' && m.id === 1).result.value.jobId;
      const ended = (id: string) => messages.some((m) => m.t === 'event' && m.event === 'result' && m.payload.jobId === id);
      await until(() => ended(jobId));
      const previews = messages.filter((m) => m.t === 'event' && m.event === 'preview' && m.payload.jobId === jobId);
      expect(previews).toHaveLength(1);
      expect(typeof previews[0].seq).toBe('number');
      expect(messages.filter((m) => m.t === 'event' && m.event === 'progress' && m.payload.jobId === jobId)).toHaveLength(12);

      // Ack every frame from now on: the next job's previews all come through, newest last.
      ws.send(encodeFrame({ t: 'ack', seq: previews[0].seq }));
      ws.on('message', (data) => {
        const m = decodeFrame(data as Buffer) as { t: string; seq?: number };
        if (m.t === 'event' && m.seq !== undefined) ws.send(encodeFrame({ t: 'ack', seq: m.seq }));
      });
      call(2, 'generate', { ...small, steps: 12 });
      await until(() => messages.some((m) => m.t === 'reply' && m.id === 2));
      const job2 = messages.find((m) => m.t === 'reply' && m.id === 2).result.value.jobId;
      await until(() => ended(job2));
      const steps = messages.filter((m) => m.t === 'event' && m.event === 'preview' && m.payload.jobId === job2).map((m) => m.payload.step);
      expect(steps.length).toBeGreaterThan(1);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    } finally {
      ws.close();
    }
  });

  it('closes connections that send text or garbage', async () => {
    for (const bad of ['{"t":"call"}', Buffer.from('not a frame')]) {
      const raw = await tryConnect(`${wsBase}?token=${host.token}`);
      if (!raw.open) throw new Error('no connection');
      const code = await new Promise<number>((resolve) => {
        raw.ws.on('close', (c) => resolve(c));
        raw.ws.send(bad);
      });
      expect(code).toBe(typeof bad === 'string' ? 1003 : 1007);
    }
  });
});
