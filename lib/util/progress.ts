import { kernelUpdatingDisplay } from "../plot/inline";

/**
 * Progress for long loops: a redrawn bar on a terminal; in a notebook kernel (Jupyter or the milpf
 * runner) one bar that updates in place in the cell's output; elsewhere (CI logs) one plain line
 * every `everyFraction` of the work.
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
  private inPlace: { html(s: string): void } | null = null;
  private lastDrawMs = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
    if (opts.enabled !== false && !opts.stream) {
      this.inPlace = kernelUpdatingDisplay();
      this.draw();
    }
  }

  /** Redraw the in-place bar; a kernel without a display writer ("Not ready") falls back to lines. */
  private draw(): void {
    try {
      this.inPlace?.html(this.html());
    } catch {
      this.inPlace = null;
    }
  }

  /** The in-place bar: a <progress> element, the counts, the seconds since the bar started and the rate over them. */
  private html(): string {
    const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    const secs = (Date.now() - this.start) / 1000;
    const state = this.done >= this.opts.total ? "done" : "running";
    return (
      `<div style="font-family:monospace">${esc(this.opts.label)}: <progress value="${this.done}" max="${Math.max(1, this.opts.total)}" style="width:16em;vertical-align:middle"></progress> ` +
      `${this.done}/${this.opts.total} ${esc(this.opts.unit ?? "items")}, ${secs.toFixed(0)} s ${esc(this.rateText())} (${state})</div>`
    );
  }

  tick(n = 1): void {
    this.done += n;
    if (this.opts.enabled === false) return;
    if (this.inPlace) {
      // Redraw at most twice a second, and at the end.
      const now = Date.now();
      if (now - this.lastDrawMs >= 500 || this.done >= this.opts.total) {
        this.lastDrawMs = now;
        this.draw();
      }
      if (this.inPlace) return;
    }
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
