import type { Command } from "commander";

/** Subcommands of the embed stage (filled by that stage). */
export function register(_program: Command): void {}
