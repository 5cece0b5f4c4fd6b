// Window hardening: no new windows, no navigation, no webviews, no permissions, no remote content.
import { app, session, type WebContents } from 'electron';
import { contentSecurityPolicy } from '../host/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** Origins the renderer may be loaded from: the app protocol, or the electron-vite dev server. */
export function trustedOrigins(devServer: string | undefined): string[] {
  return [APP_ORIGIN, ...(devServer ? [new URL(devServer).origin] : [])];
}

export function isTrustedUrl(url: string | undefined, devServer: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    const origin = u.protocol === `${APP_SCHEME}:` ? `${APP_SCHEME}://${u.host}` : u.origin;
    return trustedOrigins(devServer).includes(origin);
  } catch {
    return false;
  }
}

export function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function hardenSession(devServer: string | undefined): void {
  const ses = session.defaultSession;
  const csp = contentSecurityPolicy(devServer ? { devServer } : {});
  // The app protocol sets the CSP itself; this covers the dev server (http) and anything else.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  // Block every request that is not ours (no remote content), e.g. an <img src="https://…"> in a prompt preview.
  ses.webRequest.onBeforeRequest((details, callback) => {
    const ok =
      details.url.startsWith(`${APP_ORIGIN}/`) ||
      details.url.startsWith('data:') ||
      details.url.startsWith('blob:') ||
      details.url.startsWith('devtools:') ||
      (devServer !== undefined && (details.url.startsWith(new URL(devServer).origin) || details.url.startsWith(new URL(devServer).origin.replace(/^http/, 'ws'))));
    callback({ cancel: !ok });
  });
  // Copying an image to the clipboard and full screen are all the renderer may ask for.
  const allowed = new Set(['clipboard-sanitized-write', 'fullscreen']);
  ses.setPermissionRequestHandler((wc, permission, callback) => callback(allowed.has(permission) && isTrustedUrl(wc.getURL(), devServer)));
  ses.setPermissionCheckHandler((_wc, permission, origin) => allowed.has(permission) && isTrustedUrl(origin, devServer));
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
}
