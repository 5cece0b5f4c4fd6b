// Progress on stderr: a cli-progress bar on a terminal, plain lines otherwise (logs, pipes, CI).
import cliProgress from 'cli-progress';

export interface StepProgress {
  /** 1-based index of the image being made. */
  image: number;
  /** Images in the run. */
  images: number;
  /** Steps done for this image. */
  step: number;
  totalSteps: number;
  elapsedMs: number;
  etaMs?: number;
}

export interface ProgressReporter {
  update(progress: StepProgress): void;
  /** Plain message, shown above the bar. */
  log(message: string): void;
  stop(): void;
}

export function formatSeconds(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
}

class BarReporter implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {bar} {percentage}% | {imageText}step {step}/{totalSteps} | {elapsedText}, ETA {etaText}',
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(p: StepProgress): void {
    const total = Math.max(1, p.totalSteps * p.images);
    const value = Math.min(total, (p.image - 1) * p.totalSteps + p.step);
    const payload = {
      imageText: p.images > 1 ? `image ${p.image}/${p.images} ` : '',
      step: p.step,
      totalSteps: p.totalSteps,
      elapsedText: formatSeconds(p.elapsedMs),
      etaText: formatSeconds(p.etaMs),
    };
    if (!this.started) {
      this.bar.start(total, value, payload);
      this.started = true;
    } else {
      this.bar.setTotal(total);
      this.bar.update(value, payload);
    }
  }

  log(message: string): void {
    if (this.started) {
      // Clear the bar's line, print, and let the next update redraw it.
      this.stream.write(`\r\x1b[2K${message}\n`);
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

class LineReporter implements ProgressReporter {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(p: StepProgress): void {
    const eta = p.etaMs === undefined ? '' : `, ETA ${formatSeconds(p.etaMs)}`;
    this.stream.write(
      `image ${p.image}/${p.images} step ${p.step}/${p.totalSteps} (${formatSeconds(p.elapsedMs)}${eta})\n`,
    );
  }

  log(message: string): void {
    this.stream.write(`${message}\n`);
  }

  stop(): void {}
}

class SilentReporter implements ProgressReporter {
  update(): void {}
  log(): void {}
  stop(): void {}
}

export function createProgressReporter(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return new SilentReporter();
  return stream.isTTY ? new BarReporter(stream) : new LineReporter(stream);
}
