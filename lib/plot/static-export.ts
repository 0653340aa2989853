import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";

/** A Plotly figure specification (what Plotly.newPlot takes). */
export interface FigureSpec {
  data: object[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface StaticImages {
  png: Uint8Array;
  svg: string;
  widthPx: number;
  heightPx: number;
}

/** Flags for Debian's chromium, headless, with nothing reaching out to the network. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** Where Chromium is expected: env MILPF_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MILPF_CHROMIUM || "/usr/bin/chromium";
}

/** Whether static export can run (MILPF_STATIC_FIGURES=0 turns it off). */
export function staticExportAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.MILPF_STATIC_FIGURES === "0") return false;
  try {
    fs.accessSync(chromiumPath(env), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function plotlyBundlePath(): string {
  return require.resolve("plotly.js-dist-min");
}

let warned = false;
/** The one warning line printed when static export is not possible. */
export function warnNoChromium(): void {
  if (warned) return;
  warned = true;
  process.stderr.write(
    `lib/plot: no Chromium at ${chromiumPath()}: figures are exported as interactive HTML only. ` +
      `For static PNG + SVG: apt-get install -y chromium (or set MILPF_CHROMIUM to a Chromium binary)\n`,
  );
}

// One browser (and one page with plotly.js loaded) per process, reused; renders are serialised.
let session: Promise<{ browser: Browser; page: Page; userDataDir: string }> | null = null;
let queue: Promise<unknown> = Promise.resolve();
let idleTimer: NodeJS.Timeout | null = null;
/**
 * An open browser keeps Node's event loop alive, so it is closed after a short idle time: 60 s in
 * a notebook kernel (figures come cell after cell), 2 s elsewhere (a script then ends promptly).
 * Playwright also kills the browser when the process exits.
 */
function idleCloseMs(): number {
  return (globalThis as { __tslab__?: unknown }).__tslab__ ? 60_000 : 2_000;
}

async function openSession(): Promise<{ browser: Browser; page: Page; userDataDir: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-chromium-"));
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_FLAGS, `--disk-cache-dir=${path.join(userDataDir, "cache")}`],
    env: { ...process.env, HOME: userDataDir, XDG_CONFIG_HOME: userDataDir, XDG_CACHE_HOME: userDataDir },
  });
  const page = await browser.newPage();
  await page.setContent("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>");
  await page.addScriptTag({ path: plotlyBundlePath() });
  return { browser, page, userDataDir };
}

/** Close the shared browser (also done automatically after a while idle and at process exit). */
export async function closeBrowser(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const s = session;
  session = null;
  if (!s) return;
  try {
    const { browser, userDataDir } = await s;
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  } catch {
    // a browser that failed to start has nothing to close
  }
}

/**
 * Render a figure to PNG and SVG with plotly.js in headless Chromium. Size: layout.width/height,
 * else 800 x 500 px; PNG at `scale` (default 2) times that.
 */
export function renderStatic(spec: FigureSpec, opts: { scale?: number } = {}): Promise<StaticImages> {
  const widthPx = typeof spec.layout?.width === "number" ? spec.layout.width : 800;
  const heightPx = typeof spec.layout?.height === "number" ? spec.layout.height : 500;
  const scale = opts.scale ?? 2;
  const job = queue.then(async () => {
    if (idleTimer) clearTimeout(idleTimer);
    session ??= openSession();
    let s: Awaited<typeof session>;
    try {
      s = await session;
    } catch (e) {
      session = null;
      throw new Error(`lib/plot: cannot start Chromium at ${chromiumPath()} (${(e as Error).message.split("\n")[0]})`);
    }
    const out = await s.page.evaluate(
      async ({ spec, widthPx, heightPx, scale }) => {
        const P = (globalThis as unknown as { Plotly: PlotlyInPage }).Plotly;
        const doc = (globalThis as unknown as { document: DocInPage }).document;
        const gd = doc.createElement("div");
        doc.body.appendChild(gd);
        try {
          await P.newPlot(gd, spec.data, { ...(spec.layout ?? {}), width: widthPx, height: heightPx }, { staticPlot: true });
          const png = await P.toImage(gd, { format: "png", width: widthPx, height: heightPx, scale });
          const svg = await P.toImage(gd, { format: "svg", width: widthPx, height: heightPx });
          return { png, svg };
        } finally {
          P.purge(gd);
          gd.remove();
        }
      },
      { spec, widthPx, heightPx, scale },
    );
    idleTimer = setTimeout(() => void closeBrowser(), idleCloseMs());
    return {
      png: new Uint8Array(Buffer.from(out.png.slice(out.png.indexOf(",") + 1), "base64")),
      svg: decodeSvgDataUrl(out.svg),
      widthPx,
      heightPx,
    };
  });
  queue = job.catch(() => undefined);
  return job;
}

// Minimal shapes of the page's DOM and Plotly (this project compiles without the DOM library).
interface ElementInPage {
  remove(): void;
}
interface DocInPage {
  createElement(tag: string): ElementInPage;
  body: { appendChild(el: ElementInPage): void };
}
interface PlotlyInPage {
  newPlot(gd: ElementInPage, data: object[], layout: object, config: object): Promise<unknown>;
  toImage(gd: ElementInPage, opts: { format: string; width: number; height: number; scale?: number }): Promise<string>;
  purge(gd: ElementInPage): void;
}

/** plotly.js returns SVG as a data URL (URI-encoded, or base64). */
export function decodeSvgDataUrl(url: string): string {
  const comma = url.indexOf(",");
  const head = url.slice(0, comma);
  const body = url.slice(comma + 1);
  return head.endsWith(";base64") ? Buffer.from(body, "base64").toString("utf8") : decodeURIComponent(body);
}
