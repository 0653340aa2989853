import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { writeBuiltinEncoder } from "../../lib/embed/builtin";
import { compiledCli } from "./cliBuild";
import { makeManifest, storeFingerprint } from "./fixture";

// Reproductions 2, 6 and 10 of issue 13, through the command line, including the exact
// commands of docs/cluster/ (with /work/ -> a temp folder, the project for /work/milpf, the
// builtin encoder in the model's folder, and --provider cpu for cuda).
const root = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-cluster-"));
const work = path.join(tmp, "work");
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  cli = compiledCli();
  await makeManifest(path.join(work, "tiles"), { bags: 5, workingSizePx: 128, tileSizePx: 64, globalSizePx: 64, seed: 3 });
  await writeBuiltinEncoder(path.join(work, "models", "dinov2-g14-518"), { inputSizePx: 64, dim: 8, seed: 0 });
});

/** A docs command made runnable here (see the comment above). */
function localize(cmd: string): string {
  return cmd
    .replace(/\/work\/milpf/g, "\u0000ROOT\u0000")
    .replace(/\/work\//g, `${work}/`)
    .replace(/\u0000ROOT\u0000/g, root)
    .replace(/--provider cuda/g, "--provider cpu")
    .replace(/node bin\/milpf\.js/g, `node ${JSON.stringify(cli.script)}`);
}

function bash(cmd: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-c", cmd], { cwd: root, env: { ...cli.env, ...env }, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function milpf(args: string[], cwd = tmp): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli.script, ...args], { cwd, env: cli.env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("docs/cluster commands run as written", () => {
  it("Kubernetes: 8 indexed embed pods, then the merge Job, equal one run", () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(root, "docs/cluster/k8s-embed-job.yaml"), "utf8")).map((d) => d.toJSON() as { spec: { completions?: number; template: { spec: { containers: { args: string[] }[] } } } });
    const embedJob = docs[0];
    const n = embedJob.spec.completions ?? 0;
    expect(n).toBe(8);
    const embedCmd = localize(embedJob.spec.template.spec.containers[0].args[0]).replace(/\$\(JOB_COMPLETION_INDEX\)/g, "$JOB_COMPLETION_INDEX");
    for (let k = 0; k < n; k++) {
      const r = bash(embedCmd, { JOB_COMPLETION_INDEX: String(k) });
      expect(r.status, r.stderr).toBe(0);
    }
    const mergeCmd = localize(docs[1].spec.template.spec.containers[0].args[0]);
    const m = bash(mergeCmd);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/8 shards -> 5 bags/);
    const single = milpf(["embed", "--manifest", `${work}/tiles/manifest.json`, "--encoder", `${work}/models/dinov2-g14-518`, "--provider", "cpu", "--batch", "32", "--dtype", "float16", "--out", `${work}/single`, "--no-progress"]);
    expect(single.status, single.stderr).toBe(0);
    expect(storeFingerprint(`${work}/embeddings/merged`)).toEqual(storeFingerprint(`${work}/single`));
  });

  it("Slurm: the array script for each task, then the merge of its header comment", () => {
    const script = fs.readFileSync(path.join(root, "docs/cluster/slurm-embed.sh"), "utf8");
    const file = path.join(tmp, "slurm-embed.sh");
    fs.writeFileSync(file, localize(script));
    const N = 3;
    for (let k = 0; k < N; k++) {
      const r = bash(`bash ${JSON.stringify(file)}`, { SHARDS: String(N), SLURM_ARRAY_TASK_ID: String(k) });
      expect(r.status, r.stderr).toBe(0);
    }
    const wrap = /--wrap "([^"]+)"/.exec(script);
    if (!wrap) throw new Error("no merge command in slurm-embed.sh");
    const m = bash(localize(wrap[1]), { SHARDS: String(N) });
    expect(m.status, m.stderr).toBe(0);
    expect(storeFingerprint(`${work}/embeddings/merged`)).toEqual(storeFingerprint(`${work}/single`));
  });
});

describe("embed subcommands from the command line", () => {
  it("merge takes its own --out in every argument order; a partial set is refused unless --allow-partial, then marked", () => {
    const s = (k: number) => `${work}/embeddings/shard-${k}`;
    const forms = [
      ["embed", "merge", s(0), s(1), s(2), "--out", "m1"],
      ["embed", "merge", "--out", "m2", s(0), s(1), s(2)],
      ["embed", "merge", s(0), "--out=m3", s(1), s(2)],
    ];
    for (const f of forms) {
      const r = milpf(f);
      expect(r.status, r.stderr).toBe(0);
    }
    // (these are shards of the 3-way Slurm run; merged from tmp, relative --out lands in tmp)
    expect(storeFingerprint(path.join(tmp, "m1"))).toEqual(storeFingerprint(path.join(tmp, "m3")));
    expect(storeFingerprint(path.join(tmp, "m2"))).toEqual(storeFingerprint(`${work}/single`));

    const partial = milpf(["embed", "merge", s(0), "--out", "p"]);
    expect(partial.status).toBe(1);
    expect(partial.stderr).toMatch(/shard\(s\) 1\/3, 2\/3 missing.*--allow-partial/);
    expect(fs.existsSync(path.join(tmp, "p", "store.json"))).toBe(false);
    const ok = milpf(["embed", "merge", s(0), "--out", "p", "--allow-partial"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/PARTIAL/);
    const meta = JSON.parse(fs.readFileSync(path.join(tmp, "p", "store.json"), "utf8")) as { partial: unknown };
    expect(meta.partial).toEqual({ shards: ["0/3"], of: 3 });
    const twice = milpf(["embed", "merge", s(0), s(0), s(1), s(2), "--out", "q"]);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/overlapping shards/);
  });

  it("import-h5 takes its own --dtype; export-h5 -> import-h5 round trip", () => {
    const e = milpf(["embed", "export-h5", `${work}/single`, "s.h5"]);
    expect(e.status, e.stderr).toBe(0);
    const i = milpf(["embed", "import-h5", "s.h5", "h16", "--dtype", "float32"]);
    expect(i.status, i.stderr).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(tmp, "h16", "store.json"), "utf8")) as { dtype: string };
    expect(meta.dtype).toBe("float32"); // the exported store is float16: --dtype reached import-h5
    const back = milpf(["embed", "import-h5", "s.h5", "back"]);
    expect(back.status, back.stderr).toBe(0);
    expect(storeFingerprint(path.join(tmp, "back"))).toEqual(storeFingerprint(`${work}/single`));
  });

  it("a truncated .h5 gives one error line naming the file", () => {
    const full = fs.readFileSync(path.join(tmp, "s.h5"));
    fs.writeFileSync(path.join(tmp, "cut.h5"), full.subarray(0, Math.floor(full.length / 3)));
    const r = milpf(["embed", "import-h5", "cut.h5", "cut"]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path.join(tmp, "cut.h5"));
    expect(lines[0]).toMatch(/not a readable HDF5 file \(truncated file/);
  });
});
