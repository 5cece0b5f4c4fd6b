// Electron main process: one hardened window, the studio service over IPC, the engine in a utilityProcess.
// Everything studio-specific lives in src-main/host (plain Node, tested without Electron); this file only wires
// Electron to it.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, net, protocol, shell, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { contentSecurityPolicy } from '../host/csp.js';
import { ChannelEngineClient } from '../host/engine.js';
import { StudioService, type StudioConnection } from '../host/studio-service.js';
import { IPC_ACK, IPC_EVENT, IPC_INVOKE } from '../shared/ipc.js';
import { devToolsAllowed } from './dev-tools.main.js';
import { utilityProcessChannel } from './engine-process.main.js';
import { installAppMenu } from './menu.main.js';
import { APP_HOST, APP_SCHEME, hardenContents, hardenSession, isTrustedUrl } from './security.main.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // out/main
const devServer = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
const rendererDir = path.join(here, '..', 'renderer');
const preloadFile = path.join(here, '..', 'preload', 'index.cjs');
const engineEntry = path.join(here, 'engine-host.js');

// Overrides (tests, portable setups): LATENT_STUDIO_MODELS_DIR (bundled models), LATENT_STUDIO_USER_DATA (settings).
if (process.env['LATENT_STUDIO_USER_DATA']) app.setPath('userData', path.resolve(process.env['LATENT_STUDIO_USER_DATA']));
const bundledModelsDir = process.env['LATENT_STUDIO_MODELS_DIR']
  ? path.resolve(process.env['LATENT_STUDIO_MODELS_DIR'])
  : app.isPackaged
    ? path.join(process.resourcesPath, 'models')
    : path.join(here, '..', '..', 'resources', 'models'); // <repo>/out/main → <repo>/resources/models

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);

let service: StudioService | undefined;
const connections = new Map<number, StudioConnection>();

function serveApp(): void {
  const csp = contentSecurityPolicy();
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST || request.method !== 'GET') return new Response('not found', { status: 404 });
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return new Response('bad path', { status: 400 });
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.resolve(rendererDir, `.${pathname}`);
    if (!file.startsWith(rendererDir + path.sep)) return new Response('forbidden', { status: 403 });
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    if (file.endsWith('.js') || file.endsWith('.mjs')) headers.set('Content-Type', 'text/javascript; charset=utf-8');
    return new Response(res.body, { status: res.status, headers });
  });
}

/** The page's connection to the service: made when its document starts loading, or on its first call. */
function connectionFor(contents: WebContents): StudioConnection | undefined {
  const existing = connections.get(contents.id);
  if (existing || !service) return existing;
  const connection = service.connect({
    send(event, payload, seq) {
      if (!contents.isDestroyed()) contents.send(IPC_EVENT, event, payload, seq);
    },
  });
  connections.set(contents.id, connection);
  return connection;
}

/** A new document (first load, reload): a fresh connection, so no preview stays "in flight" for a page that is gone. */
function reconnect(contents: WebContents): void {
  connections.get(contents.id)?.close();
  connections.delete(contents.id);
  connectionFor(contents);
}

function trustedSender(event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame === event.sender.mainFrame && isTrustedUrl(frame.url, devServer);
}

function registerIpc(): void {
  ipcMain.handle(IPC_INVOKE, async (event, channel: unknown, payload: unknown) => {
    if (!trustedSender(event)) return { ok: false, error: { code: 'forbidden', message: 'IPC from an untrusted frame.' } };
    const connection = connectionFor(event.sender);
    if (!connection) return { ok: false, error: { code: 'engine-unavailable', message: 'The studio is not ready.' } };
    return connection.invoke(channel, payload);
  });
  ipcMain.on(IPC_ACK, (event, seq: unknown) => {
    if (typeof seq === 'number' && trustedSender(event)) connections.get(event.sender.id)?.ack(seq);
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Latent Studio',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: devToolsAllowed(app.isPackaged),
    },
  });
  const contents = win.webContents;
  hardenContents(contents);
  const id = contents.id;
  contents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) reconnect(contents);
  });
  const drop = (): void => {
    connections.get(id)?.close();
    connections.delete(id);
  };
  contents.on('render-process-gone', drop);
  win.on('closed', drop);
  win.once('ready-to-show', () => win.show());
  if (devServer) void win.loadURL(devServer);
  else void win.loadURL(`${APP_SCHEME}://${APP_HOST}/index.html`);
  return win;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  await app.whenReady();
  hardenSession(devServer);
  serveApp();
  if (!existsSync(engineEntry)) console.error(`latent-studio: engine entry missing: ${engineEntry}`);
  service = await StudioService.create({
    engine: new ChannelEngineClient(() => utilityProcessChannel(engineEntry)),
    bundledModelsDir,
    settingsFile: path.join(app.getPath('userData'), 'settings.json'),
    host: 'electron',
    // Gallery: Pictures/Latent Studio (settings.outputDir overrides); with LATENT_STUDIO_USER_DATA (tests) <userData>/outputs.
    ...(process.env['LATENT_STUDIO_USER_DATA'] ? {} : { defaultOutputDir: path.join(app.getPath('pictures'), 'Latent Studio') }),
    revealFile: (file) => shell.showItemInFolder(file),
    appName: app.getName(),
    version: app.getVersion(),
    log: (level, message) => (level === 'error' ? console.error : console.warn)(`latent-studio: ${message}`),
  });
  registerIpc();
  installAppMenu(devToolsAllowed(app.isPackaged));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !service) return;
  event.preventDefault();
  quitting = true;
  void service.close().finally(() => app.quit());
});
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

main().catch((error: unknown) => {
  console.error('latent-studio: failed to start', error);
  app.exit(1);
});
