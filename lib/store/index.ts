export * from "./format";
export * from "./float16";
export { StoreWriter, writeStore, validateStoreData } from "./write";
export type { ImageEmbeddings, StoreWriterOptions } from "./write";
export { openStore, readStoreData } from "./read";
export { mergeStores } from "./merge";
export { exportStoreToHdf5, importHdf5Store, loadH5wasm } from "./hdf5";
export type { Hdf5ImportOptions } from "./hdf5";
