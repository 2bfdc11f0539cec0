/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Stream to draw on. Default `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Label shown before the bar. */
  label?: string;
  /** Don't draw anything. */
  quiet?: boolean;
}

/**
 * A terminal progress bar. On a TTY it redraws one line; elsewhere (CI logs,
 * pipes) it prints a line at every 10% so logs stay short.
 */
export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private lastDecile = -1;
  private label: string;
  private readonly quiet: boolean;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.label = options.label ?? '';
    this.quiet = options.quiet ?? false;
  }

  /** Start a new phase with its own label. */
  reset(label: string): void {
    this.label = label;
    this.lastDecile = -1;
  }

  /** Draw the bar for `done` of `total`, with extra text (loss, speed) after it. */
  update(done: number, total: number, extra = '', secondsElapsed?: number): void {
    if (this.quiet) return;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const eta =
      secondsElapsed !== undefined && frac > 0 && frac < 1 ? ` ETA ${formatSeconds((secondsElapsed * (1 - frac)) / frac)}` : '';
    const line = `${this.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}${extra ? ' ' + extra : ''}${eta}`;
    if (this.tty) {
      this.stream.write(`\r${line}\x1b[K`);
      if (frac >= 1) this.stream.write('\n');
    } else {
      const decile = Math.floor(frac * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.stream.write(line + '\n');
      }
    }
  }

  /** Print a message on its own line. */
  log(message: string): void {
    if (this.quiet) return;
    this.stream.write(message + '\n');
  }
}

/** Format seconds as `1m05s` / `12s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  const r = Math.round(s - m * 60);
  return m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}
