/**
 * Progress for long loops: a redrawn bar on a terminal, one plain line every `everyFraction`
 * of the work (or `everyItems` items) in CI logs and notebooks.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  everyFraction?: number;
  stream?: NodeJS.WriteStream;
  /** Set false to silence completely (tests). */
  enabled?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastReported = -1;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
  }

  tick(n = 1): void {
    this.done += n;
    if (this.opts.enabled === false) return;
    const total = Math.max(1, this.opts.total);
    const frac = Math.min(1, this.done / total);
    if (this.tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      this.stream.write(`\r${this.opts.label} [${bar}] ${this.done}/${this.opts.total} ${this.rateText()}`);
      if (this.done >= this.opts.total) this.stream.write("\n");
      return;
    }
    const step = this.opts.everyFraction ?? 0.1;
    const bucket = Math.floor(frac / step);
    if (bucket > this.lastReported || this.done >= this.opts.total) {
      if (this.done >= this.opts.total && this.lastReported === Number.POSITIVE_INFINITY) return;
      this.lastReported = this.done >= this.opts.total ? Number.POSITIVE_INFINITY : bucket;
      this.stream.write(`${this.opts.label}: ${this.done}/${this.opts.total} ${this.rateText()}\n`);
    }
  }

  /** Items per second so far. */
  rate(): number {
    const s = (Date.now() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  private rateText(): string {
    return `(${this.rate().toFixed(1)} ${this.opts.unit ?? "items"}/s)`;
  }
}
