/**
 * Optional native JPEG 2000 decoding through a command-line decoder, used when one is on the PATH,
 * for unsigned frames: Grok's `grk_decompress` (Debian: grokj2k-tools), else OpenJPEG's
 * `opj_decompress` (Debian: libopenjp2-tools). On a 3328 x 4096 14-bit lossless frame, CPU time
 * per frame: the OpenJPEG wasm build (codecs/wasm.ts) ~3.4 s, opj_decompress ~2.3 s, grk_decompress
 * ~2.0 s (one thread each). The samples are the codestream's either way (a lossless decode has one
 * answer); when no tool is there or it fails, the caller decodes with the wasm build, whose checks
 * and error messages stay the ones users see. Grok runs with one thread (-H 1): tiling already runs
 * one worker per core.
 *
 * MILPF_OPJ_DECOMPRESS: a path to either tool (told apart by its name), or "off" to never use one.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJ2kSize } from "./jpegHeader";
import type { DecodedFrame } from "./wasm";

/** A native JPEG 2000 decoder: its path and which tool it is. */
export interface NativeJ2kDecoder {
  path: string;
  tool: "grk_decompress" | "opj_decompress";
}

let found: NativeJ2kDecoder | null | undefined;

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The native decoder to use (MILPF_OPJ_DECOMPRESS, else grk_decompress, else opj_decompress on the PATH), or null; looked up once. */
export function nativeJ2kDecoder(): NativeJ2kDecoder | null {
  if (found !== undefined) return found;
  const env = process.env.MILPF_OPJ_DECOMPRESS;
  if (env === "off") return (found = null);
  const toolOf = (p: string): NativeJ2kDecoder["tool"] => (path.basename(p).startsWith("grk_") ? "grk_decompress" : "opj_decompress");
  if (env) return (found = executable(env) ? { path: env, tool: toolOf(env) } : null);
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  found = null;
  for (const tool of ["grk_decompress", "opj_decompress"] as const) {
    const hit = dirs.map((d) => path.join(d, tool)).find(executable);
    if (hit) return (found = { path: hit, tool });
  }
  return found;
}

/** Forget the looked-up tool (tests switch MILPF_OPJ_DECOMPRESS). */
export function resetNativeJ2kDecoder(): void {
  found = undefined;
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20 }, (err, _stdout, stderr) => (err ? reject(new Error(`${err.message} ${String(stderr).slice(-500)}`)) : resolve()));
  });
}

/**
 * Decode a JPEG 2000 frame (codestream or JP2) with the native decoder, or null when the tool is
 * not there, the header is not an unsigned one-component frame of `expect`'s size and at most
 * 16 bits (the wasm path decodes or reports those), or the tool fails. Samples little endian, 1 or 2 bytes each
 * (as the wasm decoder returns them).
 */
export async function decodeJpeg2000Native(data: Uint8Array, expect: { width: number; height: number }): Promise<DecodedFrame | null> {
  const decoder = nativeJ2kDecoder();
  if (!decoder) return null;
  let siz;
  try {
    siz = readJ2kSize(data);
  } catch {
    return null;
  }
  if (siz.columns !== expect.width || siz.rows !== expect.height || siz.components !== 1 || siz.precision < 1 || siz.precision > 16) return null;
  // the tools' raw output shifts signed samples (it does not write them as two's
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
    await run(decoder.path, decoder.tool === "grk_decompress" ? ["-i", input, "-o", output, "-H", "1"] : ["-i", input, "-o", output, "-quiet"]);
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
