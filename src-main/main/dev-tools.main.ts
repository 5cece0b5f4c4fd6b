// Whether the studio window may open Chromium's DevTools. No Electron import: tests call it directly.

/**
 * DevTools only in development (electron-vite dev, `electron .`). A packaged app never opens them, whatever its
 * environment says: DevTools in the renderer reach the preload bridge, i.e. the whole studio API (files,
 * models, settings), and an environment variable is something other software on the machine can set.
 */
export function devToolsAllowed(isPackaged: boolean): boolean {
  return !isPackaged;
}
