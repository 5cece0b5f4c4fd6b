// The studio: every piece of renderer state, and the commands the UI and the keyboard run.
import type { ModelEntry, StudioApi } from '@shared/contract.js';
import { ToolRouter } from '../canvas/tools/tool-router.js';
import type { Command } from '../canvas/keymap.js';
import { decodeImage, encodeRasterPng } from '../image/codec.js';
import type { Margins } from '../raster/outpaint.js';
import { StudioDocument } from './document.svelte.js';
import { describeFailure, type Failure } from './errors.js';
import { GenerationController, type FinishedJob, type JobPurpose } from './generation.svelte.js';
import { GenerationSettings } from './generation-settings.svelte.js';
import { LiveMode } from './live-mode.svelte.js';
import { buildGeneratePayload } from './request.js';
import { Results, type StagedResult } from './results.svelte.js';
import { TokenCounter } from './token-counter.svelte.js';
import { ToolSettings } from './tool-settings.svelte.js';
import { Viewport } from './viewport.svelte.js';

export class Studio {
  readonly doc = new StudioDocument();
  readonly view = new Viewport();
  readonly tools = new ToolSettings();
  readonly settings = new GenerationSettings();
  readonly results = new Results();
  readonly generation: GenerationController;
  readonly live: LiveMode;
  readonly tokens: TokenCounter;
  readonly router: ToolRouter;
  models = $state.raw<ModelEntry[]>([]);
  maskVisible = $state(true);
  /** The keyboard-shortcut sheet (`?`) is open. */
  shortcutsOpen = $state(false);
  /** A problem outside a job (opening a file, listing models). */
  problem = $state.raw<Failure | null>(null);
  /** Pointer position over the document (for the brush cursor); null when outside. */
  hover = $state.raw<{ x: number; y: number } | null>(null);

  constructor(readonly api: StudioApi) {
    this.generation = new GenerationController(api);
    this.tokens = new TokenCounter(api);
    this.live = new LiveMode(() => {
      if (this.doc.mode !== 'txt2img') void this.generate('live');
    });
    this.router = new ToolRouter(this.doc, this.view, () => this.tools.shape(), () => this.tools.tool);
    this.generation.onResult((job) => void this.receive(job));
  }

  async init(): Promise<void> {
    const [models, settings] = await Promise.all([this.api.invoke('listModels'), this.api.invoke('getSettings')]);
    if (!models.ok) {
      this.problem = describeFailure(models.error);
      return;
    }
    this.models = models.value;
    const last = settings.ok ? settings.value.lastModel : null;
    const usable = models.value.filter((m) => !m.problem && m.pipeline);
    this.settings.model = (last && models.value.some((m) => m.id === last) ? last : usable[0]?.id) ?? models.value[0]?.id ?? '';
    // A blank canvas starts at the chosen model's native size (the shipped demo model paints 64×64).
    const native = models.value.find((m) => m.id === this.settings.model)?.defaultSize;
    if (native && !this.doc.image && this.doc.resize(native.width, native.height)) this.doc.history.clear();
  }

  // ---- generation --------------------------------------------------------------------------

  async generate(purpose: JobPurpose = 'generate'): Promise<void> {
    const s = this.settings;
    if (!s.model) {
      this.problem = { code: 'no-model', title: 'No model', message: 'Choose a model first.', details: [] };
      return;
    }
    if (purpose === 'generate') this.problem = null;
    const doc = this.doc;
    const mode = doc.mode;
    const image = doc.image;
    const mask = doc.mask;
    const snapshot = {
      prompt: s.prompt,
      negativePrompt: s.negativePrompt,
      model: s.model,
      sampler: s.sampler,
      steps: s.steps,
      cfgScale: s.cfgScale,
      seed: s.requestSeed(),
      strength: s.strength,
      maskBlur: s.maskBlur,
      inpaintOnlyMasked: s.inpaintOnlyMasked,
      inpaintPadding: s.inpaintPadding,
      batchCount: purpose === 'live' ? 1 : s.batchCount,
    };
    const size = { width: doc.width, height: doc.height };
    await this.generation.start(async () => {
      const initImage = image && mode !== 'txt2img' ? await encodeRasterPng(image) : undefined;
      // The mask goes as its raw raster (a copy: painting goes on meanwhile), not as a PNG to be decoded again.
      const maskPixels = mode === 'inpaint' ? { width: mask.width, height: mask.height, data: mask.data.slice() } : undefined;
      return buildGeneratePayload(snapshot, { mode, ...size, initImage, mask: maskPixels });
    }, purpose);
  }

  cancel(): void {
    void this.generation.cancel();
  }

  private async receive(job: FinishedJob): Promise<void> {
    try {
      const items: StagedResult[] = [];
      for (const img of job.images) {
        items.push({ raster: await decodeImage(img.png), seed: img.seed, infotext: img.infotext, png: img.png });
      }
      if (items.length) this.settings.lastSeed = items[0]!.seed;
      this.results.show(items, job.purpose);
    } catch (e) {
      this.problem = describeFailure(e);
    }
  }

  accept(): void {
    this.generation.dismissNotice();
    const r = this.results.take();
    if (r) this.doc.acceptResult(r.raster);
  }

  discard(): void {
    this.generation.dismissNotice();
    this.results.take();
  }

  // ---- canvas ------------------------------------------------------------------------------

  async openImage(file: Blob): Promise<void> {
    try {
      const raster = await decodeImage(file);
      this.doc.setImage(raster, 'Open image');
      this.results.take();
      this.fit();
    } catch (e) {
      this.problem = { ...describeFailure(e), title: 'The image could not be opened' };
    }
  }

  outpaint(margins: Margins): void {
    try {
      this.doc.outpaint(margins);
      this.fit();
    } catch (e) {
      this.problem = describeFailure(e);
    }
  }

  resizeCanvas(width: number, height: number): void {
    if (this.doc.resize(width, height)) this.fit();
  }

  fit(): void {
    this.view.fit(this.doc.width, this.doc.height);
  }

  run(cmd: Command): boolean {
    switch (cmd) {
      case 'tool.brush':
      case 'tool.eraser':
      case 'tool.move':
        this.router.cancel();
        this.tools.tool = cmd.slice(5) as 'brush' | 'eraser' | 'move';
        return true;
      case 'brush.smaller':
        this.tools.grow(-1);
        return true;
      case 'brush.larger':
        this.tools.grow(1);
        return true;
      case 'undo':
        if (this.router.busy) return true;
        return this.doc.undo();
      case 'redo':
        if (this.router.busy) return true;
        return this.doc.redo();
      case 'zoom.fit':
        this.fit();
        return true;
      case 'zoom.actual':
        this.view.actualSize(this.doc.width, this.doc.height);
        return true;
      case 'generate':
        void this.generate();
        return true;
      case 'shortcuts':
        this.shortcutsOpen = !this.shortcutsOpen;
        return true;
      case 'cancel':
        if (this.shortcutsOpen) this.shortcutsOpen = false;
        else if (this.router.busy) this.router.cancel();
        else if (this.generation.busy) this.cancel();
        else if (this.problem || this.generation.error) {
          this.problem = null;
          this.generation.clearError();
        } else return false;
        return true;
      case 'result.accept':
        if (!this.results.current) return false;
        this.accept();
        return true;
      case 'result.discard':
        if (!this.results.current) return false;
        this.discard();
        return true;
      case 'result.next':
        this.results.next();
        return this.results.count > 1;
      case 'result.previous':
        this.results.previous();
        return this.results.count > 1;
      case 'mask.invert':
        this.doc.invertMask();
        return true;
      case 'mask.clear':
        this.doc.clearMask();
        return true;
    }
  }
}
