/**
 * The MIL-PF library: the one API that notebooks and the command line import.
 * Each stage is a namespace; the cross-stage types are at the top level.
 *
 *   import * as milpf from "../dist/lib";      // from a notebook (after `npm run build`)
 */
export * from "./types";
export * as util from "./util";
export * as dicom from "./dicom";
export * as data from "./data";
export * as preprocess from "./preprocess";
export * as tiling from "./tiling";
export * as embed from "./embed";
export * as store from "./store";
export * as head from "./head";
export * as metrics from "./metrics";
export * as explain from "./explain";
export * as plot from "./plot";
