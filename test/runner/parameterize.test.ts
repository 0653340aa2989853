import ts from "typescript";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hasTag, sourceText, type CodeCell } from "../../runner/nbformat";
import { declaredNames, declaredTypes, INJECTED_TAG, parameterize, parseParamValue, readParamsFile, renderParameters } from "../../runner/parameterize";
import { collectParams, joinParamPairs } from "../../runner/commands/runner";
import { makeNotebook, tempDir } from "./helpers";

describe("parseParamValue: -p values are typed", () => {
  it.each([
    ["3", 3],
    ["-1.5e2", -150],
    [".5", 0.5],
    ["true", true],
    ["false", false],
    ["null", null],
    ["[1, 2]", [1, 2]],
    ['{"a": {"b": [true]}}', { a: { b: [true] } }],
    ['"007"', "007"],
    ["data/synthetic", "data/synthetic"],
    ["1.2.3", "1.2.3"],
    ["True", "True"],
    ["", ""],
  ])("%j -> %j", (input, expected) => {
    expect(parseParamValue("x", input)).toStrictEqual(expected);
  });

  it("rejects text that looks like JSON but is not, naming the parameter", () => {
    expect(() => parseParamValue("cfg", "{a: 1}")).toThrow(/parameter cfg/);
  });
});

describe("renderParameters", () => {
  it("renders source whose evaluation gives back the values", () => {
    const params = { n: 3, s: 'he said "hi"\n', b: false, list: [1, "two", null], obj: { k: { z: 1.5 } } };
    const src = renderParameters(params);
    // The injected source is typed TypeScript: transpile it, evaluate it and read the constants back.
    const js = ts.transpileModule(`${src}\nreturn {n, s, b, list, obj};`, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    const values = new Function(js)() as typeof params;
    expect(values).toStrictEqual(params);
    expect(src).toContain("const n: number = 3;");
    expect(src).toContain("const b = false as boolean;");
  });

  it("types each value wide (by the stage config, else the cell's annotation): a value other than the default still compiles", () => {
    // the failure: `const adapter = "vindr"` (literal type) then `adapter === "synthetic"` did not compile
    const spec = { adapter: { kind: "string", default: "synthetic", oneOf: ["vindr", "synthetic"], doc: "layout" } } as const;
    const cell = "const adapter = \"synthetic\" as \"vindr\" | \"synthetic\";";
    const withSpec = renderParameters({ adapter: "vindr" }, spec);
    expect(withSpec).toContain('const adapter = "vindr" as "vindr" | "synthetic";');
    expect(declaredTypes(cell)).toEqual({ adapter: '"vindr" | "synthetic"' });
    expect(renderParameters({ adapter: "vindr" }, undefined, declaredTypes("const adapter: AdapterName = \"synthetic\";"))).toContain("const adapter: AdapterName = \"vindr\";");
    for (const injected of [withSpec, renderParameters({ adapter: "vindr" }, undefined, declaredTypes(cell)), renderParameters({ adapter: "vindr" })]) {
      const src = `${cell}\n{\n${injected}\nif (adapter === "synthetic") console.log(adapter);\n}\n`;
      const host = ts.createCompilerHost({ strict: true, noEmit: true });
      const file = "/virtual/cell.ts";
      const read = host.getSourceFile.bind(host);
      host.getSourceFile = (name, lang) => (name === file ? ts.createSourceFile(file, src, lang) : read(name, lang));
      const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] }, host);
      const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(errors).toEqual([]);
    }
    // and the literal type the runner used to inject does fail: the check above can fail
    const literal = `const adapter = "vindr";\nif (adapter === "synthetic") console.log(adapter);\n`;
    const host = ts.createCompilerHost({ strict: true, noEmit: true });
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang) => (name === "/virtual/lit.ts" ? ts.createSourceFile(name, literal, lang) : read(name, lang));
    const program = ts.createProgram(["/virtual/lit.ts"], { strict: true, noEmit: true, types: [] }, host);
    expect(ts.getPreEmitDiagnostics(program, program.getSourceFile("/virtual/lit.ts")).length).toBeGreaterThan(0);
  });

  it("refuses names that are not identifiers", () => {
    expect(() => renderParameters({ "a-b": 1 })).toThrow(/not a valid identifier/);
  });
});

describe("parameterize", () => {
  const base = () =>
    makeNotebook(["md:# title", "const a = 1;", { src: "const n = 1;\nlet s = 'x';", tags: ["parameters"] }, "console.log(n, s)"]);

  it("inserts a cell tagged injected-parameters right after the parameters cell", () => {
    const nb = base();
    const before = JSON.stringify(nb);
    const r = parameterize(nb, { n: 5, s: "y" });
    expect(r.injectedIndex).toBe(3);
    expect(r.notebook.cells).toHaveLength(5);
    const injected = r.notebook.cells[3] as CodeCell;
    expect(hasTag(injected, INJECTED_TAG)).toBe(true);
    expect(hasTag(r.notebook.cells[2], "parameters")).toBe(true);
    expect(sourceText(injected.source)).toContain("const n: number = 5;");
    expect(sourceText(injected.source)).toContain('const s: string = "y";');
    expect(r.unknown).toEqual([]);
    expect(r.defaultNames).toEqual(["n", "s"]);
    expect(JSON.stringify(nb)).toBe(before); // input untouched
    expect((r.notebook.metadata.papermill as { parameters: unknown }).parameters).toEqual({ n: 5, s: "y" });
  });

  it("replaces a previously injected cell instead of adding a second one", () => {
    const once = parameterize(base(), { n: 5 }).notebook;
    const twice = parameterize(once, { n: 7 });
    const injected = twice.notebook.cells.filter((c) => hasTag(c, INJECTED_TAG));
    expect(injected).toHaveLength(1);
    expect(twice.injectedIndex).toBe(3);
    expect(sourceText(injected[0].source)).toContain("const n: number = 7;");
    expect(sourceText(injected[0].source)).not.toContain("const n: number = 5;");
  });

  it("puts the injected cell first when there is no parameters cell, and reports unknown names", () => {
    const r = parameterize(makeNotebook(["console.log(1)"]), { q: 1 });
    expect(r.injectedIndex).toBe(0);
    expect(hasTag(r.notebook.cells[0], INJECTED_TAG)).toBe(true);
    expect(r.unknown).toEqual(["q"]);
  });

  it("injects nothing without parameters", () => {
    const r = parameterize(base(), {});
    expect(r.injectedIndex).toBe(-1);
    expect(r.notebook.cells.some((c) => hasTag(c, INJECTED_TAG))).toBe(false);
  });

  it("declaredNames finds const/let/var at line starts only", () => {
    expect(declaredNames("const a = 1;\n  let b = 2; var c = 3;\n// const d = 4\nexport const e = 5;")).toEqual(["a", "b", "e"]);
  });
});

describe("parameter files and the command line", () => {
  it("reads YAML and JSON files; -p overrides -f", () => {
    const dir = tempDir("params");
    const y = path.join(dir, "p.yaml");
    const j = path.join(dir, "p.json");
    fs.writeFileSync(y, "n: 4\nname: abc\nlist: [1, 2]\nflag: true\n");
    fs.writeFileSync(j, JSON.stringify({ n: 9, extra: { a: 1 } }));
    expect(readParamsFile(y)).toStrictEqual({ n: 4, name: "abc", list: [1, 2], flag: true });
    const p = collectParams(["n=11", "name=x"], [y, j]);
    expect(p).toStrictEqual({ n: 11, name: "x", list: [1, 2], flag: true, extra: { a: 1 } });
  });

  it("errors name the file or the problem", () => {
    const dir = tempDir("params");
    const bad = path.join(dir, "bad.yaml");
    fs.writeFileSync(bad, "- 1\n- 2\n");
    expect(() => readParamsFile(bad)).toThrow(new RegExp(`${bad}.*mapping`));
    expect(() => readParamsFile(path.join(dir, "missing.json"))).toThrow(/missing\.json: cannot read/);
    expect(() => collectParams(["n"], [])).toThrow(/-p takes NAME VALUE/);
    expect(() => joinParamPairs(["run", "nb.ipynb", "-p", "n"])).toThrow(/-p takes NAME VALUE \(got: n\)/);
  });

  it("the command line takes -p NAME VALUE, negative numbers and '=' in values included", () => {
    const argv = joinParamPairs(["node", "milpf", "run", "nb.ipynb", "-p", "lr", "-5e-3", "--param", "expr", "a=b", "-o", "out.ipynb"]);
    expect(argv).toEqual(["node", "milpf", "run", "nb.ipynb", "-p", "lr=-5e-3", "--param", "expr=a=b", "-o", "out.ipynb"]);
    expect(collectParams(["lr=-5e-3", "expr=a=b"], [])).toStrictEqual({ lr: -0.005, expr: "a=b" });
  });
});
