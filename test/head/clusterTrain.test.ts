import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { compiledCli } from "../embed/cliBuild";

// The exact commands of docs/cluster/k8s-train-job.yaml and docs/cluster/slurm-train.sh, with
// /work/ -> a temp folder, the project for /work/milpf, a small synthetic store at
// /work/embeddings/merged, and short training (--epochs 12 --patience 4, added to every train
// command alike). The merged outputs must equal those of one unsharded run with the merge's own
// settings byte for byte (results.json and head.json without times and dates).
const root = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "milpf-clustertrain-"));
const work = path.join(tmp, "work");
let cli: { script: string; env: NodeJS.ProcessEnv };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  cli = compiledCli();
  const r = milpf(["synth-embeddings", "--out", `${work}/embeddings/merged`, "--bags", "60", "--tiles", "5", "--views", "2", "--dim", "12", "--seed", "4"]);
  expect(r.status, r.stderr).toBe(0);
});

/** A docs command made runnable here (see the comment above). */
function localize(cmd: string): string {
  return cmd
    .replace(/\/work\/milpf/g, "\u0000ROOT\u0000")
    .replace(/\/work\//g, `${work}/`)
    .replace(/\u0000ROOT\u0000/g, root)
    .replace(/node bin\/milpf\.js train/g, `node ${JSON.stringify(cli.script)} train --epochs 12 --patience 4`);
}

function bash(cmd: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-c", cmd], { cwd: root, env: { ...cli.env, ...env }, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function milpf(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli.script, ...args], { cwd: tmp, env: cli.env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The merge command as one unsharded run: the same settings, no --merge-units, another --out. */
function unsharded(mergeCmd: string, out: string): string {
  const cmd = mergeCmd.replace(/ --merge-units \S+/, "").replace(/ --out \S+/, ` --out ${out}`);
  expect(cmd).not.toContain("--merge-units");
  expect(cmd).toContain(`--out ${out}`);
  return cmd;
}

/** Every output file of a training run (not stage.json, not the units), JSON without times and dates. */
function outputs(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        if (r !== "units") walk(r);
      } else if (r !== "stage.json" && !e.name.startsWith(".milpf")) {
        const bytes = fs.readFileSync(path.join(dir, r));
        out[r] = r.endsWith(".json") ? JSON.stringify(stripVolatile(JSON.parse(bytes.toString("utf8")) as unknown)) : bytes.toString("base64");
      }
    }
  };
  walk("");
  return out;
}

function stripVolatile(j: unknown): unknown {
  return JSON.parse(JSON.stringify(j, (k, v: unknown) => (["timing", "createdAt", "record", "outDir", "seconds", "peakRssBytes"].includes(k) ? undefined : v))) as unknown;
}

interface JobDoc {
  metadata: { name: string };
  spec: { completions?: number; template: { spec: { containers: { args: string[] }[] } } };
}

describe("docs/cluster training commands run as written", () => {
  it("Kubernetes: 6 indexed train pods, then the merge Job, equal one run; a missing shard fails the merge naming its unit", () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(root, "docs/cluster/k8s-train-job.yaml"), "utf8")).map((d) => d.toJSON() as JobDoc);
    const [trainJob, mergeJob] = docs;
    expect([trainJob.metadata.name, mergeJob.metadata.name]).toEqual(["milpf-train", "milpf-train-merge"]);
    const n = trainJob.spec.completions ?? 0;
    expect(n).toBe(6);
    const trainCmd = localize(trainJob.spec.template.spec.containers[0].args[0]).replace(/\$\(JOB_COMPLETION_INDEX\)/g, "$JOB_COMPLETION_INDEX");
    expect(trainCmd).toContain("--seeds 36 --seeds-per-unit 6");
    for (let k = 0; k < n; k++) {
      const r = bash(trainCmd, { JOB_COMPLETION_INDEX: String(k) });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`1 unit(s) of seeds (shard ${k}/6): 1 trained (1 new), 0 reused`);
    }
    const mergeCmd = localize(mergeJob.spec.template.spec.containers[0].args[0]);
    const m = bash(mergeCmd);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toContain("train: 324 runs");
    expect(m.stdout).toContain("6 unit(s) of seeds: 0 trained, 6 reused; 6 unit(s) merged from 6 shard folder(s)");
    const single = bash(unsharded(mergeCmd, `${work}/single-k8s`));
    expect(single.status, single.stderr).toBe(0);
    const merged = outputs(`${work}/train`);
    expect(Object.keys(merged)).toEqual(expect.arrayContaining(["predictions.csv", "curves.csv", "results.json", "head/weights.bin", "heads/max+attn/weights.bin"]));
    expect(merged).toEqual(outputs(`${work}/single-k8s`));

    // a pod that never ran: its folder is missing; the merge (into a fresh folder) names its unit
    fs.rmSync(`${work}/train-shards/shard-3`, { recursive: true });
    const missing = bash(mergeCmd.replace(`--out ${work}/train`, `--out ${work}/train-missing`));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`train merge: unit seeds-18-23 (seeds 18-23) is not in the shards given (new); shard folder(s) without units: ${work}/train-shards/shard-3 (no such folder)`);
    expect(fs.existsSync(`${work}/train-missing/results.json`)).toBe(false);
  }, 240_000);

  it("Slurm: the array script for each task (one task without a unit), then the merge of its header comment", () => {
    const script = fs.readFileSync(path.join(root, "docs/cluster/slurm-train.sh"), "utf8");
    expect(script).toMatch(/N=\$\{SHARDS:-6\}/);
    expect(script).toMatch(/SEEDS=\$\{SEEDS:-36\}/);
    const file = path.join(tmp, "slurm-train.sh");
    fs.writeFileSync(file, localize(script));
    // 6 seeds in 4 tasks: units of 2 seeds, 3 units, task 3 gets none
    const env = { SHARDS: "4", SEEDS: "6" };
    fs.rmSync(`${work}/train-shards`, { recursive: true, force: true });
    for (let k = 0; k < 4; k++) {
      const r = bash(`bash ${JSON.stringify(file)}`, { ...env, SLURM_ARRAY_TASK_ID: String(k) });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${k < 3 ? 1 : 0} unit(s) of seeds (shard ${k}/4)`);
    }
    const wrap = /--wrap "([^"]+)"/.exec(script);
    if (!wrap) throw new Error("no merge command in slurm-train.sh");
    const mergeCmd = localize(wrap[1]).replace(`--out ${work}/train`, `--out ${work}/train-slurm`);
    const m = bash(mergeCmd, env);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toContain("3 unit(s) of seeds: 0 trained, 3 reused; 3 unit(s) merged from 4 shard folder(s)");
    expect(m.stderr).toContain(`shard folder(s) without units: ${work}/train-shards/shard-3 (empty)`);
    // the merge command as bash expands it (seeds, seeds per unit, the shard list), then unsharded
    const expanded = bash(`echo ${mergeCmd}`, env);
    expect(expanded.stdout).toContain(`--seeds 6 --seeds-per-unit 2 --merge-units ${work}/train-shards/shard-0,${work}/train-shards/shard-1,${work}/train-shards/shard-2,${work}/train-shards/shard-3 `);
    const single = bash(unsharded(expanded.stdout.trim(), `${work}/single-slurm`));
    expect(single.status, single.stderr).toBe(0);
    expect(outputs(`${work}/train-slurm`)).toEqual(outputs(`${work}/single-slurm`));
  }, 240_000);

  it("a shard trained on a subset of the configurations is refused by the merge, which says what differs", () => {
    // the grid is cut by seeds only: a unit holds every configuration of its seeds
    const base = ["train", "--store", `${work}/embeddings/merged`, "--seeds", "2", "--seeds-per-unit", "2", "--epochs", "5", "--no-progress"];
    const a = milpf([...base, "--configs", "global-max", "--out", `${work}/cfg-a`]);
    expect(a.status, a.stderr).toBe(0);
    const m = milpf([...base, "--configs", "global-max,max+attn", "--merge-units", `${work}/cfg-a`, "--out", `${work}/cfg-merged`]);
    expect(m.status).toBe(1);
    expect(m.stderr).toContain("train merge: unit seeds-0-1 (seeds 0-1) is not in the shards given (parameters changed: configs global-max, this run global-max,max+attn)");
  }, 120_000);
});
