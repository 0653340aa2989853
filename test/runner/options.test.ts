import { describe, expect, it } from "vitest";
import { numberOption } from "../../runner/commands/options";

describe("numberOption (numeric command-line options)", () => {
  it("returns the value when it satisfies the rule", () => {
    expect(numberOption("42", "seed", { int: true })).toBe(42);
    expect(numberOption("0.75", "overlap", { min: 0, max: 0.99 })).toBe(0.75);
    expect(numberOption("-3", "seed-base", { int: true })).toBe(-3);
    expect(numberOption("1", "seeds", { int: true, min: 1 })).toBe(1);
  });

  it("rejects empty, non-numeric, non-integer and out-of-range values with one message naming option and value", () => {
    expect(() => numberOption("", "cases", { int: true })).toThrow("--cases must be an integer, got ''");
    expect(() => numberOption("zero", "cases", { int: true, min: 1, max: 100000, command: "explain" })).toThrow(
      "explain: --cases must be an integer in [1, 100000], got 'zero'",
    );
    expect(() => numberOption("12.5", "tile-size", { int: true, command: "tile" })).toThrow("tile: --tile-size must be an integer, got '12.5'");
    expect(() => numberOption("0", "epochs", { int: true, min: 1 })).toThrow("--epochs must be an integer >= 1, got '0'");
    expect(() => numberOption("1", "overlap", { max: 0.99 })).toThrow("--overlap must be a number <= 0.99, got '1'");
    expect(() => numberOption("Infinity", "lr")).toThrow("--lr must be a number, got 'Infinity'");
  });
});
