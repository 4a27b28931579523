/** Reports: the summary.json schema, selection rules, markdown/HTML reports and PNG charts. */
export * from './select-reported.js';
export * from './run-summary.js';
export * from './charts.js';
export * from './run-report.js';
export * from './comparison.js';
export * from './study-report.js';
export * from './write-report.js';
