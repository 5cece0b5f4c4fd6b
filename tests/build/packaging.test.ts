// The packaged Electron app: fuses that keep it from being used as a general Node/Electron runtime, macOS
// entitlements without disable-library-validation, and no DevTools in a packaged build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { devToolsAllowed } from '../../src-main/main/dev-tools.main.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));

/** The builder config as electron-builder itself loads and validates it (its JSON schema). */
async function builderConfig(): Promise<Record<string, any>> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger } = require('builder-util');
  const config = await getConfig(root, path.join(root, 'build/electron-builder.yml'), null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

describe('packaged app', () => {
  it('flips the fuses: no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect; the app only from an integrity-checked asar', async () => {
    const config = await builderConfig();
    expect(config['asar']).toBe(true);
    expect(config['electronFuses']).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('macOS: hardened runtime with library validation (only allow-jit as an exception)', async () => {
    const config = await builderConfig();
    expect(config['mac']).toMatchObject({ hardenedRuntime: true, entitlements: 'build/entitlements.mac.plist', entitlementsInherit: 'build/entitlements.mac.plist' });
    const plist = readFileSync(path.join(root, 'build/entitlements.mac.plist'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>\s*<true\/>/g)].map((m) => m[1]);
    expect(keys).toEqual(['com.apple.security.cs.allow-jit']);
  });

  it('no DevTools in a packaged build, whatever the environment says', () => {
    const saved = process.env['LATENT_STUDIO_DEVTOOLS'];
    process.env['LATENT_STUDIO_DEVTOOLS'] = '1';
    try {
      expect(devToolsAllowed(true)).toBe(false);
      expect(devToolsAllowed(false)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['LATENT_STUDIO_DEVTOOLS'];
      else process.env['LATENT_STUDIO_DEVTOOLS'] = saved;
    }
    // The window and the menu both ask devToolsAllowed, and nothing in the main process reads a DevTools variable.
    const main = readFileSync(path.join(root, 'src-main/main/index.main.ts'), 'utf8');
    expect(main).toContain('devTools: devToolsAllowed(app.isPackaged)');
    expect(main).toContain('installAppMenu(devToolsAllowed(app.isPackaged))');
    expect(main).not.toMatch(/DEVTOOLS/);
  });
});
