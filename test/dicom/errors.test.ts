import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DicomError, WRITABLE_TRANSFER_SYNTAXES, encodeDicom, readDicom, readDicomBytes } from "../../lib/dicom";
import { Rng } from "../../lib/util/rng";
import { baseInput, texturedPixels } from "./helpers";

async function sample(ts: (typeof WRITABLE_TRANSFER_SYNTAXES)[number], rows = 24, columns = 20): Promise<Uint8Array> {
  return encodeDicom(baseInput(texturedPixels(rows, columns, 12, 11), rows, columns, 12, ts));
}

function indexOf(hay: Uint8Array, needle: number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

async function expectDicomError(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, "should have thrown").toBeInstanceOf(DicomError);
  const msg = (err as DicomError).message;
  expect(msg.startsWith(`${name}: `), msg).toBe(true);
  expect(msg).toMatch(pattern);
  expect(msg.includes("\n")).toBe(false);
}

describe("named bad inputs give one clear DicomError naming the file", () => {
  it("not a DICOM file", async () => {
    const text = new TextEncoder().encode("patient_id,laterality\n1,L\n".repeat(20));
    await expectDicomError(readDicomBytes(text, "table.csv"), "table.csv", /not a DICOM file/);
    await expectDicomError(readDicomBytes(new Uint8Array(3), "tiny.dcm"), "tiny.dcm", /not a DICOM file/);
  });

  it("missing file", async () => {
    const f = path.join(os.tmpdir(), "milpf-no-such-file.dcm");
    await expectDicomError(readDicom(f), f, /no such file/);
  });

  it("truncated file", async () => {
    for (const ts of ["explicit-le", "jpegls-lossless"] as const) {
      const bytes = await sample(ts);
      await expectDicomError(readDicomBytes(bytes.subarray(0, bytes.length - 300), `cut-${ts}.dcm`), `cut-${ts}.dcm`, /truncated/);
    }
  });

  it("missing pixel data", async () => {
    const bytes = await sample("explicit-le");
    const at = indexOf(bytes, [0xe0, 0x7f, 0x10, 0x00]);
    expect(at).toBeGreaterThan(0);
    await expectDicomError(readDicomBytes(bytes.subarray(0, at), "nopix.dcm"), "nopix.dcm", /no pixel data/);
  });

  it("unsupported transfer syntax, named", async () => {
    const bytes = (await sample("jpeg2000-lossless")).slice();
    const uid = Array.from(new TextEncoder().encode("1.2.840.10008.1.2.4.90"));
    const at = indexOf(bytes, uid);
    bytes.set(new TextEncoder().encode("1.2.840.10008.1.2.4.50"), at);
    await expectDicomError(readDicomBytes(bytes, "baseline.dcm"), "baseline.dcm", /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.50 \(JPEG Baseline/);
  });

  it("pixel data shorter than rows x columns x bits", async () => {
    const bytes = (await sample("explicit-le")).slice();
    // Rows (0028,0010) US: 28 00 10 00 'U' 'S' 02 00 <value>
    const at = indexOf(bytes, [0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00]);
    new DataView(bytes.buffer).setUint16(at + 8, 25, true);
    await expectDicomError(readDicomBytes(bytes, "short.dcm"), "short.dcm", /pixel data has 960 bytes, shorter than rows x columns x bits = 25 x 20 x 16/);
  });

  it("multi-frame where one frame is expected", async () => {
    const px = texturedPixels(16, 10, 12, 2);
    for (const ts of ["explicit-le", "rle"] as const) {
      const bytes = await encodeDicom({ ...baseInput(px, 8, 10, 12, ts), numberOfFrames: 2 });
      await expectDicomError(readDicomBytes(bytes, "multi.dcm"), "multi.dcm", /multi-frame image \(2 frames\)/);
    }
  });

  it("readDicom on a directory", async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-dir-"));
    await expectDicomError(readDicom(d), d, /cannot read the file/);
    fs.rmdirSync(d);
  });
});

describe("fuzzing: truncated and byte-mutated files never crash or hang", () => {
  // MILPF_DICOM_FUZZ_N raises the count for a longer local run (default 1,000)
  const total = Number(process.env.MILPF_DICOM_FUZZ_N ?? 1000);
  it(`${total} mutated files -> a successful read or a DicomError`, async () => {
    const bases: Uint8Array[] = [];
    for (const ts of WRITABLE_TRANSFER_SYNTAXES) bases.push(await sample(ts, 24, 20));
    const rng = new Rng(process.env.MILPF_DICOM_FUZZ_SEED ?? "dicom-fuzz");
    let ok = 0;
    let failed = 0;
    let slowest = 0;
    const started = Date.now();
    for (let k = 0; k < total; k++) {
      const base = bases[k % bases.length];
      let bytes: Uint8Array;
      const kind = rng.int(0, 3);
      if (kind === 0) {
        bytes = base.slice(0, rng.int(0, base.length - 1)); // truncation
      } else {
        bytes = base.slice();
        const flips = kind === 1 ? rng.int(1, 4) : rng.int(5, 40);
        // half of the mutations hit the header (first 600 bytes), where the structure lives
        for (let f = 0; f < flips; f++) {
          const at = rng.bernoulli(0.5) ? rng.int(0, Math.min(599, bytes.length - 1)) : rng.int(0, bytes.length - 1);
          bytes[at] = kind === 3 ? [0x00, 0xff, 0xfe, 0x7f][rng.int(0, 3)] : rng.int(0, 255);
        }
      }
      const name = `fuzz-${k}.dcm`;
      const t0 = Date.now();
      try {
        const img = await readDicomBytes(bytes, name);
        expect(img.pixels.length).toBe(img.rows * img.columns);
        ok++;
      } catch (e) {
        if (!(e instanceof DicomError)) throw new Error(`${name}: non-DicomError ${String(e)}`);
        expect(e.message.startsWith(`${name}: `)).toBe(true);
        failed++;
      }
      const dt = Date.now() - t0;
      slowest = Math.max(slowest, dt);
      expect(dt, `${name} took ${dt} ms`).toBeLessThan(5000);
    }
    expect(ok + failed).toBe(total);
    expect(failed).toBeGreaterThan(total / 10); // the mutations do break things
    expect(Date.now() - started).toBeLessThan(60 * total);
    console.log(`fuzz: ${ok} read, ${failed} DicomError, slowest ${slowest} ms, total ${Date.now() - started} ms`);
  });
});
