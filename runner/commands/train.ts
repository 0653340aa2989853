import type { Command } from "commander";

/** Subcommands of the train stage (filled by that stage). */
export function register(_program: Command): void {}
