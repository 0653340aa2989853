import type { Command } from "commander";

/** Subcommands of the tile stage (filled by that stage). */
export function register(_program: Command): void {}
