import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { ChunkLayout, GroupArrays, GroupGrads } from "./batched";
import { groupsLogitsJs, groupsLossAndGradsJs } from "./rowgrad";

/**
 * The hand-written head after H on several threads: each group's runs are split into contiguous
 * slices (the [R, rows, 16] layout is run-major, so a slice of runs is a contiguous sub-array),
 * computed in worker threads, and concatenated back. Used between the X passes, when the ORT
 * threads are idle. Needs the compiled worker (dist/lib/head/rowgradWorker.js); where it does not
 * exist (tests run the TypeScript sources) the pool runs in the calling thread.
 */
export class RowgradPool {
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, (v: { grads?: GroupGrads; logits?: Float32Array }) => void>();

  constructor(threads: number) {
    const file = path.join(__dirname, "rowgradWorker.js");
    if (threads <= 1 || !fs.existsSync(file)) return;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(file);
      w.on("message", (m: { id: number; grads?: GroupGrads; logits?: Float32Array }) => {
        const f = this.pending.get(m.id);
        this.pending.delete(m.id);
        f?.(m);
      });
      // kept referenced: an unref'd worker lets Node exit while a job is awaited; close() ends them
      this.workers.push(w);
    }
  }

  get threads(): number {
    return Math.max(1, this.workers.length);
  }

  private post(w: Worker, withGrads: boolean, layout: ChunkLayout, group: GroupArrays): Promise<{ grads?: GroupGrads; logits?: Float32Array }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      w.postMessage({ id, withGrads, layout, group });
    });
  }

  /** Split a group into at most n slices of runs (copies, so that only the slice is sent). */
  private static slices(g: GroupArrays, n: number, rowsG: number, rowsT: number): { from: number; to: number; part: GroupArrays }[] {
    const out: { from: number; to: number; part: GroupArrays }[] = [];
    const k = Math.min(n, g.runs);
    for (let s = 0; s < k; s++) {
      const from = Math.floor((s * g.runs) / k);
      const to = Math.floor(((s + 1) * g.runs) / k);
      const params: Record<string, Float32Array> = {};
      for (const [name, a] of Object.entries(g.params)) {
        const per = a.length / g.runs;
        params[name] = a.slice(from * per, to * per);
      }
      out.push({
        from,
        to,
        part: {
          config: g.config,
          runs: to - from,
          hGlobal: g.hGlobal ? g.hGlobal.slice(from * rowsG * 16, to * rowsG * 16) : null,
          hTile: g.hTile ? g.hTile.slice(from * rowsT * 16, to * rowsT * 16) : null,
          params,
        },
      });
    }
    return out;
  }

  async lossAndGrads(layout: ChunkLayout, groups: GroupArrays[]): Promise<GroupGrads[]> {
    if (this.workers.length === 0) return groupsLossAndGradsJs(layout, groups);
    const rowsG = layout.bags * layout.lGlobal;
    const rowsT = layout.bags * layout.lTile;
    let w = 0;
    const jobs = groups.map((g) =>
      RowgradPool.slices(g, this.workers.length, rowsG, rowsT).map((s) => ({ s, p: this.post(this.workers[w++ % this.workers.length], true, layout, s.part) })),
    );
    const out: GroupGrads[] = [];
    for (const [gi, g] of groups.entries()) {
      const res: GroupGrads = {
        loss: new Float32Array(g.runs),
        dGlobal: g.hGlobal ? new Float32Array(g.hGlobal.length) : null,
        dTile: g.hTile ? new Float32Array(g.hTile.length) : null,
        params: {},
      };
      for (const [name, a] of Object.entries(g.params)) res.params[name] = new Float32Array(a.length);
      for (const { s, p } of jobs[gi]) {
        const r = (await p).grads as GroupGrads;
        res.loss.set(r.loss, s.from);
        if (res.dGlobal && r.dGlobal) res.dGlobal.set(r.dGlobal, s.from * rowsG * 16);
        if (res.dTile && r.dTile) res.dTile.set(r.dTile, s.from * rowsT * 16);
        for (const [name, a] of Object.entries(r.params)) res.params[name].set(a, s.from * (g.params[name].length / g.runs));
      }
      out.push(res);
    }
    return out;
  }

  async logits(layout: ChunkLayout, groups: GroupArrays[]): Promise<Float32Array[]> {
    if (this.workers.length === 0) return groupsLogitsJs(layout, groups);
    const rowsG = layout.bags * layout.lGlobal;
    const rowsT = layout.bags * layout.lTile;
    let w = 0;
    const jobs = groups.map((g) =>
      RowgradPool.slices(g, this.workers.length, rowsG, rowsT).map((s) => ({ s, p: this.post(this.workers[w++ % this.workers.length], false, layout, s.part) })),
    );
    const out: Float32Array[] = [];
    for (const [gi, g] of groups.entries()) {
      const perRun = g.config.instance !== null ? rowsG : layout.bags;
      const z = new Float32Array(g.runs * perRun);
      for (const { s, p } of jobs[gi]) z.set((await p).logits as Float32Array, s.from * perRun);
      out.push(z);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
