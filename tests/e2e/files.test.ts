// End-to-end: the file commands in Chromium against the browser host. Save the document as .ora with
// Ctrl+S (a download), check it with Python's zipfile, start a new document, reopen the .ora through the
// file input and compare image and mask pixel for pixel; export an accepted generation as PNG with
// Ctrl+Shift+E and read its A1111 `parameters` back.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageMetadata } from '../../src-main/engine/image/metadata.js';
import { browserMissingReason, launchChromium } from './support/browser.js';
import { buildRenderer } from './support/build-renderer.js';
import { hostMissingReason, startHost, type RunningHost } from './support/host.js';
import { ARTIFACTS, drawStroke, gradientPng, openImage, screenshot, selectModel, setNumber } from './support/page.js';

const externalUrl = process.env.LATENT_STUDIO_E2E_URL;
const skipReason = browserMissingReason() ?? (externalUrl ? null : hostMissingReason());
if (skipReason) console.warn(`[e2e] skipping the file tests: ${skipReason}`);

const mode = (page: Page) => page.textContent('[data-testid=mode]');

/** The document as plain arrays: size, image RGBA (or null) and mask bytes. */
function documentPixels(page: Page) {
  return page.evaluate(() => {
    const doc = (window as any).__latentStudio.studio.doc;
    return {
      width: doc.width as number,
      height: doc.height as number,
      image: doc.image ? Array.from(doc.image.data as Uint8ClampedArray) : null,
      mask: Array.from(doc.mask.data as Uint8Array),
    };
  });
}

async function downloaded(page: Page, keys: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press(keys)]);
  return { name: download.suggestedFilename(), bytes: await readDownload(download) };
}

async function readDownload(download: Download): Promise<Buffer> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(skipReason !== null)('files in the browser host', () => {
  let host: RunningHost | null = null;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    let url = externalUrl;
    if (!url) {
      if (!process.env.LATENT_STUDIO_SKIP_RENDERER_BUILD) await buildRenderer();
      host = await startHost();
      url = host.url;
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForSelector('[data-testid=prompt]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=model] option').length > 0);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('saves with Ctrl+S, starts a new document, reopens the .ora and gets every pixel back', async () => {
    await openImage(page, await gradientPng(96, 64));
    await expect.poll(() => mode(page)).toContain('Image to image · 96×64');
    await drawStroke(page, [0.2, 0.4], [0.8, 0.6]);
    await expect.poll(() => mode(page)).toContain('Inpaint');
    const saved = await documentPixels(page);
    expect(saved.mask.some((v) => v > 0)).toBe(true);

    const ora = await downloaded(page, 'Control+s');
    expect(ora.name).toBe('init.ora');
    mkdirSync(ARTIFACTS, { recursive: true });
    const oraPath = join(ARTIFACTS, 'saved.ora');
    writeFileSync(oraPath, ora.bytes);

    // A zip reader outside the app: mimetype first and stored, stack.xml parses, every layer is there.
    if (existsSync('/usr/bin/python3')) {
      const script = `
import json, sys, zipfile, xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
first = z.infolist()[0]
root = ET.fromstring(z.read('stack.xml'))
print(json.dumps({'first': first.filename, 'stored': first.compress_type == zipfile.ZIP_STORED,
  'mimetype': z.read('mimetype').decode(), 'size': [root.get('w'), root.get('h')],
  'layers': [[l.get('name'), l.get('visibility'), l.get('src') in z.namelist()] for l in root.iter('layer')],
  'merged': 'mergedimage.png' in z.namelist(), 'thumbnail': 'Thumbnails/thumbnail.png' in z.namelist()}))
`;
      const seen = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, oraPath], { encoding: 'utf8' }));
      expect(seen).toEqual({
        first: 'mimetype',
        stored: true,
        mimetype: 'image/openraster',
        size: ['96', '64'],
        layers: [
          ['Inpaint mask', 'hidden', true],
          ['Image', 'visible', true],
        ],
        merged: true,
        thumbnail: true,
      });
    }

    // New document from the File menu: a blank canvas.
    await page.click('[data-testid=file-menu]');
    await screenshot(page, 'files-00-menu');
    await page.click('[data-testid="file.new"]');
    await screenshot(page, 'files-00-new-dialog');
    await page.fill('[data-testid=new-document] input >> nth=0', '64');
    await page.fill('[data-testid=new-document] input >> nth=1', '48');
    await page.click('[data-testid=new-document-create]');
    await expect.poll(() => mode(page)).toContain('Text to image · 64×48');

    await page.setInputFiles('[data-testid=file-input]', { name: 'init.ora', mimeType: 'image/openraster', buffer: ora.bytes });
    await expect.poll(() => mode(page)).toContain('96×64');
    const reopened = await documentPixels(page);
    expect(reopened.width).toBe(saved.width);
    expect(reopened.height).toBe(saved.height);
    expect(Buffer.from(reopened.image!).equals(Buffer.from(saved.image!))).toBe(true);
    expect(Buffer.from(reopened.mask).equals(Buffer.from(saved.mask))).toBe(true);
    await screenshot(page, 'files-01-reopened');
  });

  it('exports an accepted generation as PNG with Ctrl+Shift+E, carrying its parameters', async () => {
    await page.click('[data-testid=file-menu]');
    await page.click('[data-testid="file.new"]');
    await page.click('[data-testid=new-document-create]');
    await expect.poll(() => mode(page)).toContain('Text to image');
    await selectModel(page, 'tiny-sd15');
    await setNumber(page, 'steps', 2);
    await page.fill('[data-testid=prompt]', 'a lighthouse at dusk');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=result-bar]', { timeout: 120_000 });
    await page.click('[data-testid=accept]');
    await expect.poll(() => page.isVisible('[data-testid=result-bar]')).toBe(false);

    const png = await downloaded(page, 'Control+Shift+E');
    expect(png.name).toBe('untitled.png');
    const parameters = readImageMetadata(new Uint8Array(png.bytes)).parameters;
    expect(parameters).toMatch(/^a lighthouse at dusk\n/);
    expect(parameters).toMatch(/Steps: 2, /);
    const { data } = await sharp(png.bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const doc = await documentPixels(page);
    expect(data.equals(Buffer.from(doc.image!))).toBe(true);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
