/**
 * Kept only as a re-export for lib/data/adapters/table.ts (edited elsewhere at the time of the
 * dedup): the CSV reader and writer live in lib/util/table.ts. Import from there.
 */
export { parseCsv } from "../util/table";
