import { compiledCli } from "./cliBuild";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBuiltinModel, writeBuiltinEncoder } from "../../lib/embed/builtin";
import type { Encoder } from "../../lib/embed/encoder";
import { loadEncoder } from "../../lib/embed/loadEncoder";
import { loadOnnxEncoder } from "../../lib/embed/onnxEncoder";
import { OnnxGraphBuilder } from "../../lib/util/onnxGraph";
import { writeTinyVit } from "../../lib/embed/tinyVit";
import { writeFileAtomic, writeJsonAtomic } from "../../lib/util/atomic";
import { Rng } from "../../lib/util/rng";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-enc-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function norms(x: Float32Array, rows: number, dim: number): number[] {
  return Array.from({ length: rows }, (_, r) => Math.hypot(...x.subarray(r * dim, (r + 1) * dim)));
}

/**
 * Test tiles made here (not the encoder's calibration generator): a textured background of
 * random sinusoids plus noise; positives carry a bright round mass (radius 8-35 px) or a
 * cluster of 2-3 px bright specks.
 */
function testTile(S: number, rng: Rng, kind: "normal" | "mass" | "calc"): Float32Array {
  const img = new Float32Array(S * S);
  const waves = Array.from({ length: 4 }, () => ({ fx: rng.range(-0.08, 0.08), fy: rng.range(-0.08, 0.08), ph: rng.range(0, 6.3), a: rng.range(0.02, 0.08) }));
  const base = rng.range(0.25, 0.55);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      let v = base + rng.normal(0, 0.025);
      for (const w of waves) v += w.a * Math.sin(w.fx * x + w.fy * y + w.ph);
      img[y * S + x] = v;
    }
  if (kind === "mass") {
    const r = rng.range(8, 35);
    const cx = rng.range(r * 0.5, S - r * 0.5);
    const cy = rng.range(r * 0.5, S - r * 0.5);
    const a = rng.range(0.15, 0.3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (Math.hypot(x - cx, y - cy) < r) img[y * S + x] += a;
  } else if (kind === "calc") {
    const cx = rng.range(30, S - 30);
    const cy = rng.range(30, S - 30);
    for (let i = 0; i < rng.int(6, 12); i++) {
      const sx = Math.round(cx + rng.normal(0, 9));
      const sy = Math.round(cy + rng.normal(0, 9));
      const sz = rng.int(2, 3);
      for (let y = sy; y < sy + sz; y++) for (let x = sx; x < sx + sz; x++) if (x >= 0 && y >= 0 && x < S && y < S) img[y * S + x] += rng.range(0.25, 0.45);
    }
  }
  for (let i = 0; i < img.length; i++) img[i] = Math.min(1, Math.max(0, img[i]));
  return img;
}

describe("built-in encoder", () => {
  let enc: Encoder;
  const folder = path.join(tmp, "builtin");
  beforeAll(async () => {
    await writeBuiltinEncoder(folder, { inputSizePx: 128, dim: 256, seed: 0 });
    enc = await loadEncoder("builtin", { builtinFolder: folder });
  });
  afterAll(async () => enc.close());

  it("is deterministic: same model bytes twice, same embeddings twice", async () => {
    const bytes = await buildBuiltinModel({ inputSizePx: 128, dim: 256, seed: 0 });
    expect(Buffer.from(bytes).equals(fs.readFileSync(path.join(folder, "model.onnx")))).toBe(true);
    const other = await buildBuiltinModel({ inputSizePx: 128, dim: 256, seed: 1 });
    expect(Buffer.from(other).equals(Buffer.from(bytes))).toBe(false);
    const rng = new Rng(3);
    const batch = new Float32Array(3 * 128 * 128);
    for (let i = 0; i < 3; i++) batch.set(testTile(128, rng, i === 0 ? "normal" : i === 1 ? "mass" : "calc"), i * 128 * 128);
    const a = await enc.embed(batch, 3);
    const b = await enc.embed(batch, 3);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    // one at a time equals batched (no cross-talk between batch rows)
    const single = await enc.embed(batch.subarray(128 * 128, 2 * 128 * 128), 1);
    for (let d = 0; d < 256; d++) expect(single[d]).toBeCloseTo(a[256 + d], 5);
  });

  it("rebuilds a built-in folder written by other code (stale graph signature)", async () => {
    const stale = path.join(tmp, "stale");
    await writeBuiltinEncoder(stale, { inputSizePx: 32, dim: 8, seed: 0 });
    const cfgFile = path.join(stale, "config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
    const good = cfg.graph_signature;
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, graph_signature: "old" }));
    fs.writeFileSync(path.join(stale, "model.onnx"), "garbage");
    const e = await loadEncoder("builtin", { builtinFolder: stale, builtin: { inputSizePx: 32, dim: 8, seed: 0 } });
    expect(e.dim).toBe(8);
    expect((JSON.parse(fs.readFileSync(cfgFile, "utf8")) as Record<string, unknown>).graph_signature).toBe(good);
    await e.close();
  });

  it("has the right dimension, L2 norm 1, and reports the provider that ran", async () => {
    expect(enc.dim).toBe(256);
    expect(enc.inputSizePx).toBe(128);
    expect(enc.provider).toBe("cpu");
    expect(enc.name).toBe("milpf-builtin");
    const rng = new Rng(4);
    const batch = new Float32Array(4 * 128 * 128);
    for (let i = 0; i < 4; i++) batch.set(testTile(128, rng, "normal"), i * 128 * 128);
    const e = await enc.embed(batch, 4);
    expect(e.length).toBe(4 * 256);
    for (const n of norms(e, 4, 256)) expect(n).toBeCloseTo(1, 5);
  });

  it("separates lesion tiles from normal tiles (nearest-mean probe on held-out tiles)", async () => {
    const S = 128;
    const rng = new Rng(11);
    const kinds: ("normal" | "mass" | "calc")[] = [];
    for (let i = 0; i < 80; i++) kinds.push(i % 2 === 0 ? "normal" : i % 4 === 1 ? "mass" : "calc");
    const batch = new Float32Array(kinds.length * S * S);
    kinds.forEach((k, i) => batch.set(testTile(S, rng, k), i * S * S));
    const e = await enc.embed(batch, kinds.length);
    const D = enc.dim;
    const y = kinds.map((k) => (k === "normal" ? 0 : 1));
    const train = kinds.map((_, i) => i < 40);
    const mean = [new Float64Array(D), new Float64Array(D)];
    const cnt = [0, 0];
    for (let i = 0; i < kinds.length; i++) {
      if (!train[i]) continue;
      cnt[y[i]]++;
      for (let d = 0; d < D; d++) mean[y[i]][d] += e[i * D + d];
    }
    let correct = 0;
    let tested = 0;
    for (let i = 0; i < kinds.length; i++) {
      if (train[i]) continue;
      const dist = [0, 1].map((c) => {
        let s = 0;
        for (let d = 0; d < D; d++) s += (e[i * D + d] - mean[c][d] / cnt[c]) ** 2;
        return s;
      });
      const pred = dist[1] < dist[0] ? 1 : 0;
      if (pred === y[i]) correct++;
      tested++;
    }
    const acc = correct / tested;
    if (process.env.MILPF_DEBUG) console.log("probe accuracy", acc);
    expect(tested).toBe(40);
    expect(acc).toBeGreaterThanOrEqual(0.8); // chance is 0.5
  });
});

describe("ONNX loader", () => {
  it("applies the preprocessor config exactly (identity model returns the normalised input)", async () => {
    const S = 4;
    const folder = path.join(tmp, "identity");
    const g = new OnnxGraphBuilder("identity");
    g.input("pixel_values", ["batch", 3, S, S]);
    g.op("Flatten", ["pixel_values"], { axis: { i: 1 } }, "embedding");
    g.output("embedding", ["batch", 3 * S * S]);
    writeFileAtomic(path.join(folder, "model.onnx"), g.toBytes());
    const mean = [0.5, 0.4, 0.3];
    const std = [0.2, 0.25, 0.5];
    writeJsonAtomic(path.join(folder, "preprocessor_config.json"), { size: { height: S, width: S }, image_mean: mean, image_std: std, rescale_factor: 1 / 255, do_normalize: true });
    writeJsonAtomic(path.join(folder, "config.json"), { model_type: "identity-test" });
    const enc = await loadOnnxEncoder(folder);
    expect(enc.inputSizePx).toBe(S);
    expect(enc.dim).toBe(3 * S * S);
    const grey = Float32Array.from({ length: 2 * S * S }, (_, i) => (i * 7) % 11 / 10);
    const out = await enc.embed(grey, 2);
    for (let b = 0; b < 2; b++) {
      // by hand: channel c pixel p = ((255 x) / 255 - mean[c]) / std[c], then the row is L2-normalised
      const expected: number[] = [];
      for (let c = 0; c < 3; c++) for (let p = 0; p < S * S; p++) expected.push((grey[b * S * S + p] - mean[c]) / std[c]);
      const n = Math.hypot(...expected);
      for (let i = 0; i < expected.length; i++) expect(out[b * 48 + i]).toBeCloseTo(expected[i] / n, 6);
    }
    // spot check one value fully by hand: x = 0.7 (i = 1 -> 7 % 11 / 10), channel 2: (0.7 - 0.3) / 0.5 = 0.8
    expect(grey[1]).toBeCloseTo(0.7, 7);
    await enc.close();
  });

  it("loads a model whose weights are ONNX external data beside model.onnx", async () => {
    const folder = path.join(tmp, "external");
    const S = 2;
    const g = new OnnxGraphBuilder("external");
    g.input("pixel_values", ["batch", 3, S, S]);
    const flat = g.op("Flatten", ["pixel_values"], { axis: { i: 1 } });
    const W = Float32Array.from({ length: 12 * 2 }, (_, i) => Math.sin(i + 1)); // 12 x 2
    g.op("MatMul", [flat, g.floatInit("w", [12, 2], W, { external: true })], {}, "pooler_output");
    g.output("pooler_output", ["batch", 2]);
    const { model, data } = g.toBytesWithExternalData("model.onnx_data");
    expect(model.length).toBeLessThan(400); // the weights are not inside the proto
    writeFileAtomic(path.join(folder, "model.onnx"), model);
    writeFileAtomic(path.join(folder, "model.onnx_data"), data);
    writeJsonAtomic(path.join(folder, "preprocessor_config.json"), { size: S, image_mean: 0, image_std: 1, rescale_factor: 1 / 255 });
    const enc = await loadOnnxEncoder(folder);
    const grey = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const out = await enc.embed(grey, 1);
    // by hand: x = grey replicated over 3 channels (12 values), y = x W, then L2-normalised
    const y = [0, 0];
    for (let i = 0; i < 12; i++) for (let j = 0; j < 2; j++) y[j] += grey[i % 4] * W[i * 2 + j];
    const n = Math.hypot(...y);
    expect(out[0]).toBeCloseTo(y[0] / n, 6);
    expect(out[1]).toBeCloseTo(y[1] / n, 6);
    await enc.close();
    // without its data file the model does not load, and the error names the model file
    fs.rmSync(path.join(folder, "model.onnx_data"));
    await expect(loadOnnxEncoder(folder)).rejects.toThrow(/model\.onnx: onnxruntime cannot load the model/);
  });

  it("runs the tiny ViT through the DINOv2 path: CLS by default, pooler when asked", async () => {
    const folder = writeTinyVit(path.join(tmp, "vit"), { sizePx: 56, hidden: 32, seed: 5 });
    const cls = await loadEncoder(folder);
    expect(cls.params.output).toBe("last_hidden_state[:, 0]");
    expect(cls.dim).toBe(32);
    expect(cls.inputSizePx).toBe(56);
    expect(cls.resampleKernel).toBe("cubic");
    const pooler = await loadEncoder(folder, { output: "pooler" });
    expect(pooler.params.output).toBe("pooler_output");
    const S = 56;
    const rng = new Rng(9);
    const grey = Float32Array.from({ length: 2 * S * S }, () => rng.uniform());
    const eCls = await cls.embed(grey, 2);
    const ePool = await pooler.embed(grey, 2);
    // independent run of the same model on a hand-normalised tensor (ImageNet mean/std)
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const px = new Float32Array(2 * 3 * S * S);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) for (let p = 0; p < S * S; p++) px[(b * 3 + c) * S * S + p] = (grey[b * S * S + p] - mean[c]) / std[c];
    const session = await ort.InferenceSession.create(path.join(folder, "model.onnx"));
    const r = await session.run({ pixel_values: new ort.Tensor("float32", px, [2, 3, S, S]) });
    const last = r.last_hidden_state.data as Float32Array;
    const pool = r.pooler_output.data as Float32Array;
    expect(r.last_hidden_state.dims).toEqual([2, 17, 32]);
    for (let b = 0; b < 2; b++) {
      const row0 = last.subarray(b * 17 * 32, b * 17 * 32 + 32);
      // final LayerNorm (gamma 1, beta 0): token 0 has mean 0 and variance 1
      const m = row0.reduce((s, v) => s + v, 0) / 32;
      const v = row0.reduce((s, x) => s + (x - m) ** 2, 0) / 32;
      expect(Math.abs(m)).toBeLessThan(1e-5);
      expect(v).toBeCloseTo(1, 3);
      const n0 = Math.hypot(...row0);
      const pr = pool.subarray(b * 32, (b + 1) * 32);
      const np = Math.hypot(...pr);
      for (let d = 0; d < 32; d++) {
        expect(eCls[b * 32 + d]).toBeCloseTo(row0[d] / n0, 4);
        expect(ePool[b * 32 + d]).toBeCloseTo(pr[d] / np, 4);
      }
    }
    let diff = 0;
    for (let i = 0; i < eCls.length; i++) diff = Math.max(diff, Math.abs(eCls[i] - ePool[i]));
    expect(diff).toBeGreaterThan(0.05);
    await session.release();
    await cls.close();
    await pooler.close();
  });

  it("fails clearly when the asked provider is not available (no silent CPU fallback)", () => {
    const folder = writeTinyVit(path.join(tmp, "vit2"));
    // In a child process: onnxruntime's native library prints its own error line on stderr when
    // the CUDA provider cannot load; captured here, so `npm test` stays quiet.
    const cli = compiledCli();
    const lib = cli.script.endsWith(path.join("bin", "milpf.js")) ? path.join(path.dirname(path.dirname(cli.script)), "dist", "lib") : path.join(path.dirname(path.dirname(cli.script)), "lib");
    const code = `require(${JSON.stringify(lib)}).embed.loadEncoder(${JSON.stringify(folder)}, { provider: "cuda" }).then(() => process.exit(0), (e) => { process.stdout.write(e.message); process.exit(3); });`;
    const r = spawnSync(process.execPath, ["-e", code], { env: cli.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/execution provider "cuda" is not available.*Not falling back to CPU/s);
  });

  it("names the file when a folder is not an encoder", async () => {
    await expect(loadOnnxEncoder(path.join(tmp, "nothing"))).rejects.toThrow(/nothing[/\\]model\.onnx: not found/);
  });
});
