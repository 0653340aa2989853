import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../lib/util/paths";
import { nativeJ2kDecoder, resetNativeJ2kDecoder } from "../lib/dicom/codecs/native";
import { resolvedPackageName, selectTfBackend } from "../lib/util/backend";

/** One line of `milpf doctor`. */
export interface Check {
  name: string;
  ok: boolean;
  /** Required for the pipeline (a failed required check makes doctor exit non-zero). */
  required: boolean;
  detail: string;
  /** The command that fixes it, when not ok. */
  fix?: string;
}

const TSLAB_PINNED = "1.0.22";

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function checkNode(): Check {
  const [maj, min] = process.versions.node.split(".").map(Number);
  const ok = maj > 20 || (maj === 20 && min >= 19);
  return { name: "node", ok, required: true, detail: `Node ${process.version} (needs >= 20.19)`, fix: ok ? undefined : "install Node.js 20.19 or newer" };
}

function checkTslab(): Check {
  let version = "";
  try {
    version = (JSON.parse(fs.readFileSync(require.resolve("tslab/package.json"), "utf8")) as { version: string }).version;
    require.resolve("tslab/dist/executor");
    require.resolve("tslab/dist/converter");
  } catch {
    return { name: "tslab", ok: false, required: true, detail: "tslab is not installed", fix: "npm ci" };
  }
  const ok = version === TSLAB_PINNED;
  return {
    name: "tslab",
    ok,
    required: true,
    detail: `tslab ${version}${ok ? "" : ` (the runner uses tslab internals pinned to ${TSLAB_PINNED})`}`,
    fix: ok ? undefined : "npm ci",
  };
}

function checkBuild(): Check {
  const file = path.join(projectRoot(), "dist", "lib", "index.js");
  const ok = fs.existsSync(file);
  return { name: "build", ok, required: true, detail: ok ? "dist/ built (notebooks import ../dist/lib)" : "dist/lib/index.js missing", fix: ok ? undefined : "npm run build" };
}

async function checkTfjs(): Promise<Check> {
  try {
    const c = await selectTfBackend({ log: () => undefined });
    const gpu = resolvedPackageName("@tensorflow/tfjs-node-gpu");
    return {
      name: "tfjs backend",
      ok: true,
      required: true,
      detail: `${c.name} (${c.reason})`,
      fix:
        c.name === "tensorflow" || gpu === "@tensorflow/tfjs-node-gpu"
          ? undefined
          : "optional, GPU machines: npm install-scripts approve @tensorflow/tfjs-node-gpu && npm rebuild @tensorflow/tfjs-node-gpu (see README, GPU)",
    };
  } catch (e) {
    return { name: "tfjs backend", ok: false, required: true, detail: (e as Error).message, fix: "npm ci" };
  }
}

/** Probe onnxruntime execution providers in a child process (native libraries print to stderr). */
function checkOnnxruntime(): Check[] {
  const probe = spawnSync(process.execPath, [__filename, "--probe-ort"], { encoding: "utf8", timeout: 60_000 });
  let results: Record<string, string> = {};
  try {
    results = JSON.parse(probe.stdout.trim().split("\n").pop() ?? "{}") as Record<string, string>;
  } catch {
    return [{ name: "onnxruntime cpu", ok: false, required: true, detail: `onnxruntime-node probe failed: ${(probe.stderr || "").split("\n")[0]}`, fix: "npm ci" }];
  }
  const fixes: Record<string, string> = {
    cuda: "optional, GPU machines: npm run onnxruntime:cuda (downloads the CUDA provider; see README, GPU)",
    webgpu: "optional: needs a Vulkan-capable GPU driver (libvulkan1)",
  };
  return ["cpu", "cuda", "webgpu"].map((ep) => {
    const r = results[ep] ?? "not probed";
    const ok = r === "ok";
    return { name: `onnxruntime ${ep}`, ok, required: ep === "cpu", detail: ok ? "runs a test model" : r, fix: ok ? undefined : (fixes[ep] ?? "npm ci") };
  });
}

async function probeOrt(): Promise<void> {
  const out: Record<string, string> = {};
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { onnx } = require("onnx-proto") as typeof import("onnx-proto");
    const vi = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: { name: "probe", node: [{ opType: "Identity", input: ["x"], output: ["y"] }], input: [vi("x")], output: [vi("y")] },
    });
    const bytes = onnx.ModelProto.encode(model).finish();
    for (const ep of ["cpu", "cuda", "webgpu"]) {
      try {
        const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
        const r = await s.run({ x: new ort.Tensor("float32", new Float32Array([3]), [1]) });
        out[ep] = (r.y.data as Float32Array)[0] === 3 ? "ok" : "wrong result";
      } catch (e) {
        const m = (e as Error).message.split("\n")[0];
        const i = m.lastIndexOf("Failed to");
        out[ep] = (i >= 0 ? m.slice(i) : m).slice(0, 160);
      }
    }
  } catch (e) {
    out.cpu = `onnxruntime-node does not load: ${(e as Error).message.split("\n")[0]}`;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

async function checkChromium(): Promise<Check> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const plot = require("../lib/plot") as typeof import("../lib/plot");
  const fix = "optional (static PNG/SVG figures): apt-get install -y chromium";
  if (!plot.staticExportAvailable()) {
    return { name: "chromium", ok: false, required: false, detail: `no Chromium at ${plot.chromiumPath()}: figures export as HTML only`, fix };
  }
  try {
    const img = await plot.renderStatic({ data: [{ y: [1, 2], type: "scatter" }], layout: { width: 200, height: 100 } }, { scale: 1 });
    await plot.closeBrowser();
    return { name: "chromium", ok: true, required: false, detail: `${plot.chromiumPath()} renders figures (test PNG ${img.png.length} bytes)` };
  } catch (e) {
    await plot.closeBrowser();
    return { name: "chromium", ok: false, required: false, detail: (e as Error).message.split("\n")[0], fix };
  }
}

/** The command that registers the tslab kernel with Debian's Jupyter (absolute tslab binary, no global install). */
export function kernelInstallCommand(): string {
  return `npm run kernel:install  (= npx tslab install --python=/usr/bin/python3 --binary=${path.join(projectRoot(), "node_modules", ".bin", "tslab")})`;
}

function checkJupyter(): Check[] {
  const aptFix = "optional: apt-get install -y python3-nbclient python3-jupyter-client jupyter-client jupyter-nbconvert python3-ipython python3-nbformat";
  const jupyter = which("jupyter");
  const py = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : which("python3");
  const checks: Check[] = [];
  const nbc = py ? spawnSync(py, ["-c", "import nbformat, nbclient; print(nbformat.__version__, nbclient.__version__)"], { encoding: "utf8" }) : null;
  const pyOk = nbc?.status === 0;
  checks.push({
    name: "jupyter",
    ok: Boolean(jupyter) && pyOk,
    required: false,
    detail: jupyter && pyOk ? `${jupyter}; nbformat/nbclient ${nbc?.stdout.trim()}` : `jupyter ${jupyter ? "found" : "not found"}, python nbformat/nbclient ${pyOk ? "found" : "not importable"}`,
    fix: jupyter && pyOk ? undefined : aptFix,
  });
  let kernelOk = false;
  let detail = "jupyter not found";
  if (jupyter) {
    const ks = spawnSync(jupyter, ["kernelspec", "list", "--json"], { encoding: "utf8" });
    try {
      const specs = (JSON.parse(ks.stdout) as { kernelspecs: Record<string, { resource_dir: string; spec: { argv: string[] } }> }).kernelspecs;
      const t = specs.tslab;
      if (!t) detail = "tslab kernel not registered";
      else {
        const bin = t.spec.argv[0];
        const binPath = path.isAbsolute(bin) ? bin : which(bin);
        kernelOk = Boolean(binPath && fs.existsSync(binPath));
        detail = kernelOk ? `tslab kernel registered (${t.resource_dir}) -> ${binPath}` : `tslab kernel registered but its command ${bin} is not found`;
      }
    } catch {
      detail = "jupyter kernelspec list failed";
    }
  }
  checks.push({ name: "tslab kernel", ok: kernelOk, required: false, detail, fix: kernelOk ? undefined : `optional: ${kernelInstallCommand()}` });
  return checks;
}

function checkDcmtk(): Check {
  const p = which("dcmdump");
  return { name: "dcmtk", ok: Boolean(p), required: false, detail: p ? `${p} (cross-checks DICOM parsing)` : "dcmdump not found", fix: p ? undefined : "optional: apt-get install -y dcmtk" };
}

/** The native JPEG 2000 decoder (lib/dicom/codecs/native.ts), looked up afresh. */
export function checkJpeg2000(): Check {
  resetNativeJ2kDecoder();
  const d = nativeJ2kDecoder();
  return d
    ? { name: "jpeg 2000", ok: true, required: false, detail: `${d.path} decodes JPEG 2000 DICOMs natively` }
    : {
        name: "jpeg 2000",
        ok: false,
        required: false,
        detail: "no grk_decompress or opj_decompress (or MILPF_OPJ_DECOMPRESS=off): the bundled wasm build decodes JPEG 2000, ~1.7x slower",
        fix: "optional: apt-get install -y grokj2k-tools (or libopenjp2-tools)",
      };
}

/** Every check, in report order. */
export async function runDoctor(): Promise<Check[]> {
  return [checkNode(), checkTslab(), checkBuild(), await checkTfjs(), ...checkOnnxruntime(), await checkChromium(), ...checkJupyter(), checkDcmtk(), checkJpeg2000()];
}

/** Printable report; `ok` = every required check passed (the pipeline can run). */
export function formatDoctor(checks: Check[]): { text: string; ok: boolean } {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const mark = c.ok ? "ok     " : c.required ? "MISSING" : "missing";
    return `${mark}  ${c.name.padEnd(width)}  ${c.detail}${c.fix ? `\n         ${" ".repeat(width)}  fix: ${c.fix}` : ""}`;
  });
  const ok = checks.every((c) => c.ok || !c.required);
  lines.push("", ok ? "doctor: the pipeline can run (missing optional pieces are listed with their fix)" : "doctor: the pipeline cannot run: fix the MISSING lines");
  return { text: lines.join("\n"), ok };
}

if (require.main === module && process.argv.includes("--probe-ort")) void probeOrt();
