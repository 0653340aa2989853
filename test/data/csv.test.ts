import { describe, expect, it } from "vitest";
import { parseCsv, parseCsvRows, toCsv } from "../../lib/data/csv";

describe("csv", () => {
  it("round-trips cells with commas, quotes, newlines and empties", () => {
    const rows = [
      { a: "['Mass', 'Suspicious Calcification']", b: 'say "hi"', c: "" },
      { a: "line1\nline2", b: 3.5, c: null },
    ];
    const text = toCsv(["a", "b", "c"], rows);
    expect(text).toBe('a,b,c\n"[\'Mass\', \'Suspicious Calcification\']","say ""hi""",\n"line1\nline2",3.5,\n');
    expect(parseCsv(text)).toEqual({
      columns: ["a", "b", "c"],
      rows: [
        { a: "['Mass', 'Suspicious Calcification']", b: 'say "hi"', c: "" },
        { a: "line1\nline2", b: "3.5", c: "" },
      ],
    });
  });
  it("handles CRLF, a BOM and a missing final newline", () => {
    expect(parseCsvRows("\ufeffx,y\r\n1,2\r\n3,4")).toEqual([["x", "y"], ["1", "2"], ["3", "4"]]);
  });
});
