import { describe, expect, it } from "vitest";
import { parseNotebook, serializeNotebook, toLines, withTslabMetadata } from "../../runner/nbformat";
import { makeNotebook } from "./helpers";

describe("nbformat io", () => {
  it("round-trips a notebook through serialize/parse", () => {
    const nb = makeNotebook(["md:# t\ntext", { src: "const a = 1;", tags: ["parameters"] }, "a + 1"]);
    const again = parseNotebook(serializeNotebook(nb));
    expect(again).toStrictEqual(nb);
  });

  it("upgrades older notebooks: adds unique cell ids, outputs and execution_count, minor 5", () => {
    const old = { nbformat: 4, nbformat_minor: 2, metadata: {}, cells: [{ cell_type: "code", source: "1", metadata: {} }, { cell_type: "code", id: "dup", source: "2", metadata: {} }, { cell_type: "code", id: "dup", source: "3", metadata: {} }] };
    const nb = parseNotebook(JSON.stringify(old));
    expect(nb.nbformat_minor).toBe(5);
    const ids = nb.cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
    expect(nb.cells[0]).toMatchObject({ execution_count: null, outputs: [] });
  });

  it("sets the tslab kernelspec and TypeScript language_info", () => {
    const nb = withTslabMetadata(parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] })));
    expect(nb.metadata.kernelspec).toEqual({ name: "tslab", display_name: "TypeScript", language: "typescript" });
    expect((nb.metadata.language_info as { name: string }).name).toBe("typescript");
  });

  it("rejects bad input with one error naming the file", () => {
    expect(() => parseNotebook("{", "x.ipynb")).toThrow(/x\.ipynb: not a notebook \(invalid JSON/);
    expect(() => parseNotebook(JSON.stringify({ nbformat: 3, cells: [] }), "y.ipynb")).toThrow(/y\.ipynb: unsupported nbformat 3/);
    expect(() => parseNotebook(JSON.stringify({ nbformat: 4, cells: [{ cell_type: "weird", source: "" }] }), "z.ipynb")).toThrow(/z\.ipynb: cell 1 has unknown cell_type/);
  });

  it("toLines keeps line ends and joins back to the text", () => {
    expect(toLines("a\nb\n\nc")).toEqual(["a\n", "b\n", "\n", "c"]);
    expect(toLines("")).toEqual([]);
  });
});
