// File commands: save / open the document as OpenRaster, export the picture as PNG, start a new one.
// Saving hands the bytes to `deliver` (a download, in the browser host and in Electron alike).
import { generationLimits } from '@shared/generation-limits.js';
import { floorTo8, type RgbaRaster } from '../raster/rgba-raster.js';
import type { FileCommand } from '../canvas/keymap.js';
import { describeFailure } from '../state/errors.js';
import type { StagedResult } from '../state/results.svelte.js';
import type { Studio } from '../state/studio.svelte.js';
import { decodeOra, encodeOra, type PngCodec } from './ora.js';
import { withPngText } from './png-text.js';
import { documentToOra, oraToDocument } from './studio-ora.js';

export type Deliver = (bytes: Uint8Array, fileName: string, mimeType: string) => void;

export class DocumentFiles {
  /** The document's name: the opened file's, without extension. */
  name = $state('untitled');
  /** The New document dialog's size while it is open. */
  asking = $state<{ width: number; height: number } | null>(null);
  /** The generation (A1111 infotext) behind each picture the studio showed or opened. */
  private readonly infotexts = new WeakMap<RgbaRaster, string>();

  constructor(
    private readonly studio: Studio,
    private readonly codec: PngCodec,
    private readonly deliver: Deliver,
    /** Opens the file picker (its choice comes back through `open`). */
    private readonly pickFile: () => void,
  ) {}

  run(cmd: FileCommand): void {
    if (cmd === 'file.new') this.asking = this.defaultSize();
    else if (cmd === 'file.open') this.pickFile();
    else if (cmd === 'file.save') void this.save();
    else void this.exportPng();
  }

  /** Remember the generation of results as they arrive, so an accepted one exports with its parameters. */
  noteResults(items: readonly StagedResult[]): void {
    for (const r of items) if (r.infotext) this.infotexts.set(r.raster, r.infotext);
  }

  /** The infotext of the canvas image when it came from a generation (accepted, or opened with it). */
  imageParameters(): string | undefined {
    const image = this.studio.doc.image;
    return image ? this.infotexts.get(image) : undefined;
  }

  async save(): Promise<void> {
    await this.attempt('The document could not be saved', async () => {
      const doc = this.studio.doc;
      const bytes = await encodeOra(documentToOra(doc, this.imageParameters()), this.codec);
      this.deliver(bytes, `${this.name}.ora`, 'image/openraster');
    });
  }

  /** An `.ora` replaces the document; any other file opens as an image. */
  async open(file: File): Promise<void> {
    if (!/\.ora$/i.test(file.name) && file.type !== 'image/openraster') {
      await this.studio.openImage(file);
      if (!this.studio.problem) this.name = baseName(file.name);
      return;
    }
    await this.attempt('The document could not be opened', async () => {
      const content = oraToDocument(await decodeOra(new Uint8Array(await file.arrayBuffer()), this.codec));
      if (content.image && content.parameters !== undefined) this.infotexts.set(content.image, content.parameters);
      this.studio.results.take();
      this.studio.doc.load('Open document', content.width, content.height, content.image, content.mask);
      this.studio.fit();
      this.name = baseName(file.name);
    });
  }

  /** The picture as shown (a staged result over the canvas, else the canvas image) as PNG, with its generation's `parameters`. */
  async exportPng(): Promise<void> {
    const { results, doc } = this.studio;
    const shown = results.current;
    if (!shown && !doc.image) {
      this.studio.problem = { code: 'nothing-to-export', title: 'Nothing to export', message: 'The canvas has no picture yet.', details: [] };
      return;
    }
    await this.attempt('The picture could not be exported', async () => {
      // A staged result's PNG already carries the engine's metadata.
      let png = shown ? shown.png : await this.codec.encode(doc.image!);
      const parameters = shown ? undefined : this.imageParameters();
      if (parameters !== undefined) png = withPngText(png, 'parameters', parameters);
      this.deliver(png, `${this.name}.png`, 'image/png');
    });
  }

  /** A blank width×height document (undoable); sizes snap down to multiples of 8. */
  newDocument(width: number, height: number): void {
    const w = Math.min(generationLimits.size.max, floorTo8(width));
    const h = Math.min(generationLimits.size.max, floorTo8(height));
    this.studio.results.take();
    this.studio.doc.load('New document', w, h, null, new Uint8Array(w * h));
    this.studio.fit();
    this.name = 'untitled';
  }

  /** The chosen model's native size: what a new document starts at. */
  defaultSize(): { width: number; height: number } {
    const model = this.studio.models.find((m) => m.id === this.studio.settings.model);
    return model?.defaultSize ?? { width: this.studio.doc.width, height: this.studio.doc.height };
  }

  private async attempt(title: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.studio.problem = { ...describeFailure(e), title };
    }
  }
}

function baseName(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '') || 'untitled';
}

/** Bytes offered as a download (an `<a download>` click: works in the browser host and in Electron). */
export function downloadBytes(bytes: Uint8Array, fileName: string, mimeType: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  // The click has started the download synchronously; the URL can go once the event loop moves on.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
