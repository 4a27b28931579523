/** Evaluation: classification metrics, shot groups and pseudo-label quality (plain typed arrays, no tfjs). */
export * from './metrics.js';
export * from './shot-groups.js';
export * from './pseudo-label-tracker.js';
export * from './prior-estimate.js';
