/**
 * JPEG 2000 (OpenJPEG) and JPEG-LS (CharLS) through the cornerstone wasm builds. The modules are
 * loaded once, lazily, with their stdout chatter ([INFO] lines) silenced. A codec that throws
 * (bad data can abort the wasm instance) is dropped and re-instantiated on the next call.
 */

import { readJ2kSize, readJpegFrameHeader } from "./jpegHeader";

export interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
interface WasmEncoder {
  getDecodedBuffer(info: FrameInfo): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  encode(): void;
  delete(): void;
  setDecompositions?(n: number): void;
  setQuality?(lossless: boolean, quality: number): void;
  setNearLossless?(n: number): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => WasmDecoder;
  J2KEncoder: new () => WasmEncoder;
}
interface CharlsModule {
  JpegLSDecoder: new () => WasmDecoder;
  JpegLSEncoder: new () => WasmEncoder;
}
type Factory<T> = (overrides?: Record<string, unknown>) => Promise<T>;

const quiet = { print: (): void => undefined, printErr: (): void => undefined };

let openjpeg: Promise<OpenJpegModule> | null = null;
let charls: Promise<CharlsModule> | null = null;

function loadOpenJpeg(): Promise<OpenJpegModule> {
  if (!openjpeg) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory = require("@cornerstonejs/codec-openjpeg/wasmjs") as Factory<OpenJpegModule>;
    openjpeg = factory({ ...quiet });
  }
  return openjpeg;
}
function loadCharls(): Promise<CharlsModule> {
  if (!charls) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory = require("@cornerstonejs/codec-charls/wasmjs") as Factory<CharlsModule>;
    charls = factory({ ...quiet });
  }
  return charls;
}

/** Turn whatever a wasm codec threw (often a bare number) into a message. */
function codecMessage(e: unknown, what: string): string {
  if (e instanceof Error) return `${what}: ${e.message}`;
  return `${what} failed (codec error ${String(e)})`;
}

function copyOut(buf: Uint8Array): Uint8Array {
  return Uint8Array.from(buf);
}

/**
 * Encodes one frame with `enc` (after `setup`, if any) and frees it. A codec error is rethrown as
 * `what: ...`, and `forget` drops the cached module, since a wasm module that threw may be left
 * in a bad state.
 */
function runEncoder<E extends WasmEncoder>(enc: E, info: FrameInfo, samplesLe: Uint8Array, what: string, forget: () => void, setup?: (enc: E) => void): Uint8Array {
  try {
    setup?.(enc);
    const input = enc.getDecodedBuffer(info);
    if (input.length !== samplesLe.length) throw new Error(`encoder expected ${input.length} bytes, got ${samplesLe.length}`);
    input.set(samplesLe);
    enc.encode();
    return copyOut(enc.getEncodedBuffer());
  } catch (e) {
    forget();
    throw new Error(codecMessage(e, what));
  } finally {
    safeDelete(enc);
  }
}

/** Lossless JPEG 2000 codestream (.j2k, no JP2 box) of one frame. */
export async function encodeJpeg2000(samplesLe: Uint8Array, info: FrameInfo): Promise<Uint8Array> {
  const m = await loadOpenJpeg();
  return runEncoder(new m.J2KEncoder(), info, samplesLe, "JPEG 2000 encode", () => (openjpeg = null), (enc) => {
    // OpenJPEG needs 2^decompositions <= the smaller image side.
    const minSide = Math.max(1, Math.min(info.width, info.height));
    enc.setDecompositions?.(Math.min(5, Math.floor(Math.log2(minSide))));
  });
}

export async function encodeJpegLs(samplesLe: Uint8Array, info: FrameInfo): Promise<Uint8Array> {
  const m = await loadCharls();
  return runEncoder(new m.JpegLSEncoder(), info, samplesLe, "JPEG-LS encode", () => (charls = null));
}

export interface DecodedFrame {
  info: FrameInfo;
  /** Little-endian samples as the codec returns them (1 or 2 bytes each). */
  bytes: Uint8Array;
}

/**
 * Decode with a header check first: the frame must be `expect.width x expect.height`, one
 * component, at most 16 bits, so a corrupt header cannot make the codec allocate gigabytes.
 */
async function runDecoder(make: () => Promise<WasmDecoder>, data: Uint8Array, expect: { width: number; height: number }, what: string, reset: () => void): Promise<DecodedFrame> {
  const dec = await make();
  try {
    const sof = what === "JPEG 2000" ? readJ2kSize(data) : readJpegFrameHeader(data);
    if (what !== "JPEG 2000" && sof.marker !== 0xfff7) throw new Error(`${what} codestream has no SOF55 (JPEG-LS) frame header`);
    const h: FrameInfo = { width: sof.columns, height: sof.rows, bitsPerSample: sof.precision, componentCount: sof.components };
    if (h.width !== expect.width || h.height !== expect.height) {
      throw new Error(`${what} frame is ${h.width} x ${h.height}, the dataset says ${expect.width} x ${expect.height}`);
    }
    if (h.componentCount !== 1) throw new Error(`${what} frame has ${h.componentCount} components, expected 1`);
    if (h.bitsPerSample < 1 || h.bitsPerSample > 16) throw new Error(`${what} frame has ${h.bitsPerSample} bits per sample`);
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    return { info: { ...dec.getFrameInfo() }, bytes: copyOut(dec.getDecodedBuffer()) };
  } catch (e) {
    // a C++ exception (a bare number) or a wasm abort may leave the instance unusable: start afresh
    if (!(e instanceof Error) || e.constructor.name === "RuntimeError") reset();
    throw new Error(codecMessage(e, `${what} decode`));
  } finally {
    safeDelete(dec);
  }
}

export function decodeJpeg2000(data: Uint8Array, expect: { width: number; height: number }): Promise<DecodedFrame> {
  return runDecoder(async () => new (await loadOpenJpeg()).J2KDecoder(), data, expect, "JPEG 2000", () => (openjpeg = null));
}

export function decodeJpegLs(data: Uint8Array, expect: { width: number; height: number }): Promise<DecodedFrame> {
  return runDecoder(async () => new (await loadCharls()).JpegLSDecoder(), data, expect, "JPEG-LS", () => (charls = null));
}

function safeDelete(x: { delete(): void }): void {
  try {
    x.delete();
  } catch {
    // a codec that aborted may refuse to free; the module is re-created anyway
  }
}
