import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import sharp from "sharp";
import { afterAll, describe, expect, it, vi } from "vitest";
import { encodeNpy, previewPng, readDicom, writeDicom } from "../../lib/dicom";
import { register } from "../../runner/commands/dicom";
import { baseInput, texturedPixels } from "./helpers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-dicom-cli-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Parse a .npy v1.0 file by the format's definition (independent of encodeNpy). */
function parseNpy(bytes: Uint8Array): { descr: string; fortran: boolean; shape: number[]; headerBytes: number; values: number[] } {
  expect(Array.from(bytes.subarray(0, 6))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  expect([bytes[6], bytes[7]]).toEqual([1, 0]);
  const hlen = bytes[8] + 256 * bytes[9];
  const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString("latin1");
  expect(header.endsWith("\n")).toBe(true);
  expect((10 + hlen) % 64).toBe(0);
  const descr = /'descr': '([^']+)'/.exec(header)?.[1] ?? "";
  const fortran = /'fortran_order': (True|False)/.exec(header)?.[1] === "True";
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const body = Buffer.from(bytes.subarray(10 + hlen));
  const values: number[] = [];
  for (let i = 0; i + 1 < body.length; i += 2) values.push(descr === "<i2" ? body.readInt16LE(i) : body.readUInt16LE(i));
  return { descr, fortran, shape, headerBytes: 10 + hlen, values };
}

async function runCli(args: string[]): Promise<string> {
  const program = new Command();
  program.exitOverride();
  register(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    await program.parseAsync(["node", "milpf", "dicom", ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe(".npy", () => {
  it("header and payload parse back (uint16 and int16)", () => {
    const u = Uint16Array.from([0, 1, 65535, 4095, 7, 8]);
    const a = parseNpy(encodeNpy(u, [2, 3]));
    expect(a).toMatchObject({ descr: "<u2", fortran: false, shape: [2, 3] });
    expect(a.values).toEqual([0, 1, 65535, 4095, 7, 8]);
    const s = parseNpy(encodeNpy(Int16Array.from([-32768, -1, 0, 32767]), [4, 1]));
    expect(s).toMatchObject({ descr: "<i2", shape: [4, 1] });
    expect(s.values).toEqual([-32768, -1, 0, 32767]);
    expect(() => encodeNpy(u, [4, 2])).toThrow(/shape/);
  });

  it("numpy reads it, when python3 with numpy is present", () => {
    const probe = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
    if (probe.status !== 0) {
      console.warn("python3/numpy absent: numpy cross-check SKIPPED");
      return;
    }
    const f = path.join(dir, "np.npy");
    fs.writeFileSync(f, encodeNpy(Uint16Array.from([1, 2, 3, 4, 5, 6]), [3, 2]));
    const r = spawnSync("python3", ["-c", `import numpy as np; a = np.load(${JSON.stringify(f)}); print(a.dtype, a.shape, a[2, 1], a.sum())`], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe("uint16 (3, 2) 6 21");
  });
});

describe("PNG preview", () => {
  it("8- and 16-bit previews carry the window's values", async () => {
    // 1 x 3 image: stored 0, 2048, 4095 with LINEAR_EXACT window c=2048 w=4096
    // -> (x - 2048)/4096 + 0.5: 0, 0.5, 0.99976 -> 8-bit 0, 128, 255; 16-bit 0, 32768, 65519
    const input = baseInput(Uint16Array.from([0, 2048, 4095]), 1, 3, 12, "explicit-le");
    input.tags.voiLutFunction = "LINEAR_EXACT";
    delete input.tags.pixelPaddingValue;
    const f = path.join(dir, "p.dcm");
    await writeDicom(f, input);
    const img = await readDicom(f);
    const png8 = await previewPng(img);
    expect((await sharp(png8).metadata()).channels).toBe(1);
    const p8 = await sharp(png8).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(p8.data)).toEqual([0, 128, 255]);
    const p16 = await sharp(await previewPng(img, { bits: 16 })).toColourspace("grey16").raw({ depth: "ushort" }).toBuffer({ resolveWithObject: true });
    const v16 = new Uint16Array(p16.data.buffer, p16.data.byteOffset, 3);
    expect(Array.from(v16)).toEqual([0, 32768, 65519]);
  });
});

describe("milpf dicom", () => {
  it("prints JSON tags and writes .npy and .png", async () => {
    const px = texturedPixels(20, 12, 14, 9);
    const f = path.join(dir, "c.dcm");
    await writeDicom(f, baseInput(px, 20, 12, 14, "rle"));
    const npy = path.join(dir, "c.npy");
    const png = path.join(dir, "c.png");
    const out = await runCli([f, "--json", "--npy", npy, "--png", png, "--bits", "16"]);
    const tags = JSON.parse(out) as Record<string, unknown>;
    expect(tags).toMatchObject({ rows: 20, columns: 12, bitsStored: 14, laterality: "R", viewPosition: "MLO", transferSyntaxName: "RLE Lossless" });
    expect(tags.storedMax).toBe(Math.max(...px));
    const a = parseNpy(fs.readFileSync(npy));
    expect(a.shape).toEqual([20, 12]);
    expect(a.values).toEqual(Array.from(px));
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.depth]).toEqual([12, 20, "ushort"]);
    const text = await runCli([f]);
    expect(text).toMatch(/viewPosition\s+MLO/);
  });

  it("bad input: one-line error from the action", async () => {
    const bad = path.join(dir, "bad.dcm");
    fs.writeFileSync(bad, "hello");
    await expect(runCli([bad])).rejects.toThrow(`${bad}: not a DICOM file`);
    await expect(runCli([bad, "--bits", "12"])).rejects.toThrow(/--bits must be 8 or 16/);
  });
});
