import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import * as plot from "../../lib/plot";

describe("without Chromium", () => {
  it("exports HTML + JSON only and prints ONE warning saying how to enable static export", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-noch-"));
    const old = process.env.MILPF_CHROMIUM;
    process.env.MILPF_CHROMIUM = path.join(dir, "no-such-chromium");
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const a = await plot.exportFigure("a", { data: [{ y: [1, 2] }] }, { dir });
      const b = await plot.exportFigure("b", { data: [{ y: [3, 4] }] }, { dir });
      // show() returns nothing (a notebook cell ending with it echoes nothing)
      expect(await plot.show("c", { data: [{ y: [5, 6] }] }, { dir })).toBeUndefined();
      expect(a).toEqual({ json: path.join(dir, "a.json"), html: path.join(dir, "a.html") });
      expect(b.png).toBeUndefined();
      expect(fs.existsSync(path.join(dir, "a.png"))).toBe(false);
      expect(fs.existsSync(path.join(dir, "a.html"))).toBe(true);
    } finally {
      spy.mockRestore();
      if (old === undefined) delete process.env.MILPF_CHROMIUM;
      else process.env.MILPF_CHROMIUM = old;
    }
    const warnings = lines.filter((l) => l.includes("Chromium"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("apt-get install -y chromium");
    expect(warnings[0].trim().split("\n")).toHaveLength(1);
  });

  it("tables are written as CSV, Markdown and LaTeX", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-tab-"));
    expect(await plot.table("metrics/v1", [{ k: "auc", v: 0.75 }], { dir, caption: "c" })).toBeUndefined();
    const files = plot.tableFiles("metrics/v1", dir);
    expect(files).toEqual({ csv: path.join(dir, "metrics_v1.csv"), md: path.join(dir, "metrics_v1.md"), tex: path.join(dir, "metrics_v1.tex") });
    expect(fs.readFileSync(files.csv, "utf8")).toBe("k,v\nauc,0.75\n");
    expect(fs.readFileSync(files.tex, "utf8")).toContain("\\label{tab:metrics_v1}");
  });

  it("figuresDir follows MILPF_FIGURES_DIR, else figures/<notebook>", () => {
    const root = path.resolve(__dirname, "..", "..");
    expect(plot.figuresDir({ MILPF_FIGURES_DIR: "/abs/figs" })).toBe("/abs/figs");
    expect(plot.figuresDir({ MILPF_FIGURES_DIR: "out/f" })).toBe(path.join(root, "out", "f"));
    expect(plot.figuresDir({ MILPF_NOTEBOOK: "01_tile" })).toBe(path.join(root, "figures", "01_tile"));
    expect(plot.figuresDir({ JPY_SESSION_NAME: "/x/notebooks/02_embed.ipynb" })).toBe(path.join(root, "figures", "02_embed"));
    expect(plot.figuresDir({})).toBe(path.join(root, "figures", "interactive"));
  });
});
