// A child process for the crash tests: saves gallery images and autosave documents in a tight loop (with star,
// trash and restore in between) until it is killed. Prints a line after each operation COMPLETES:
//   saved <id>          gallery.add resolved (PNG + index record on disk)
//   trashed <id> / restored <id>
//   doc <n>             autosave document n saved
// Mode 'service' instead runs the studio service with the tiny model and generates until killed:
//   result <id>         a result event with a saved image
// Usage: node --import tsx crash-child.ts <outDir> <autosaveDir> [gallery|service] [modelsDir]
import path from 'node:path';
import { DocumentStore } from '../../src-main/autosave/index.js';
import { encodePng } from '../../src-main/engine/image/png.js';
import { Gallery } from '../../src-main/gallery/index.js';

const [outDir, autosaveDir, mode = 'gallery', modelsDir] = process.argv.slice(2) as [string, string, string?, string?];
const out = (line: string): void => void process.stdout.write(`${line}\n`);

function noise(size: number, text: string): Promise<Uint8Array> {
  const px = new Uint8Array(size * size * 3);
  for (let i = 0; i < px.length; i++) px[i] = (Math.random() * 256) | 0;
  return encodePng(px, size, size, 3, [
    { keyword: 'parameters', text: `${text}\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: ${(Math.random() * 1e9) | 0}, Size: ${size}x${size}, Model: crash` },
  ]);
}

async function galleryLoop(): Promise<void> {
  const { gallery } = await Gallery.open(outDir, { thumbnails: true });
  await gallery.reconcile();
  const docs = new DocumentStore(autosaveDir);
  const last = await docs.load();
  let n = typeof last?.document.settings['n'] === 'number' ? (last.document.settings['n'] as number) : 0;
  out('ready');
  for (let i = 0; ; i++) {
    const item = await gallery.add(await noise(48 + (i % 5) * 16, `crash test image ${i}`));
    out(`saved ${item.id}`);
    if (i % 7 === 3) {
      await gallery.star([item.id], true);
    }
    if (i % 5 === 4) {
      const t = await gallery.trash([item.id]);
      if (t.length) out(`trashed ${item.id}`);
      if (i % 10 === 9) {
        const r = await gallery.restore([item.id]);
        if (r.length) out(`restored ${item.id}`);
      }
    }
    n++;
    const image = `img${n}x${process.pid}`;
    const mask = `mask${n}x${process.pid}`;
    const blobs: Record<string, Uint8Array> = { [mask]: await noise(32, 'mask') };
    if (n % 3 === 1 || !last) blobs[image] = await noise(64, 'layer');
    const keepImage = blobs[image] ? image : null;
    await docs.save({
      document: { version: 1, width: 64, height: 64, image: keepImage, mask, results: [], resultIndex: 0, settings: { n, prompt: `prompt ${n}` } },
      blobs,
    });
    out(`doc ${n}`);
  }
}

async function serviceLoop(): Promise<void> {
  const { ChannelEngineClient, StudioService, threadWorkerChannel } = await import('../../src-main/host/index.js');
  const service = await StudioService.create({
    engine: new ChannelEngineClient(() => threadWorkerChannel()),
    bundledModelsDir: modelsDir!,
    settingsFile: path.join(path.dirname(autosaveDir), 'settings.json'),
    defaultOutputDir: outDir,
    autosaveDir,
    host: 'web',
  });
  await service.gallery.gallery();
  await service.gallery.reconciled;
  // Two jobs in flight at all times: a new one is queued as each one ends.
  let next = 0;
  const queueOne = async (): Promise<void> => {
    const i = next++;
    const r = await service.invoke('generate', { model: 'bundled:tiny-sd15', prompt: `kill test ${i}`, width: 64, height: 64, steps: 2, seed: i, sampler: 'euler', batchCount: 2 });
    if (!r.ok) out(`error ${JSON.stringify(r.error)}`);
  };
  service.connect({
    send(event, payload) {
      if (event === 'result') {
        for (const img of (payload as { images: Array<{ saved?: { id: string } }> }).images) if (img.saved) out(`result ${img.saved.id}`);
        void queueOne();
      }
      if (event === 'jobError') out(`error ${JSON.stringify(payload)}`);
    },
  });
  out('ready');
  await queueOne();
  await queueOne();
}

(mode === 'service' ? serviceLoop() : galleryLoop()).catch((error: unknown) => {
  out(`fatal ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
