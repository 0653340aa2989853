// lib/plot: figures (Plotly specs -> HTML + PNG + SVG + JSON), tables (CSV, Markdown, LaTeX) and
// images (PNG), exported to the run's figures folder and shown inline in the notebook.
export { show, table, image, markdown, figureHtml, exportFigure, exportTable, figureFiles, tableFiles, plotlyTreeRoot } from "./export";
export type { FigureFiles, ShowOptions, TableFiles, TableOptions } from "./export";
export { figuresDir, safeName } from "./output-dir";
export { renderStatic, closeBrowser, staticExportAvailable, chromiumPath, CHROMIUM_FLAGS } from "./static-export";
export type { FigureSpec, StaticImages } from "./static-export";
export { toTableData, toCsv, toMarkdown, toLatex, toHtml, latexEscape, displayCells, formatNumber, DEFAULT_DIGITS } from "../util/table";
export { checkFigure, checkFigureTree, findFigureSpecs } from "./check";
export type { TableInput, TableRows, TableData, DataFrameLike, Digits } from "../util/table";
export { displayInline } from "./inline";
export * as style from "./style";
export { PALETTE, CONFIG_COLOURS, configColour, seriesColour, plotlyColourBar, colourBarSvg, withColourBar, withTitle, legendStrip } from "./style";
export type { ColourMap, ColourBarOptions } from "./style";
