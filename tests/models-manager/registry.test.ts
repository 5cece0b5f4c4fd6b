// The models folder: import (copy / link), list, remove; and the tree selection / Link parsing helpers.
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  importModel,
  listInstalled,
  ModelManagerError,
  nextLink,
  removeModel,
  selectFiles,
  SOURCE_FILE,
  repoPathProblem,
  validateModelName,
  type TreeEntry,
} from '../../src-main/models-manager/index.js';
import { resolveModelsDir } from '../../src-main/host/paths.js';
import { TINY_DIR } from './fake-hub.js';

let tmp: string;
let models: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ls-mm-reg-'));
  models = path.join(tmp, 'models');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelManagerError);
    return (error as ModelManagerError).code;
  }
  return 'no error';
}

describe('import / list / remove', () => {
  it('copies a supported folder in (atomically) and lists it', async () => {
    const m = await importModel(TINY_DIR, { modelsDir: models });
    expect(m).toMatchObject({ name: 'tiny-sd15', supported: true, variant: 'sd1' });
    expect(m.linkTarget).toBeUndefined();
    expect((await lstat(path.join(models, 'tiny-sd15'))).isDirectory()).toBe(true);
    expect((await stat(path.join(models, 'tiny-sd15', 'unet', 'model.onnx'))).size).toBe((await stat(path.join(TINY_DIR, 'unet', 'model.onnx'))).size);
    // No temp entries left.
    expect(await readdir(models)).toEqual(['tiny-sd15']);
    const list = await listInstalled(models);
    expect(list.map((x) => [x.name, x.supported])).toEqual([['tiny-sd15', true]]);
    expect(await code(importModel(TINY_DIR, { modelsDir: models }))).toBe('exists');
  });

  it('links with --link; removing the link leaves the source alone', async () => {
    const src = path.join(tmp, 'src-model');
    await cp(TINY_DIR, src, { recursive: true });
    const m = await importModel(src, { modelsDir: models, name: 'linked', link: true });
    expect(m.name).toBe('linked');
    expect(m.linkTarget).toBe(src);
    expect((await lstat(path.join(models, 'linked'))).isSymbolicLink()).toBe(true);
    expect((await listInstalled(models))[0]).toMatchObject({ name: 'linked', supported: true });
    const r = await removeModel('linked', models);
    expect(r.linked).toBe(true);
    expect(await readdir(models)).toEqual([]);
    expect((await stat(path.join(src, 'unet', 'model.onnx'))).isFile()).toBe(true);
  });

  it('refuses unsupported folders and bad names; remove of a missing model is model-not-found', async () => {
    const bad = path.join(tmp, 'bad');
    await mkdir(path.join(bad, 'unet'), { recursive: true });
    await writeFile(path.join(bad, 'model_index.json'), '{}');
    expect(await code(importModel(bad, { modelsDir: models }))).toBe('unsupported');
    expect(await code(importModel(path.join(tmp, 'nope'), { modelsDir: models }))).toBe('invalid');
    expect(await code(importModel(TINY_DIR, { modelsDir: models, name: '../escape' }))).toBe('invalid');
    expect(await code(importModel(TINY_DIR, { modelsDir: models, name: '.hidden' }))).toBe('invalid');
    expect(await code(removeModel('ghost', models))).toBe('model-not-found');
    expect(await code(removeModel('..', models))).toBe('invalid');
    expect(() => validateModelName('a/b')).toThrow(ModelManagerError);
    expect(validateModelName(' sd-turbo ')).toBe('sd-turbo');
  });

  it('removes a copied model completely', async () => {
    await importModel(TINY_DIR, { modelsDir: models, name: 'one' });
    await importModel(TINY_DIR, { modelsDir: models, name: 'two' });
    await removeModel('one', models);
    expect(await readdir(models)).toEqual(['two']);
  });

  it('never deletes a folder it did not install (a models folder pointed at a home folder)', async () => {
    const home = path.join(tmp, 'home');
    await mkdir(path.join(home, 'Documents'), { recursive: true });
    await writeFile(path.join(home, 'Documents', 'thesis.txt'), 'irreplaceable');
    expect(await code(removeModel('Documents', home))).toBe('invalid');
    expect(await readFile(path.join(home, 'Documents', 'thesis.txt'), 'utf8')).toBe('irreplaceable');
    // A real model the user copied in by hand is theirs too.
    await cp(TINY_DIR, path.join(home, 'hand-copied'), { recursive: true });
    expect(await code(removeModel('hand-copied', home))).toBe('invalid');
    // A marker that is a link (to a file of ours elsewhere) does not count.
    const ours = await importModel(TINY_DIR, { modelsDir: models, name: 'ours' });
    await symlink(path.join(ours.dir, SOURCE_FILE), path.join(home, 'hand-copied', SOURCE_FILE));
    expect(await code(removeModel('hand-copied', home))).toBe('invalid');
    expect((await stat(path.join(home, 'hand-copied', 'unet', 'model.onnx'))).isFile()).toBe(true);
    // What the manager imported carries the marker and is removed.
    expect(JSON.parse(await readFile(path.join(ours.dir, SOURCE_FILE), 'utf8'))).toMatchObject({ importedFrom: TINY_DIR });
    await removeModel('ours', models);
    expect(await readdir(models)).toEqual([]);
  });

  it('lists nothing for a missing folder; skips hidden entries; reports broken links', async () => {
    expect(await listInstalled(path.join(tmp, 'none'))).toEqual([]);
    await mkdir(path.join(models, '.downloads', 'x'), { recursive: true });
    await symlink(path.join(tmp, 'gone'), path.join(models, 'dangling'));
    const list = await listInstalled(models);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'dangling', supported: false });
    expect(list[0]!.problems[0]).toMatch(/broken link/);
  });

  it('models folder: option, then LATENT_STUDIO_MODELS_DIR, then settings, then the per-user default', async () => {
    const settingsFile = path.join(tmp, 'settings.json');
    expect(await resolveModelsDir({ modelsDir: 'rel', env: {}, settingsFile })).toEqual({ dir: path.resolve('rel'), from: 'option' });
    expect(await resolveModelsDir({ env: { LATENT_STUDIO_MODELS_DIR: '/m' }, settingsFile })).toEqual({ dir: path.resolve('/m'), from: 'env' });
    expect((await resolveModelsDir({ env: { XDG_DATA_HOME: '/xdg' }, settingsFile })).from).toBe('default');
    await writeFile(settingsFile, JSON.stringify({ userModelsDir: '/from/settings' }));
    expect(await resolveModelsDir({ env: {}, settingsFile })).toEqual({ dir: '/from/settings', from: 'settings' });
  });
});

describe('tree selection', () => {
  const f = (p: string, size = 10, lfs = false): TreeEntry => ({ type: 'file', path: p, size, oid: 'a'.repeat(40), ...(lfs ? { lfs: { oid: 'b'.repeat(64), size } } : {}) });
  it('keeps the pipeline files and skips other formats and variants', () => {
    const tree = [
      f('model_index.json'),
      f('README.md'),
      f('scheduler/scheduler_config.json'),
      f('tokenizer/vocab.json'),
      f('tokenizer/merges.txt'),
      f('text_encoder/model.onnx', 100, true),
      f('text_encoder/config.json'),
      f('unet/model.onnx', 100, true),
      f('unet/model.onnx_data', 5000, true),
      f('unet/weights.pb', 50, true),
      f('unet/diffusion_pytorch_model.safetensors', 5000, true),
      f('unet/diffusion_pytorch_model.bin', 5000, true),
      f('unet/model_fp16.onnx', 50, true),
      f('unet/fp16/model.onnx', 50, true),
      f('vae_decoder/model.onnx', 100, true),
      f('vae_encoder/model.onnx', 100, true),
      f('safety_checker/model.onnx', 100, true),
      f('v1-5-pruned.ckpt', 100, true),
    ];
    const picked = selectFiles(tree, 'o/r').map((x) => x.local);
    expect(picked).toEqual([
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/config.json',
      'text_encoder/model.onnx',
      'tokenizer/merges.txt',
      'tokenizer/vocab.json',
      'unet/model.onnx',
      'unet/model.onnx_data',
      'unet/weights.pb',
      'vae_decoder/model.onnx',
      'vae_encoder/model.onnx',
    ]);
    const unet = selectFiles(tree, 'o/r').find((x) => x.local === 'unet/model.onnx_data')!;
    expect(unet).toMatchObject({ size: 5000, sha256: 'b'.repeat(64) });
    expect(selectFiles(tree, 'o/r').find((x) => x.local === 'model_index.json')!.gitSha1).toBe('a'.repeat(40));
  });

  it("keeps SDXL's second text encoder and tokenizer", () => {
    const tree = ['model_index.json', 'scheduler/scheduler_config.json', 'tokenizer/vocab.json', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt', 'text_encoder/model.onnx', 'text_encoder_2/model.onnx', 'text_encoder_2/model.onnx_data', 'text_encoder_2/config.json', 'unet/model.onnx', 'vae_decoder/model.onnx'].map((p) => f(p, 10, p.includes('onnx')));
    const picked = selectFiles(tree, 'o/r').map((x) => x.local);
    expect(picked).toEqual(expect.arrayContaining(['tokenizer_2/vocab.json', 'tokenizer_2/merges.txt', 'text_encoder_2/model.onnx', 'text_encoder_2/model.onnx_data', 'text_encoder_2/config.json']));
    expect(picked).toHaveLength(tree.length);
  });

  it('refuses repository file names that escape or mean something else on any platform (before any join)', () => {
    const base = ['model_index.json', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'].map((p) => f(p, 10, p.endsWith('.onnx')));
    const hostile = [
      'tokenizer/..\\..\\..\\..\\evil-win.json', // a literal name on Linux, four levels up with path.win32
      'tokenizer/C:evil.json',
      'tokenizer/vocab.json:stream.json',
      'tokenizer/NUL.json',
      'tokenizer/com1.txt',
      'tokenizer/a\u0000b.json',
    ];
    for (const name of hostile) {
      let error: unknown;
      try {
        selectFiles([...base, f(name)], 'o/r');
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(ModelManagerError);
      expect((error as ModelManagerError).code).toBe('invalid');
      expect((error as Error).message).toContain('unsafe name');
    }
    for (const p of ['/etc/passwd', '../up', 'a//b', 'a/./b', 'x\\y', 'D:/x', 'aux', 'lpt9.log', 'ok/name.', 'ok/name ']) expect(repoPathProblem(p), p).not.toBeNull();
    for (const p of ['unet/model.onnx', 'tokenizer/merges.txt', 'a b/c-d_e.json', 'console.json', 'nullable/x']) expect(repoPathProblem(p), p).toBeNull();
    expect(() => selectFiles(base, 'o/r', '..\\..\\x')).toThrow(/Bad subfolder/);
  });

  it('refuses a file the hub gives no hash for (it could not be verified)', () => {
    const tree = ['model_index.json', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'].map((p) => f(p, 10, p.endsWith('.onnx')));
    expect(selectFiles(tree, 'o/r')).toHaveLength(4);
    const noOid = tree.map((e) => (e.path === 'model_index.json' ? { ...e, oid: '' } : e));
    expect(() => selectFiles(noOid, 'o/r')).toThrow(expect.objectContaining({ code: 'checksum' }));
    const badLfs = tree.map((e) => (e.path === 'unet/model.onnx' ? { ...e, lfs: { oid: 'not-a-sha', size: 10 } } : e));
    expect(() => selectFiles(badLfs, 'o/r')).toThrow(/cannot be verified/);
  });

  it('parses Link headers', () => {
    expect(nextLink('<https://hf.co/api/models/a/b/tree/main?cursor=xyz>; rel="next"')).toBe('https://hf.co/api/models/a/b/tree/main?cursor=xyz');
    expect(nextLink('<https://x/1>; rel="prev", <https://x/3>; rel="next"')).toBe('https://x/3');
    expect(nextLink('<https://x/1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
  });
});
