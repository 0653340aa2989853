/**
 * Inline display in a notebook: through tslab.display when the code runs in a tslab kernel (the
 * Jupyter kernel or the milpf runner's kernel worker); a no-op elsewhere (command line, tests).
 */

interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  raw(contentType: string, b: unknown): void;
}

/** The kernel's own tslab module, or null outside a kernel. */
function kernelTslab(): { display?: TslabDisplay; newDisplay?: () => TslabDisplay } | null {
  const hook = (globalThis as { __tslab__?: { require?: (id: string) => unknown } }).__tslab__;
  if (!hook?.require) return null;
  try {
    return hook.require("tslab") as { display?: TslabDisplay; newDisplay?: () => TslabDisplay };
  } catch {
    return null;
  }
}

/**
 * A display entry that each call overwrites (tslab.newDisplay: Jupyter's update_display_data),
 * for progress shown in place in the notebook; null outside a kernel.
 */
export function kernelUpdatingDisplay(): TslabDisplay | null {
  const t = kernelTslab();
  return t?.newDisplay ? t.newDisplay() : null;
}

/** The kernel's own tslab.display, or null outside a kernel. */
export function kernelDisplay(): TslabDisplay | null {
  // tslab's executor sets globalThis.__tslab__ = {exports, require}; its require("tslab") returns
  // the kernel's own tslab module (the one whose display writer is installed).
  const hook = (globalThis as { __tslab__?: { require?: (id: string) => unknown } }).__tslab__;
  if (!hook?.require) return null;
  try {
    const tslab = hook.require("tslab") as { display?: TslabDisplay };
    return tslab.display ?? null;
  } catch {
    return null;
  }
}

/** Display with `fn` when in a kernel; returns whether something was displayed. */
export function displayInline(fn: (d: TslabDisplay) => void): boolean {
  const d = kernelDisplay();
  if (!d) return false;
  try {
    fn(d);
    return true;
  } catch (e) {
    // "Not ready": a tslab executor without a display writer (not a kernel); nothing to show.
    if (e instanceof Error && e.message === "Not ready") return false;
    throw e;
  }
}
