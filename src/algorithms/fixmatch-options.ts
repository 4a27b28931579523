import { z } from 'zod';
import { option } from '../config/option-spec.js';

/** FixMatch options (REFERENCES.md §4; ytaek-oh/daso lib/config/defaults.py). */
export const fixmatchOptions = {
  threshold: option(z.number().gt(0).lte(1), 0.95, 'confidence threshold τ for pseudo-labels (FixMatch: 0.95)'),
  lambdaU: option(z.number().min(0), 1, 'weight λ_u of the unlabeled loss, no ramp-up (FixMatch: 1)'),
} as const;
