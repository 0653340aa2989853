import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { executeNotebook } from "../../runner/execute";
import type { CodeCell, DisplayDataOutput, Notebook } from "../../runner/nbformat";
import { staticExportAvailable } from "../../lib/plot";
import { makeNotebook, readJsonFile, requireBuild, ROOT, tempDir, writeNb } from "../runner/helpers";

/** lib/plot inside a notebook run by the runner: inline display_data + files in MILPF_FIGURES_DIR. */
describe("lib/plot in a notebook", () => {
  beforeAll(() => requireBuild());

  it("shows figures, tables and images inline and exports them to the run's figures folder", async () => {
    const dir = tempDir("nb-plot");
    const figures = path.join(dir, "figs");
    const lib = path.join(ROOT, "dist", "lib").replace(/\\/g, "/");
    const input = writeNb(
      dir,
      "plots.ipynb",
      makeNotebook([
        `import * as milpf from "${lib}";`,
        'await milpf.plot.show("line", { data: [{ y: [1, 3, 2], type: "scatter" }], layout: { width: 300, height: 200 } });',
        'await milpf.plot.table("scores", [{ model: "a", auc: 0.75 }, { model: "b", auc: 0.5 }], { caption: "AUC" });',
        'import * as fs from "fs";\nconst png = fs.readFileSync(' + JSON.stringify(path.join(dir, "tiny.png")) + ");\nawait milpf.plot.image(\"tiny\", new Uint8Array(png));",
      ]),
    );
    fs.writeFileSync(path.join(dir, "tiny.png"), await sharp({ create: { width: 4, height: 4, channels: 3, background: "#00ff00" } }).png().toBuffer());
    const r = await executeNotebook({ input, output: path.join(dir, "plots.out.ipynb"), figuresDir: figures, log: () => undefined });
    const nb = readJsonFile<Notebook>(r.output);
    expect(r.ok, JSON.stringify(nb.cells.map((c) => (c as CodeCell).outputs))).toBe(true);
    const cells = nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
    const displays = (i: number) => cells[i].outputs.filter((o): o is DisplayDataOutput => o.output_type === "display_data");

    const fig = displays(1);
    expect(fig).toHaveLength(1);
    if (staticExportAvailable()) {
      const meta = await sharp(Buffer.from(fig[0].data["image/png"] as string, "base64")).metadata();
      expect([meta.width, meta.height]).toEqual([1200, 800]); // PNG_SCALE 4 x the 300 x 200 layout
      expect(fs.existsSync(path.join(figures, "line.png"))).toBe(true);
      expect(fs.existsSync(path.join(figures, "line.svg"))).toBe(true);
    } else {
      expect(fig[0].data["text/html"]).toContain("line.html");
    }
    expect(fs.existsSync(path.join(figures, "line.html"))).toBe(true);
    expect(fs.existsSync(path.join(figures, "line.json"))).toBe(true);

    // show/table/image return nothing: no cell echoes a path object
    for (const i of [1, 2, 3]) expect(cells[i].outputs.filter((o) => o.output_type === "execute_result")).toEqual([]);

    const tab = displays(2);
    expect(tab).toHaveLength(1);
    expect(tab[0].data["text/html"]).toContain("<caption>AUC</caption>");
    expect(tab[0].data["text/html"]).toContain('<td style="text-align:right">0.750</td>');
    expect(fs.readFileSync(path.join(figures, "scores.csv"), "utf8")).toBe("model,auc\na,0.75\nb,0.5\n");
    expect(fs.existsSync(path.join(figures, "scores.md"))).toBe(true);
    expect(fs.existsSync(path.join(figures, "scores.tex"))).toBe(true);

    const img = displays(3);
    expect(img).toHaveLength(1);
    expect(Buffer.from(img[0].data["image/png"] as string, "base64")).toEqual(fs.readFileSync(path.join(dir, "tiny.png")));
    expect(fs.readFileSync(path.join(figures, "tiny.png"))).toEqual(fs.readFileSync(path.join(dir, "tiny.png")));
  });

  it("progress of a long cell is one display that updates in place (no stream of lines)", async () => {
    const dir = tempDir("nb-progress");
    const lib = path.join(ROOT, "dist", "lib").replace(/\\/g, "/");
    const input = writeNb(
      dir,
      "progress.ipynb",
      makeNotebook([
        `import * as milpf from "${lib}";`,
        'const p = new milpf.util.Progress({ label: "work", total: 5, unit: "steps" });\nfor (let i = 0; i < 5; i++) { await new Promise((r) => setTimeout(r, 120)); p.tick(); }',
      ]),
    );
    const r = await executeNotebook({ input, output: path.join(dir, "progress.out.ipynb"), figuresDir: path.join(dir, "figs"), log: () => undefined });
    const nb = readJsonFile<Notebook>(r.output);
    const cell = nb.cells.filter((c): c is CodeCell => c.cell_type === "code")[1];
    expect(r.ok, JSON.stringify(cell.outputs)).toBe(true);
    expect(cell.outputs).toHaveLength(1);
    const html = (cell.outputs[0] as DisplayDataOutput).data["text/html"] as string;
    // the one display holds the final state: 5 of 5, done
    expect(html).toContain('<progress value="5" max="5"');
    expect(html).toContain("5/5 steps");
    expect(html).toContain("(done)");
  });
});
