import type { Command } from "commander";

/** Subcommands of the dicom stage (filled by that stage). */
export function register(_program: Command): void {}
