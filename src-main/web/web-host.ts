// The browser host (`latent-studio serve`): the built renderer over HTTP and the studio contract over one
// WebSocket, both on 127.0.0.1 only, guarded by a random token (printed URL: http://127.0.0.1:PORT/#token=…).
// Frames are binary (src-main/shared/wire.ts): previews and PNGs travel as raw bytes.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ChannelEngineClient, processWorkerChannel, type StudioEngine } from '../host/engine.js';
import { contentSecurityPolicy } from '../host/csp.js';
import { sharpWebpThumbnailer } from '../gallery/sharp-thumbnailer.js';
import { defaultBundledModelsDir, defaultOutputDir, defaultSettingsFile } from '../host/paths.js';
import { StudioService, type LogLevel, type StudioConnection } from '../host/studio-service.js';
import {
  decodeFrame,
  encodeFrame,
  MAX_BUFFERED_BYTES,
  MAX_CONNECTIONS,
  MAX_FRAME_BYTES,
  parseClientMessage,
  WEB_SOCKET_PATH,
  WIRE_PROTOCOL_VERSION,
  type ServerMessage,
} from '../shared/wire.js';

export interface WebHostOptions {
  /** TCP port; 0 or omitted = a free port. */
  port?: number;
  /** Only '127.0.0.1' (the studio is never exposed to the network). */
  host?: '127.0.0.1';
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Bundled models folder (default: <repo>/resources/models). */
  modelsDir?: string;
  /** Settings JSON (default: the per-user config folder's latent-studio/settings.json). */
  settingsFile?: string;
  /**
   * The gallery folder while settings.outputDir is null. Default: the per-user Pictures/Latent Studio, or
   * <settings folder>/outputs when a settingsFile is given (tests, portable setups).
   */
  defaultOutputDir?: string;
  /** An existing service to serve (its engine and settings are used; close() leaves it running). */
  service?: StudioService;
  /** The engine for a new service (default: the engine worker in a worker thread). */
  engine?: StudioEngine;
  /** Fixed token (tests); default: 32 random bytes, base64url. */
  token?: string;
  version?: string;
  log?: (level: LogLevel, message: string) => void;
  /** At most this many WebSocket connections at once (default MAX_CONNECTIONS); more are refused with 503. */
  maxConnections?: number;
  /** At most this many bytes held for all connections together (default MAX_BUFFERED_BYTES); see wire.ts. */
  maxBufferedBytes?: number;
}

export interface WebHost {
  /** http://127.0.0.1:PORT/#token=TOKEN — open this. */
  url: string;
  token: string;
  port: number;
  service: StudioService;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function rawSize(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, part) => n + part.byteLength, 0) : data.byteLength;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  if (options.host !== undefined && options.host !== '127.0.0.1') {
    throw new Error(`the browser host listens on 127.0.0.1 only (got host ${JSON.stringify(options.host)})`);
  }
  const log = options.log ?? (() => undefined);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const rendererDir = path.resolve(options.rendererDir);
  const ownService = options.service === undefined;
  const service =
    options.service ??
    (await StudioService.create({
      engine: options.engine ?? new ChannelEngineClient(() => processWorkerChannel()),
      bundledModelsDir: options.modelsDir ?? defaultBundledModelsDir(),
      settingsFile: options.settingsFile ?? defaultSettingsFile(),
      ...(options.defaultOutputDir !== undefined ? { defaultOutputDir: options.defaultOutputDir } : options.settingsFile === undefined ? { defaultOutputDir: defaultOutputDir() } : {}),
      host: 'web',
      thumbnailer: sharpWebpThumbnailer,
      ...(options.version !== undefined ? { version: options.version } : {}),
      log,
    }));

  let port = 0;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);
  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] }),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const server = http.createServer((req, res) => {
    void serveStatic(req, res).catch((error: unknown) => {
      log('error', `web host: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error');
    });
  });

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: only our own host names.
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      res.writeHead(421, { 'Content-Type': 'text/plain' });
      res.end('wrong host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end('method not allowed');
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('bad path');
      return;
    }
    if (pathname === WEB_SOCKET_PATH) {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
      res.end('WebSocket only');
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.resolve(rendererDir, `.${pathname}`);
    if (file !== rendererDir && !file.startsWith(rendererDir + path.sep)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden');
      return;
    }
    let info;
    try {
      info = await stat(file);
    } catch {
      info = undefined;
    }
    if (!info?.isFile()) {
      if (pathname === '/index.html') {
        res.writeHead(503, { ...securityHeaders(), 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(
          `<!doctype html><meta charset="utf-8"><title>Latent Studio</title><p>The studio UI is not built: no ${rendererDir}/index.html. ` +
            'Build it first (<code>npm run build:studio</code>).</p>',
        );
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...securityHeaders(),
      'Content-Type': type,
      'Content-Length': String(info.size),
      'Cache-Control': pathname === '/index.html' ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  const maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  const maxBufferedBytes = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;

  // What each connection holds: bytes of the frame being received (counted off the raw socket, since ws buffers a
  // frame whole before it emits it) and of the calls not yet answered. Its unread output is ws.bufferedAmount.
  interface Held {
    receiving: number;
    calls: number;
    messageEnded: boolean;
  }
  const held = new Map<WebSocket, Held>();
  const totalHeld = (): number => {
    let total = 0;
    for (const [ws, h] of held) total += h.receiving + h.calls + ws.bufferedAmount;
    return total;
  };
  /** Drops `ws` when all connections together hold more than the budget (it is the one that just added to it). */
  const withinBudget = (ws: WebSocket): boolean => {
    if (totalHeld() <= maxBufferedBytes) return true;
    log('warning', `web host: dropped a connection: the connections hold more than ${maxBufferedBytes} bytes together`);
    held.delete(ws);
    ws.terminate(); // not close(): a closing socket would go on buffering its peer's frame
    return false;
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string): void => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      socket.destroy();
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      refuse(400, 'Bad Request');
      return;
    }
    if (url.pathname !== WEB_SOCKET_PATH) return refuse(404, 'Not Found');
    if (!allowedHosts().includes(req.headers.host ?? '')) return refuse(421, 'Misdirected Request');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin)) {
      log('warning', `web host: refused a WebSocket from origin ${origin}`);
      return refuse(403, 'Forbidden');
    }
    if (!sameToken(url.searchParams.get('token'), token)) {
      log('warning', 'web host: refused a WebSocket with a wrong or missing token');
      return refuse(401, 'Unauthorized');
    }
    // handleUpgrade completes synchronously (no verifyClient), so `sockets` already counts every accepted upgrade.
    if (sockets.size >= maxConnections) {
      log('warning', `web host: refused a WebSocket: already ${sockets.size} connections (at most ${maxConnections})`);
      return refuse(503, 'Service Unavailable');
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket));
  });

  function onConnection(ws: WebSocket, socket: Duplex): void {
    sockets.add(ws);
    const mine: Held = { receiving: 0, calls: 0, messageEnded: false };
    held.set(ws, mine);
    // ws reads the socket first (its listener was added by handleUpgrade): by the time this one runs, a message
    // that ended in this chunk has been emitted, and the frame being received starts afresh.
    socket.on('data', (chunk: Buffer) => {
      if (mine.messageEnded) {
        mine.receiving = 0;
        mine.messageEnded = false;
      } else {
        mine.receiving += chunk.byteLength;
      }
      withinBudget(ws);
    });
    const sendMessage = (m: ServerMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(encodeFrame(m), { binary: true });
      withinBudget(ws);
    };
    sendMessage({ t: 'hello', protocol: WIRE_PROTOCOL_VERSION, host: 'web' });
    const connection: StudioConnection = service.connect({
      send(event, payload, seq) {
        sendMessage({ t: 'event', event, payload, ...(seq !== undefined ? { seq } : {}) } as ServerMessage);
      },
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      mine.messageEnded = true;
      if (!isBinary) {
        ws.close(1003, 'binary frames only');
        return;
      }
      let msg;
      try {
        msg = parseClientMessage(decodeFrame(data as Uint8Array | ArrayBuffer | Uint8Array[]));
      } catch (error) {
        ws.close(1007, `bad frame: ${(error as Error).message}`.slice(0, 120));
        return;
      }
      if (msg.t === 'ack') {
        connection.ack(msg.seq);
        return;
      }
      const id = msg.id;
      const size = rawSize(data);
      mine.calls += size;
      mine.receiving = 0;
      if (!withinBudget(ws)) return;
      void connection.invoke(msg.channel, msg.payload).then((result) => {
        mine.calls -= size;
        try {
          sendMessage({ t: 'reply', id, result });
        } catch (error) {
          sendMessage({ t: 'reply', id, result: { ok: false, error: { code: 'internal', message: `cannot send the reply: ${(error as Error).message}` } } });
        }
      });
    });
    ws.on('close', () => {
      sockets.delete(ws);
      held.delete(ws);
      connection.close();
    });
    ws.on('error', () => undefined);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/#token=${token}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    port,
    service,
    close() {
      closing ??= (async () => {
        for (const ws of sockets) ws.close(1001, 'server shutting down');
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const ws of sockets) ws.terminate();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownService) await service.close();
      })();
      return closing;
    },
  };
}
