import { describe, expect, it } from "vitest";
import { resolvedPackageName, selectTfBackend, tf } from "../../lib/util/backend";

describe("selectTfBackend", () => {
  it("sees through the tfjs-node alias and picks the best backend present; tfjs computes on it", async () => {
    const lines: string[] = [];
    const choice = await selectTfBackend({ log: (l) => lines.push(l) });
    expect(lines).toEqual([`tfjs backend: ${choice.name} (${choice.reason})`]);
    expect(tf().getBackend()).toBe(choice.name);
    const gpu = resolvedPackageName("@tensorflow/tfjs-node-gpu");
    const node = resolvedPackageName("@tensorflow/tfjs-node");
    if (gpu !== "@tensorflow/tfjs-node-gpu" && node !== "@tensorflow/tfjs-node") {
      // no native package: WebAssembly, and the reason says why the native ones were passed over
      expect(choice.name).toBe("wasm");
      if (node === "@tensorflow/tfjs") expect(choice.reason).toContain("@tensorflow/tfjs-node is an alias of @tensorflow/tfjs");
    } else {
      expect(choice.name).toBe("tensorflow");
    }
    // [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]
    const t = tf();
    const c = t.matMul(t.tensor2d([[1, 2], [3, 4]]), t.tensor2d([[5, 6], [7, 8]]));
    expect(Array.from(await c.data())).toEqual([19, 22, 43, 50]);
    // one instance: a second call returns the same choice without re-selecting
    expect(await selectTfBackend()).toBe(choice);
  });

  it("resolvedPackageName is null for a package that is not installed", () => {
    expect(resolvedPackageName("milpf-no-such-package-xyz")).toBeNull();
  });
});
