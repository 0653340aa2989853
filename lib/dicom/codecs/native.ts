/**
 * Optional native JPEG 2000 decoding through OpenJPEG's command-line decoder `opj_decompress`
 * (Debian: libopenjp2-tools), used when it is on the PATH, for unsigned frames. It is the same library as the wasm
 * build (codecs/wasm.ts), compiled natively: a 3328 x 4096 14-bit lossless frame decodes in
 * ~2.2 s of CPU instead of ~3.4 s. The samples are the codestream's either way (a lossless
 * decode has one answer); when the tool is missing or fails, the caller decodes with the wasm
 * build, whose checks and error messages stay the ones users see.
 *
 * MILPF_OPJ_DECOMPRESS: a path to the tool, or "off" to never use it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJ2kSize } from "./jpegHeader";
import type { DecodedFrame } from "./wasm";

let found: string | null | undefined;

/** The opj_decompress to use (MILPF_OPJ_DECOMPRESS, else the PATH), or null; looked up once. */
export function opjDecompressPath(): string | null {
  if (found !== undefined) return found;
  const env = process.env.MILPF_OPJ_DECOMPRESS;
  if (env === "off") return (found = null);
  const candidates = env ? [env] : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, "opj_decompress"));
  found = null;
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) {
        found = c;
        break;
      }
    } catch {
      // not there
    }
  }
  return found;
}

/** Forget the looked-up tool (tests switch MILPF_OPJ_DECOMPRESS). */
export function resetOpjDecompressPath(): void {
  found = undefined;
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20 }, (err, _stdout, stderr) => (err ? reject(new Error(`${err.message} ${String(stderr).slice(-500)}`)) : resolve()));
  });
}

/**
 * Decode a JPEG 2000 frame (codestream or JP2) with opj_decompress, or null when the tool is
 * not there, the header is not an unsigned one-component frame of `expect`'s size and at most
 * 16 bits (the wasm path decodes or reports those), or the tool fails. Samples little endian, 1 or 2 bytes each
 * (as the wasm decoder returns them).
 */
export async function decodeJpeg2000Native(data: Uint8Array, expect: { width: number; height: number }): Promise<DecodedFrame | null> {
  const bin = opjDecompressPath();
  if (!bin) return null;
  let siz;
  try {
    siz = readJ2kSize(data);
  } catch {
    return null;
  }
  if (siz.columns !== expect.width || siz.rows !== expect.height || siz.components !== 1 || siz.precision < 1 || siz.precision > 16) return null;
  // opj_decompress's raw output shifts signed samples (it does not write them as two's
  // complement): signed frames go to the wasm build
  if (siz.signed) return null;
  const bytesPerSample = siz.precision > 8 ? 2 : 1;
  const codestream = data.length >= 2 && data[0] === 0xff && data[1] === 0x4f;
  let dir: string | null = null;
  try {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "milpf-opj-"));
    const input = path.join(dir, codestream ? "in.j2k" : "in.jp2");
    const output = path.join(dir, "out.rawl");
    await fs.promises.writeFile(input, data);
    await run(bin, ["-i", input, "-o", output, "-quiet"]);
    const raw = await fs.promises.readFile(output);
    if (raw.length !== expect.width * expect.height * bytesPerSample) return null;
    return {
      info: { width: siz.columns, height: siz.rows, bitsPerSample: siz.precision, componentCount: 1, isSigned: false },
      bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
    };
  } catch {
    return null;
  } finally {
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
