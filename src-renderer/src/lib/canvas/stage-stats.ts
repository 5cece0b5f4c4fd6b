// Canvas timings (bounded ring buffers); the benchmark and the end-to-end tests read them through the e2e build's hook (lib/e2e-hooks.ts).
export class Samples {
  private values: number[] = [];
  constructor(private readonly capacity = 4096) {}
  add(v: number): void {
    this.values.push(v);
    if (this.values.length > this.capacity) this.values.shift();
  }
  all(): number[] {
    return [...this.values];
  }
  clear(): void {
    this.values = [];
  }
}

export class StageStats {
  /** Main-thread ms per frame that redrew the mask: input handling since the last frame + the redraw. */
  readonly maskFrameMs = new Samples();
  /** ms from a step's progress event arriving to its preview being drawn on the stage. */
  readonly previewDelayMs = new Samples();
  /** Preview frames drawn. */
  previewsDrawn = 0;
  /** performance.now() of each preview drawn. */
  readonly previewDrawnAt = new Samples();
  /** Steps whose progress event arrived (step → performance.now()). */
  readonly progressAt = new Map<string, number>();
  /** Input handling time not yet attributed to a frame. */
  inputMs = 0;

  reset(): void {
    this.maskFrameMs.clear();
    this.previewDelayMs.clear();
    this.previewsDrawn = 0;
    this.previewDrawnAt.clear();
    this.progressAt.clear();
    this.inputMs = 0;
  }
}
