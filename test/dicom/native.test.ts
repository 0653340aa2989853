import { afterEach, describe, expect, it } from "vitest";
import { encodeDicom, readDicomBytes } from "../../lib/dicom";
import * as fs from "node:fs";
import { decodeJpeg2000Native, nativeJ2kDecoder, resetNativeJ2kDecoder } from "../../lib/dicom/codecs/native";
import { encodeJpeg2000 } from "../../lib/dicom/codecs/wasm";
import { baseInput, texturedPixels } from "./helpers";

/** JPEG 2000 through grk_decompress or opj_decompress (lib/dicom/codecs/native.ts): the same samples as the wasm build, and the wasm build when the tool is off or fails. */
const saved = process.env.MILPF_OPJ_DECOMPRESS;
afterEach(() => {
  if (saved === undefined) delete process.env.MILPF_OPJ_DECOMPRESS;
  else process.env.MILPF_OPJ_DECOMPRESS = saved;
  resetNativeJ2kDecoder();
});

async function readWith(tool: string | undefined, bytes: Uint8Array, name: string) {
  if (tool === undefined) delete process.env.MILPF_OPJ_DECOMPRESS;
  else process.env.MILPF_OPJ_DECOMPRESS = tool;
  resetNativeJ2kDecoder();
  return readDicomBytes(bytes, name);
}

describe("native JPEG 2000 decoding", () => {
  resetNativeJ2kDecoder();
  const have = nativeJ2kDecoder() !== null;

  it.skipIf(!have)("gives the wasm build's samples (12, 14, 16 bits); signed frames go to wasm", async () => {
    for (const bits of [12, 14, 16]) {
      const px = texturedPixels(37, 29, bits, bits);
      const bytes = await encodeDicom(baseInput(px, 37, 29, bits, "jpeg2000-lossless"));
      const native = await readWith(undefined, bytes, `n${bits}.dcm`);
      const wasm = await readWith("off", bytes, `w${bits}.dcm`);
      expect(Array.from(native.pixels), `${bits} bits`).toEqual(Array.from(wasm.pixels));
      expect(Array.from(native.pixels), `${bits} bits`).toEqual(Array.from(px));
    }
    const signed = Int16Array.from(texturedPixels(23, 31, 12, 7), (v) => v - 2048);
    const bytes = await encodeDicom({ ...baseInput(new Uint16Array(0), 23, 31, 12, "jpeg2000-lossless"), pixels: signed, pixelRepresentation: 1 as const });
    const img = await readWith(undefined, bytes, "signed.dcm");
    expect(img.pixels).toBeInstanceOf(Int16Array);
    // the frame itself: the native path declines it (opj_decompress's raw output shifts signed samples)
    const frame = await encodeJpeg2000(new Uint8Array(signed.buffer), { width: 31, height: 23, bitsPerSample: 12, componentCount: 1, isSigned: true });
    expect(await decodeJpeg2000Native(frame, { width: 31, height: 23 })).toBeNull();
    expect(Array.from(img.pixels)).toEqual(Array.from(signed));
  });

  // each tool this machine has, named explicitly (CI installs both)
  const tools = ["/usr/bin/grk_decompress", "/usr/bin/opj_decompress"].filter((t) => fs.existsSync(t));
  it.skipIf(tools.length === 0)("each installed tool gives the codestream's samples", async () => {
    for (const tool of tools) {
      process.env.MILPF_OPJ_DECOMPRESS = tool;
      resetNativeJ2kDecoder();
      expect(nativeJ2kDecoder()?.tool).toBe(tool.endsWith("grk_decompress") ? "grk_decompress" : "opj_decompress");
      for (const bits of [12, 14, 16]) {
        const px = texturedPixels(41, 33, bits, bits + 1);
        const frame = await encodeJpeg2000(new Uint8Array(px.buffer), { width: 33, height: 41, bitsPerSample: bits, componentCount: 1, isSigned: false });
        const got = await decodeJpeg2000Native(frame, { width: 33, height: 41 });
        expect(got, `${tool} ${bits} bits`).not.toBeNull();
        expect(Array.from(new Uint16Array(got!.bytes.buffer, got!.bytes.byteOffset, got!.bytes.byteLength / 2)), `${tool} ${bits} bits`).toEqual(Array.from(px));
      }
    }
  });

  it.skipIf(!have)("returns null (the caller uses wasm) for a frame of another size", async () => {
    const px = texturedPixels(16, 12, 12, 1);
    const frame = await encodeJpeg2000(new Uint8Array(px.buffer), { width: 12, height: 16, bitsPerSample: 12, componentCount: 1, isSigned: false });
    expect(await decodeJpeg2000Native(frame, { width: 12, height: 16 })).not.toBeNull();
    expect(await decodeJpeg2000Native(frame, { width: 16, height: 12 })).toBeNull();
  });

  it("off, or a tool that fails: the wasm build decodes", async () => {
    const px = texturedPixels(20, 18, 14, 5);
    const bytes = await encodeDicom(baseInput(px, 20, 18, 14, "jpeg2000-lossless"));
    process.env.MILPF_OPJ_DECOMPRESS = "off";
    resetNativeJ2kDecoder();
    expect(nativeJ2kDecoder()).toBeNull();
    expect(Array.from((await readWith("off", bytes, "off.dcm")).pixels)).toEqual(Array.from(px));
    // /bin/false exits 1 without writing anything
    expect(Array.from((await readWith("/bin/false", bytes, "false.dcm")).pixels)).toEqual(Array.from(px));
  });
});
