import { describe, expect, it } from "vitest";
import { displayCells, latexEscape, toCsv, toHtml, toLatex, toMarkdown, toTableData } from "../../lib/plot";

/** Test oracle: an independent RFC 4180 reader for the round trip (not lib/util/table's reader). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(field), (field = ""));
    else if (ch === "\n") (row.push(field), rows.push(row), (row = []), (field = ""));
    else field += ch;
  }
  return rows;
}

describe("tables", () => {
  const rows = [
    { name: "plain", auc: 0.81234567, n: 10 },
    { name: 'has, comma and "quotes"', auc: 0.5, n: 3 },
    { name: "multi\nline", n: 0, extra: "x|y" },
  ];

  it("normalises row objects: union of keys in first-seen order", () => {
    const t = toTableData(rows);
    expect(t.columns).toEqual(["name", "auc", "n", "extra"]);
    expect(t.rows[2]).toEqual(["multi\nline", undefined, 0, "x|y"]);
  });

  it("CSV quotes what needs quoting and round-trips through an RFC 4180 reader", () => {
    const csv = toCsv(toTableData(rows));
    expect(csv.split("\n")[2]).toBe('"has, comma and ""quotes""",0.5,3,');
    expect(parseCsv(csv)).toEqual([
      ["name", "auc", "n", "extra"],
      ["plain", "0.81234567", "10", ""],
      ['has, comma and "quotes"', "0.5", "3", ""],
      ["multi\nline", "", "0", "x|y"],
    ]);
  });

  it("one number rule: integer-only columns as integers, other numeric columns all at 3 decimals, n/a for NaN", () => {
    const t = toTableData([
      { config: "a", auc: 1, n: 43, mean: 42.7, ci: "0.912 [0.850, 0.960]" },
      { config: "b", auc: 0.9653, n: 42, mean: 43, ci: "-" },
      { config: "c", auc: NaN, n: 0, mean: 0.00001, ci: "-" },
    ]);
    expect(displayCells(t)).toEqual([
      ["a", "1.000", "43", "42.700", "0.912 [0.850, 0.960]"],
      ["b", "0.965", "42", "43.000", "-"],
      ["c", "n/a", "0", "1.00e-5", "-"],
    ]);
    // per-column decimals; the others keep the default 3
    expect(displayCells(t, { mean: 1 })[0]).toEqual(["a", "1.000", "43", "42.7", "0.912 [0.850, 0.960]"]);
    // the same text in Markdown, LaTeX and HTML
    const md = toMarkdown(t);
    const tex = toLatex(t);
    const html = toHtml(t);
    for (const cell of ["1.000", "0.965", "42.700", "43.000"]) {
      expect(md).toContain(`| ${cell} |`);
      expect(tex).toMatch(new RegExp(`(^|& )${cell.replace(".", "\\.")} (&|\\\\)`, "m"));
      expect(html).toContain(`>${cell}</td>`);
    }
  });

  it("Markdown: header, right-aligned numeric columns, escaped pipes, 3 decimals, caption", () => {
    const md = toMarkdown(toTableData(rows), { caption: "Results" }).split("\n");
    expect(md[0]).toBe("| name | auc | n | extra |");
    expect(md[1]).toBe("| --- | ---: | ---: | --- |");
    expect(md[2]).toBe("| plain | 0.812 | 10 |  |");
    expect(md[4]).toBe("| multi<br>line |  | 0 | x\\|y |");
    expect(md[6]).toBe("Table: Results");
  });

  it("LaTeX: escapes specials, booktabs rules, alignment from column types", () => {
    expect(latexEscape("50% of $x_1$ & {a} #1 ~ ^ \\")).toBe("50\\% of \\$x\\_1\\$ \\& \\{a\\} \\#1 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}");
    const tex = toLatex(toTableData([{ config: "a_b", auc: 0.9 }]), { caption: "AUC & more", label: "tab:x" });
    expect(tex).toBe(
      [
        "\\begin{table}[htbp]",
        "\\centering",
        "\\caption{AUC \\& more}",
        "\\label{tab:x}",
        "\\begin{tabular}{lr}",
        "\\toprule",
        "config & auc \\\\",
        "\\midrule",
        "a\\_b & 0.900 \\\\",
        "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
        "",
      ].join("\n"),
    );
  });

  it("HTML escapes cell text", () => {
    expect(toHtml(toTableData([{ a: "<b>&" }]), { caption: "c<" })).toBe(
      '<table><caption>c&lt;</caption><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;b&gt;&amp;</td></tr></tbody></table>',
    );
  });

  it("accepts a danfo DataFrame", async () => {
    const dfd = await import("danfojs-node");
    const df = new dfd.DataFrame([[1, "a"], [2.5, "b"]], { columns: ["x", "y"] });
    const t = toTableData(df);
    expect(t).toEqual({ columns: ["x", "y"], rows: [[1, "a"], [2.5, "b"]] });
    expect(toCsv(t)).toBe("x,y\n1,a\n2.5,b\n");
  });

  it("rejects input that is not a table", () => {
    expect(() => toTableData([1, 2] as unknown as Record<string, unknown>[], "table t")).toThrow(/table t: row 0 is not an object/);
  });
});
