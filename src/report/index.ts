/**
 * Reports from result files (JSON written by `longrope ppl|passkey|bench-tasks`): Markdown tables
 * and plots (SVG, PNG). Reads results only, never models.
 */
export { readResultFile, parseResultFile } from './results';
export type { ResultFile, PplPoint, PasskeyPoint, TaskPoint } from './results';
export { pplGrid, passkeyGrid, tasksGrid, markdownTable, headlineMetric, lengthLabel, formatPpl } from './tables';
export type { Grid } from './tables';
export { pplPlotSpec, passkeyPlotSpec, renderSvg, svgToPng, writeFigure } from './plots';
export { reportMarkdown, writeReport } from './report';
export type { ReportOutput } from './report';
