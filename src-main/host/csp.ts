// The renderer's Content-Security-Policy, shared by the Electron main process (custom protocol + session
// headers) and the browser host (HTTP header). No remote content: everything comes from the app itself.
export interface CspOptions {
  /** Extra connect-src sources (the browser host adds its ws://127.0.0.1:PORT). */
  connect?: string[];
  /** electron-vite dev server: allow its origin and HMR socket. */
  devServer?: string;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const dev = options.devServer ? new URL(options.devServer) : undefined;
  const devWs = dev ? `${dev.protocol === 'https:' ? 'wss' : 'ws'}://${dev.host}` : undefined;
  const self = ["'self'", ...(dev ? [dev.origin] : [])];
  const directives: Record<string, string[]> = {
    'default-src': ["'none'"],
    'script-src': [...self],
    // Svelte and Konva set style attributes; no remote stylesheets.
    'style-src': [...self, "'unsafe-inline'"],
    'img-src': [...self, 'data:', 'blob:'],
    'font-src': [...self, 'data:'],
    'connect-src': [...self, ...(devWs ? [devWs] : []), ...(options.connect ?? [])],
    'worker-src': [...self, 'blob:'],
    'media-src': ["'none'"],
    'object-src': ["'none'"],
    'frame-src': ["'none'"],
    'child-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}
