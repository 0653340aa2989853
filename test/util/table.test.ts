import { describe, expect, it } from "vitest";
import { parseCsv, parseCsvRecords, parseCsvRows, recordsTable, toCsv } from "../../lib/util/table";

describe("CSV reading", () => {
  it("quotes, doubled quotes, embedded commas and newlines, CRLF, BOM, blank lines", () => {
    const recs = parseCsvRecords('\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",2\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"'],
      ["multi\nline", "2"],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });
  it("unterminated quote names the source and line", () => {
    expect(() => parseCsvRecords('a,b\n"oops,1\n', "f.csv")).toThrow(/f\.csv: unterminated quoted field starting on line 2/);
  });
  it("handles CRLF, a BOM and a missing final newline", () => {
    expect(parseCsvRows("\ufeffx,y\r\n1,2\r\n3,4")).toEqual([["x", "y"], ["1", "2"], ["3", "4"]]);
  });
});

describe("CSV writing", () => {
  it("round-trips cells with commas, quotes, newlines, edge spaces and empties in a fixed column order", () => {
    const rows = [
      { a: "['Mass', 'Suspicious Calcification']", b: 'say "hi"', c: "" },
      { a: "line1\nline2", b: 3.5, c: null },
      { a: " padded", b: NaN, c: undefined },
    ];
    const text = toCsv(recordsTable(["a", "b", "c"], rows));
    expect(text).toBe('a,b,c\n"[\'Mass\', \'Suspicious Calcification\']","say ""hi""",\n"line1\nline2",3.5,\n" padded",,\n');
    expect(parseCsv(text)).toEqual({
      columns: ["a", "b", "c"],
      rows: [
        { a: "['Mass', 'Suspicious Calcification']", b: 'say "hi"', c: "" },
        { a: "line1\nline2", b: "3.5", c: "" },
        { a: " padded", b: "", c: "" },
      ],
    });
  });
});
