/**
 * Cross-checks with dcmtk (an independent C++ DICOM toolkit), when it is installed:
 * - files we write are decoded by dcmtk to Explicit VR Little Endian; the raw pixel bytes must
 *   equal what we wrote (checks our encoders, including the hand-written JPEG Lossless SV1);
 * - files dcmtk encodes (JPEG Lossless SV1 and predictor 6, JPEG-LS, RLE, big endian, deflated,
 *   implicit) are decoded by readDicom to the original pixels (checks our decoders).
 * JPEG 2000 is not in dcmtk; it is covered by the round-trip tests only.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as dicomParser from "dicom-parser";
import { afterAll, describe, expect, it } from "vitest";
import { TRANSFER_SYNTAX_UIDS, readDicom, writeDicom, type WritableTransferSyntax } from "../../lib/dicom";
import { baseInput, texturedPixels } from "./helpers";

const hasDcmtk = spawnSync("dcmdump", ["--version"], { encoding: "utf8" }).status === 0;
if (!hasDcmtk) console.warn("dcmtk not installed: the dcmtk cross-checks are SKIPPED");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-dcmtk-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
}

/** Raw native pixel words of an Explicit VR Little Endian file, read without lib/dicom. */
function rawPixelWords(file: string): Uint16Array {
  const bytes = fs.readFileSync(file);
  const ds = dicomParser.parseDicom(bytes);
  expect(ds.string("x00020010")).toBe(TRANSFER_SYNTAX_UIDS["explicit-le"]);
  const el = ds.elements.x7fe00010;
  const out = new Uint16Array(el.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt16LE(el.dataOffset + 2 * i);
  return out;
}

const cases: { rows: number; columns: number; bits: number }[] = [
  { rows: 37, columns: 29, bits: 12 },
  { rows: 33, columns: 18, bits: 16 },
];

describe.skipIf(!hasDcmtk)("dcmtk decodes what we write", () => {
  const decoders: [WritableTransferSyntax, string, string[]][] = [
    ["jpeg-lossless-sv1", "dcmdjpeg", []],
    ["jpegls-lossless", "dcmdjpls", []],
    ["rle", "dcmdrle", []],
    ["explicit-be", "dcmconv", ["+te"]],
    ["implicit-le", "dcmconv", ["+te"]],
    ["deflated-le", "dcmconv", ["+te"]],
  ];
  for (const [ts, tool, args] of decoders) {
    it(`${ts} via ${tool}`, async () => {
      for (const c of cases) {
        const px = texturedPixels(c.rows, c.columns, c.bits, c.rows + c.bits);
        const src = path.join(dir, `ours-${ts}-${c.bits}.dcm`);
        const out = path.join(dir, `ours-${ts}-${c.bits}-le.dcm`);
        await writeDicom(src, baseInput(px, c.rows, c.columns, c.bits, ts));
        const dump = spawnSync("dcmdump", ["-q", src], { encoding: "utf8" });
        expect(dump.status, dump.stderr).toBe(0);
        expect(dump.stderr).toBe("");
        run(tool, [...args, src, out]);
        expect(Array.from(rawPixelWords(out))).toEqual(Array.from(px));
      }
    });
  }
});

describe.skipIf(!hasDcmtk)("readDicom decodes what dcmtk writes", () => {
  const encoders: [string, string, string[], string][] = [
    ["JPEG Lossless SV1", "dcmcjpeg", ["+e1"], TRANSFER_SYNTAX_UIDS["jpeg-lossless-sv1"]],
    ["JPEG Lossless predictor 6", "dcmcjpeg", ["+el", "+sv", "6"], TRANSFER_SYNTAX_UIDS["jpeg-lossless"]],
    ["JPEG-LS lossless", "dcmcjpls", ["+el"], TRANSFER_SYNTAX_UIDS["jpegls-lossless"]],
    ["RLE", "dcmcrle", [], TRANSFER_SYNTAX_UIDS.rle],
    ["big endian", "dcmconv", ["+tb"], TRANSFER_SYNTAX_UIDS["explicit-be"]],
    ["implicit", "dcmconv", ["+ti"], TRANSFER_SYNTAX_UIDS["implicit-le"]],
    ["deflated", "dcmconv", ["+td"], TRANSFER_SYNTAX_UIDS["deflated-le"]],
  ];
  for (const [label, tool, args, uid] of encoders) {
    it(`${label} via ${tool}`, async () => {
      for (const c of cases) {
        const px = texturedPixels(c.rows, c.columns, c.bits, 100 + c.rows + c.bits);
        const src = path.join(dir, `le-${label}-${c.bits}.dcm`.replace(/ /g, "_"));
        const out = path.join(dir, `dcmtk-${label}-${c.bits}.dcm`.replace(/ /g, "_"));
        await writeDicom(src, baseInput(px, c.rows, c.columns, c.bits, "explicit-le"));
        run(tool, [...args, src, out]);
        const img = await readDicom(out);
        expect(img.transferSyntaxUid).toBe(uid);
        expect(Array.from(img.pixels)).toEqual(Array.from(px));
      }
    });
  }
});

describe.skipIf(!hasDcmtk)("dcmtk: fragmented frames, empty offset table, near-lossless", () => {
  const rows = 96;
  const columns = 80;
  const px = texturedPixels(rows, columns, 16, 77);

  it("a frame split over 1 KB fragments with an empty Basic Offset Table decodes bit-exactly", async () => {
    const src = path.join(dir, "frag-src.dcm");
    await writeDicom(src, baseInput(px, rows, columns, 16, "explicit-le"));
    for (const [tool, args] of [["dcmcjpeg", ["+e1"]], ["dcmcjpls", ["+el"]]] as const) {
      const out = path.join(dir, `frag-${tool}.dcm`);
      run(tool, [...args, "+fs", "1", "-ot", src, out]);
      const dump = spawnSync("dcmdump", [out], { encoding: "utf8" }).stdout;
      const items = /PixelSequence #=(\d+)/.exec(dump);
      expect(Number(items?.[1]), `${tool} should have made several fragments`).toBeGreaterThan(3);
      const img = await readDicom(out);
      expect(Array.from(img.pixels), tool).toEqual(Array.from(px));
    }
  });

  it("JPEG-LS near-lossless (NEAR 2) decodes within +-2", async () => {
    const src = path.join(dir, "near-src.dcm");
    const px12 = texturedPixels(rows, columns, 12, 78);
    await writeDicom(src, baseInput(px12, rows, columns, 12, "explicit-le"));
    const out = path.join(dir, "near.dcm");
    run("dcmcjpls", ["+en", src, out]);
    const img = await readDicom(out);
    expect(img.transferSyntaxUid).toBe(TRANSFER_SYNTAX_UIDS["jpegls-near-lossless"]);
    let maxErr = 0;
    for (let i = 0; i < px12.length; i++) maxErr = Math.max(maxErr, Math.abs(img.pixels[i] - px12[i]));
    expect(maxErr).toBeLessThanOrEqual(2);
    expect(maxErr).toBeGreaterThan(0); // it really was lossy
  });
});
