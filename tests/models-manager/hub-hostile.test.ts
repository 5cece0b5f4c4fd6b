// A hostile or broken hub (issue 13): endless pagination, a next page on another site, a huge tree body, files
// listed without a hash. The client caps pages and bytes, keeps the token on the hub's own origin and refuses
// what it cannot verify.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel, HubClient, listInstalled, ModelManagerError } from '../../src-main/models-manager/index.js';
import { MAX_TREE_PAGE_BYTES, MAX_TREE_PAGES } from '../../src-main/models-manager/hub.js';
import { FakeHub, filesFromFolder, TINY_DIR } from './fake-hub.js';

const REPO = 'test-org/tiny-sd15-onnx';
let hub: FakeHub;
let other: FakeHub;
let tmp: string;

beforeAll(async () => {
  hub = await new FakeHub().start();
  other = await new FakeHub().start();
  hub.addRepo(REPO, filesFromFolder(TINY_DIR));
});
afterAll(async () => {
  await hub?.close();
  await other?.close();
});
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-mm-hostile-'));
  hub.faults = {};
  hub.log.length = 0;
  other.log.length = 0;
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const client = (token?: string): HubClient => new HubClient({ endpoint: hub.url, env: {}, ...(token ? { token } : {}) });

async function failure(p: Promise<unknown>): Promise<ModelManagerError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelManagerError);
    return error as ModelManagerError;
  }
  throw new Error('expected a failure');
}

const treeRequests = (h: FakeHub): number => h.log.filter((q) => q.url.startsWith('/api/models/')).length;

describe('hostile hub', () => {
  it('stops following pages past the cap', async () => {
    hub.faults = { pageSize: 3, endlessPages: MAX_TREE_PAGES + 100 };
    const c = client();
    const e = await failure(c.listFiles(REPO, 'main'));
    expect(e.message).toMatch(new RegExp(`more than ${MAX_TREE_PAGES} pages`));
    expect(treeRequests(hub)).toBe(MAX_TREE_PAGES);
    await c.close();
  });

  it('a next page on another site is refused and never gets the token', async () => {
    hub.faults = { pageSize: 3, nextOrigin: other.url, token: 'hf_secret' };
    const c = client('hf_secret');
    const e = await failure(c.listFiles(REPO, 'main'));
    expect(e.message).toMatch(/another site/);
    expect(other.log).toEqual([]);
    expect(hub.log.every((q) => q.headers.authorization === 'Bearer hf_secret')).toBe(true);
    // Any request to another origin goes out without it.
    await (await c.get(`${other.url}/elsewhere`)).body?.cancel();
    expect(other.log.map((q) => [q.url, q.headers.authorization])).toEqual([['/elsewhere', undefined]]);
    await c.close();
  });

  it('a tree body past the cap is refused while it streams', async () => {
    hub.faults = { treePadding: MAX_TREE_PAGE_BYTES + 4 * 1024 * 1024 };
    const c = client();
    const e = await failure(c.listFiles(REPO, 'main'));
    expect(e.message).toMatch(/larger than the \d+ bytes allowed/);
    await c.close();
    // Under the cap, padding is just whitespace.
    hub.faults = { treePadding: 1024 * 1024 };
    const c2 = client();
    expect((await c2.listFiles(REPO, 'main')).length).toBeGreaterThan(10);
    await c2.close();
  });

  it('a file listed without a hash is not installed', async () => {
    hub.faults = { noHash: new Set(['unet/config.json']) };
    const models = path.join(tmp, 'models');
    const e = await failure(downloadModel({ repo: REPO, modelsDir: models, endpoint: hub.url, env: {}, retryDelayMs: 10, progressIntervalMs: 0 }));
    expect(e.code).toBe('checksum');
    expect(e.message).toMatch(/unet\/config\.json.*cannot be verified/);
    expect(await listInstalled(models)).toEqual([]);
    expect(hub.fileRequests('unet/config.json')).toEqual([]);
    expect(await readdir(models).catch(() => [])).not.toContain('tiny-sd15-onnx');
  });
});
