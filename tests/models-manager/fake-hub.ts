// A loopback server that speaks the Hugging Face hub's API for what the model manager uses:
//   GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=true   (paginated with Link: <…>; rel="next")
//   GET /{repo}/resolve/{rev}/{path}                              (302 to /cdn/…, Range → 206)
// plus fault injection (dropped connections, wrong bytes, 404s, 5xx, slow bodies) and a request log.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TINY_DIR = path.join(repoRoot, 'tests', 'models', 'tiny-sd15');

export interface FakeFile {
  path: string;
  data: Buffer;
  lfs: boolean;
}

export interface LoggedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Faults {
  /** Drop the connection after sending this many body bytes of the file, `times` times. */
  drop?: Record<string, { afterBytes: number; times: number }>;
  /** Serve these bytes instead of the real content (same length: a checksum error). */
  corrupt?: Set<string>;
  /** 404 for these files (the tree still lists them). */
  missing?: Set<string>;
  /** Answer 503 this many times before serving the file. */
  unavailable?: Record<string, number>;
  /** Ignore Range (always 200 with the whole file). */
  noRange?: boolean;
  /**
   * Body chunks of this many bytes with this delay between them (ms), and the last chunk held back until
   * `until` resolves: however busy the machine, the file cannot finish before the test says so.
   */
  slow?: { chunk: number; delayMs: number; files?: Set<string>; until: Promise<void> };
  /** Require `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Tree page size (default: everything in one page). */
  pageSize?: number;
  /** Hostile tree: pages keep linking to a next one (empty past the files) until this many were served. */
  endlessPages?: number;
  /** Hostile tree: the next-page link points at this origin (e.g. another FakeHub's url) instead of the hub's. */
  nextOrigin?: string;
  /** Hostile tree: this many bytes of JSON whitespace before the page, streamed without Content-Length. */
  treePadding?: number;
  /** Hostile tree: these files are listed without an oid or LFS hash. */
  noHash?: Set<string>;
}

/** Git's blob sha1 ("blob <size>\0" + content): what the hub's `oid` is for non-LFS files. */
export function gitBlobSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function walk(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/** A folder as repository files: .onnx (and other binaries) as LFS, the rest as git files. */
export function filesFromFolder(dir: string, prefix = ''): FakeFile[] {
  return walk(dir).map((rel) => ({
    path: prefix + rel,
    data: readFileSync(path.join(dir, rel)),
    lfs: !/\.(json|txt)$/.test(rel),
  }));
}

/** A server-side gate that the test opens. */
export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}

export class FakeHub {
  readonly repos = new Map<string, FakeFile[]>();
  readonly log: LoggedRequest[] = [];
  faults: Faults = {};
  private server: http.Server;
  private sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addRepo(repo: string, files: FakeFile[]): void {
    this.repos.set(repo, files);
  }

  /** Requests for one file (resolve or cdn). */
  fileRequests(file: string): LoggedRequest[] {
    return this.log.filter((r) => (r.url.includes('/resolve/') || r.url.startsWith('/cdn/')) && decodeURIComponent(r.url.split('?')[0]!).endsWith(`/${file}`));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.log.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    const f = this.faults;
    const url = new URL(req.url ?? '/', 'http://x');
    if (f.token && req.headers.authorization !== `Bearer ${f.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Invalid credentials"}');
      return;
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (m) {
      const files = this.repos.get(decodeURIComponent(m[1]!));
      if (!files || decodeURIComponent(m[2]!) !== 'main') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
        return;
      }
      const sub = m[3] ? decodeURIComponent(m[3].slice(1)) + '/' : '';
      const entries: unknown[] = [];
      const dirs = new Set<string>();
      for (const file of files) {
        if (!file.path.startsWith(sub)) continue;
        const parts = file.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
        if (f.noHash?.has(file.path)) {
          entries.push({ type: 'file', path: file.path, size: file.data.length });
          continue;
        }
        entries.push({
          type: 'file',
          path: file.path,
          size: file.data.length,
          oid: gitBlobSha1(file.lfs ? Buffer.from(`pointer ${file.path}`) : file.data),
          ...(file.lfs ? { lfs: { oid: sha256(file.data), size: file.data.length, pointerSize: 134 } } : {}),
        });
      }
      for (const d of dirs) if (d.startsWith(sub.slice(0, -1)) || !sub) entries.push({ type: 'directory', path: d, size: 0, oid: 'd'.repeat(40) });
      const size = f.pageSize ?? entries.length;
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + size);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + size < entries.length || cursor / size + 1 < (f.endlessPages ?? 0)) {
        const next = new URL(`${f.nextOrigin ?? this.url}${url.pathname}`);
        next.searchParams.set('recursive', 'true');
        next.searchParams.set('cursor', String(cursor + size));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      if (f.treePadding) return this.padded(req, res, headers, f.treePadding, JSON.stringify(page));
      res.writeHead(200, headers).end(JSON.stringify(page));
      return;
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      // Like the hub: LFS files redirect to a CDN URL.
      const repo = decodeURIComponent(m[1]!);
      const file = decodeURIComponent(m[3]!);
      const hit = this.repos.get(repo)?.find((x) => x.path === file);
      if (!hit || f.missing?.has(file)) {
        res.writeHead(404, { 'content-type': 'text/plain', 'x-error-code': 'EntryNotFound' }).end('Entry not found');
        return;
      }
      if (hit.lfs) {
        res.writeHead(302, { location: `/cdn/${encodeURIComponent(repo)}/${m[3]}` }).end();
        return;
      }
      return this.serveFile(req, res, file, hit);
    }
    m = /^\/cdn\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const file = decodeURIComponent(m[2]!);
      const hit = this.repos.get(decodeURIComponent(m[1]!))?.find((x) => x.path === file);
      if (!hit) {
        res.writeHead(404).end();
        return;
      }
      return this.serveFile(req, res, file, hit);
    }
    res.writeHead(404).end('not found');
  }

  /** `padding` bytes of spaces then `json`, chunked (no Content-Length), stopping when the client goes away. */
  private async padded(req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>, padding: number, json: string): Promise<void> {
    res.writeHead(200, headers);
    const spaces = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent < padding; sent += spaces.length) {
      if (res.destroyed || req.destroyed) return;
      if (!res.write(spaces.subarray(0, Math.min(spaces.length, padding - sent)))) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
    res.end(json);
  }

  private async serveFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, hit: FakeFile): Promise<void> {
    const f = this.faults;
    if (f.unavailable?.[file]) {
      f.unavailable[file]--;
      res.writeHead(503).end('busy');
      return;
    }
    let data = hit.data;
    if (f.corrupt?.has(file)) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !f.noRange) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    const drop = f.drop?.[file];
    const slow = f.slow && (!f.slow.files || f.slow.files.has(file)) ? f.slow : undefined;
    if (drop && drop.times > 0) {
      drop.times--;
      const n = Math.max(0, drop.afterBytes - start);
      // Once those bytes are handed to the socket, close it: the client reads them, then a premature end.
      res.write(body.subarray(0, n), () => res.socket?.end());
      return;
    }
    if (!slow) {
      res.end(body);
      return;
    }
    const last = Math.max(0, body.length - slow.chunk);
    for (let i = 0; i < last; i += slow.chunk) {
      if (res.destroyed || req.destroyed) return;
      res.write(body.subarray(i, Math.min(i + slow.chunk, last)));
      await new Promise((r) => setTimeout(r, slow.delayMs));
    }
    await slow.until;
    if (res.destroyed || req.destroyed) return;
    res.end(body.subarray(last));
  }
}

/** A plain HTTP forward proxy (absolute-form requests, no CONNECT) that records what went through it. */
export class FakeProxy {
  readonly seen: string[] = [];
  private server: http.Server;
  url = '';
  constructor() {
    this.server = http.createServer((req, res) => {
      this.seen.push(`${req.method} ${req.url}`);
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res.writeHead(400).end('absolute-form only');
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      const up = http.request(target, { method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    this.server.on('connect', (req, socket) => {
      this.seen.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function statSize(p: string): number {
  return statSync(p).size;
}
