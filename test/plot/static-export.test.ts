import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import * as plot from "../../lib/plot";

const haveChromium = plot.staticExportAvailable();
if (!haveChromium) console.warn(`SKIP static figure export: no Chromium at ${plot.chromiumPath()} (apt-get install -y chromium)`);

afterAll(async () => plot.closeBrowser());

describe.skipIf(!haveChromium)("static figure export (plotly.js in headless Chromium)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-plot-"));
  const spec = {
    data: [
      { x: [1, 2, 3, 4], y: [0.2, 0.9, 0.4, 0.7], type: "scatter", mode: "lines+markers", name: "auc" },
      { x: [1, 2, 3, 4], y: [0.5, 0.5, 0.5, 0.5], type: "bar", name: "chance" },
    ],
    layout: { title: { text: "ROC <test> & more" }, width: 420, height: 300 },
  };

  it("writes JSON spec, interactive HTML with plotly.js beside it, PNG and SVG of the right size", async () => {
    const files = await plot.exportFigure("roc curve", spec, { dir, scale: 2 });
    expect(files).toMatchObject({
      json: path.join(dir, "roc_curve.json"),
      html: path.join(dir, "roc_curve.html"),
      png: path.join(dir, "roc_curve.png"),
      svg: path.join(dir, "roc_curve.svg"),
    });
    // the spec round-trips (re-rendering is possible)
    expect(JSON.parse(fs.readFileSync(files.json, "utf8"))).toEqual(spec);
    // HTML: loads the local plotly.js (no CDN), embeds the spec without a raw "<" that could end the script
    const html = fs.readFileSync(files.html, "utf8");
    expect(html).toContain('<script src="plotly.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain("ROC \\u003ctest> & more");
    expect(fs.statSync(path.join(dir, "plotly.min.js")).size).toBe(fs.statSync(require.resolve("plotly.js-dist-min")).size);
    // PNG decodes, at scale x layout size
    const png = await sharp(fs.readFileSync(files.png as string)).metadata();
    expect(png.format).toBe("png");
    expect([png.width, png.height]).toEqual([840, 600]);
    // and is not blank: the plot draws something other than the white background
    const stats = await sharp(fs.readFileSync(files.png as string)).stats();
    expect(stats.channels[0].min).toBeLessThan(200);
    // SVG parses (librsvg through sharp) with the layout size, and holds the title text
    const svg = fs.readFileSync(files.svg as string, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/ROC (&lt;|&#60;)test(&gt;|&#62;) &amp; more/);
    const svgMeta = await sharp(Buffer.from(svg)).metadata();
    expect([svgMeta.format, svgMeta.width, svgMeta.height]).toEqual(["svg", 420, 300]);
  });

  it("shares one plotly.js per figures tree: figures/<notebook>/ pages load figures/plotly.min.js", async () => {
    const root = path.resolve(__dirname, "..", "..", "figures");
    const sub = path.join(root, `test-plotly-${process.pid}`);
    try {
      expect(plot.plotlyTreeRoot(sub)).toBe(root);
      expect(plot.plotlyTreeRoot(dir)).toBe(dir);
      // milpf pipeline --figures-root: the root it names
      expect(plot.plotlyTreeRoot(path.join(dir, "01_tile"), { MILPF_FIGURES_ROOT: dir })).toBe(dir);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, "plotly.min.js"), "stale copy");
      await plot.exportFigure("one", spec, { dir: sub, scale: 1 });
      expect(fs.readFileSync(path.join(sub, "one.html"), "utf8")).toContain('<script src="../plotly.min.js"></script>');
      expect(fs.existsSync(path.join(sub, "plotly.min.js"))).toBe(false);
      expect(fs.statSync(path.join(root, "plotly.min.js")).size).toBe(fs.statSync(require.resolve("plotly.js-dist-min")).size);
    } finally {
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });

  it("renders a second figure with the same browser, default size 800 x 500", async () => {
    const img = await plot.renderStatic({ data: [{ z: [[1, 2], [3, 4]], type: "heatmap" }] }, { scale: 1 });
    expect([img.widthPx, img.heightPx]).toEqual([800, 500]);
    const meta = await sharp(Buffer.from(img.png)).metadata();
    expect([meta.width, meta.height]).toEqual([800, 500]);
  });

  it("image() writes PNG bytes and rejects bytes that are not PNG, naming the image", async () => {
    const bytes = await sharp({ create: { width: 3, height: 2, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    expect(await plot.image("red", new Uint8Array(bytes), { dir })).toBeUndefined();
    const file = path.join(dir, "red.png");
    expect((await sharp(fs.readFileSync(file)).metadata()).width).toBe(3);
    await expect(plot.image("bad", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), { dir })).rejects.toThrow(/image bad: .*not a PNG/);
  });

  it("rejects a figure without a data list", async () => {
    await expect(plot.show("broken", { layout: {} } as unknown as plot.FigureSpec, { dir })).rejects.toThrow(/figure broken: expected \{data/);
  });
});
