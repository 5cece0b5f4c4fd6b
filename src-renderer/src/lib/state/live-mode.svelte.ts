// Live mode: every settled change (canvas, mask, prompt) starts a fresh img2img/inpaint run ~250 ms
// after the last edit; the run it replaces is cancelled by the GenerationController.
import { Debouncer, type Timers } from './debouncer.js';

export class LiveMode {
  enabled = $state(false);
  /** Runs started by live mode (for the UI and tests). */
  runs = $state(0);
  private readonly debouncer: Debouncer;

  constructor(
    private readonly run: () => void,
    delayMs = 250,
    timers?: Timers,
  ) {
    this.debouncer = new Debouncer(() => this.fire(), delayMs, timers);
  }

  get pending(): boolean {
    return this.debouncer.pending;
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    if (on) this.debouncer.poke();
    else this.debouncer.cancel();
  }

  /** Something the run depends on changed. */
  changed(): void {
    if (this.enabled) this.debouncer.poke();
  }

  private fire(): void {
    if (!this.enabled) return;
    this.runs++;
    this.run();
  }
}
