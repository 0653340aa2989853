// One file per stage; each exports register(program). Order = order in `milpf --help`.
export { register as registerRunner } from "./runner";
export { register as registerParams } from "./params";
export { register as registerData } from "./data";
export { register as registerDicom } from "./dicom";
export { register as registerTile } from "./tile";
export { register as registerEmbed } from "./embed";
export { register as registerTrain } from "./train";
export { register as registerExplain } from "./explain";
export { register as registerMetrics } from "./metrics";
export { register as registerProbe } from "./probe";
