import type { MimeBundle, Output } from "./nbformat";

/** Messages between the runner (parent) and its kernel worker (child process), over Node IPC. */

export interface ExecuteRequest {
  type: "execute";
  cell: number;
  source: string;
}
export interface ShutdownRequest {
  type: "shutdown";
}
export type ToKernel = ExecuteRequest | ShutdownRequest;

export interface ReadyMessage {
  type: "ready";
  tslabVersion: string;
}
export interface OutputMessage {
  type: "output";
  cell: number;
  output: Output;
  /** tslab display id (newDisplay()): later updates replace this output's data. */
  displayId?: string;
}
export interface UpdateDisplayMessage {
  type: "update_display";
  cell: number;
  displayId: string;
  data: MimeBundle;
}
export interface DoneMessage {
  type: "done";
  cell: number;
  ok: boolean;
}
export type FromKernel = ReadyMessage | OutputMessage | UpdateDisplayMessage | DoneMessage;
