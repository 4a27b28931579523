import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runExperiment } from '../../src/run/run-experiment.js';
import { TrainingInterrupted } from '../../src/train/interrupted.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';
import { createDarp, darpSolve, estimateUnlabeledDistribution, refinePseudoLabels, resolveDarpTarget, scaleToTarget, type UnlabeledView } from '../../src/algorithms/index.js';
import { secantRoot } from '../../src/algorithms/darp/solver.js';
import { conditionNumber, softConfusion, solveLinear } from '../../src/algorithms/darp/estimate.js';
import { darpEstimateSteps, darpWarmupSteps } from '../../src/algorithms/darp/options.js';
import { resolveRunConfig } from '../../src/config/run-config.js';

beforeAll(useCpuBackend);

/*
 * The official refinement, run with numpy 2.4 / scipy 1.17 (torch float32 tensors replaced by
 * numpy float32 arrays; the rest is bbuing9/DARP common.py as ytaek-oh/daso darp_reproduce.py calls it):
 *
 *   def estimate_pseudo(q_y, saved_q, num_class, alpha=2):
 *       pseudo_labels = np.zeros((len(saved_q), num_class), np.float32); k_probs = np.zeros(num_class, np.float32)
 *       for i in range(1, num_class + 1):
 *           i = num_class - i; num_i = int(alpha * q_y[i])
 *           idx = np.argsort(-saved_q[:, i], kind='stable'); sorted_probs = saved_q[idx, i]
 *           pseudo_labels[idx[:num_i], i] = 1; k_probs[i] = sorted_probs[:num_i].sum()
 *       return pseudo_labels, (q_y + np.float32(1e-6)) / (k_probs + np.float32(1e-6))
 *   def f(x, a, b, c, d): return np.sum(a * b * np.exp(-1 * x / c)) - d
 *   def opt_solver(probs, target_distb, num_iter=10, th=0.1, num_newton=30):
 *       entropy = (-1 * probs * np.log(probs + np.float32(1e-6))).sum(1); weights = (1 / entropy)
 *       N, K = probs.shape
 *       A, w, lam, nu, r, c = probs, weights, np.ones(N), np.ones(K), np.ones(N), target_distb
 *       A_e = A / math.e; X = np.exp(-1 * lam / w); Y = np.exp(-1 * nu.reshape(1, -1) / w.reshape(-1, 1))
 *       prev_Y = np.zeros(K); X_t, Y_t = X, Y
 *       for n in range(num_iter):
 *           denom = np.sum(A_e * Y_t, 1); X_t = r / denom; Y_t = np.zeros(K)
 *           for i in range(K):
 *               Y_t[i] = optimize.newton(f, prev_Y[i], maxiter=num_newton, args=(A_e[:, i], X_t, w, c[i]), tol=th)
 *           prev_Y = Y_t; Y_t = np.exp(-1 * Y_t.reshape(1, -1) / w.reshape(-1, 1))
 *       denom = np.sum(A_e * Y_t, 1); X_t = r / denom
 *       return (A_e * X_t.reshape(-1, 1) * Y_t).astype(np.float32)
 *   pseudo_orig = np.array([[.7,.2,.1],[.6,.3,.1],[.5,.4,.1],[.8,.15,.05],[.4,.35,.25],[.55,.25,.2]], np.float32)
 *   target = np.array([3.0, 2.0, 1.0], np.float32)
 *   targets_u, weights_u = estimate_pseudo(target, pseudo_orig, 3, alpha=2)      # DARP.step
 *   scaled = pseudo_orig * (targets_u * weights_u.reshape(1, -1)) + np.float32(1e-6)
 *   scaled = scaled / scaled.sum(axis=1, keepdims=True)
 *   M = opt_solver(scaled, target, num_iter=10)
 * printed:
 *   weights [0.845070481300354, 1.5384612083435059, 2.222219467163086]
 *   scaled [[0.9999966, 1.7e-06, 1.7e-06], [0.5234894, 0.4765095, 1e-06], [0.407098, 0.5929011, 1e-06],
 *           [0.999997, 1.5e-06, 1.5e-06], [0.2360461, 0.3760087, 0.3879451], [0.3592297, 0.2972648, 0.3435055]]
 *   M [[0.999997, 2e-06, 2e-06], [0.404178, 0.59582, 2e-06], [0.300113, 0.699886, 1e-06],
 *      [0.999997, 1e-06, 1e-06], [0.112428, 0.378958, 0.508614], [0.183288, 0.325333, 0.491379]]
 */
const PSEUDO_ORIG = [0.7, 0.2, 0.1, 0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.8, 0.15, 0.05, 0.4, 0.35, 0.25, 0.55, 0.25, 0.2];
const TARGET = [3, 2, 1];
const OFFICIAL_SCALED = [
  [0.9999966, 1.7e-6, 1.7e-6], [0.5234894, 0.4765095, 1e-6], [0.407098, 0.5929011, 1e-6],
  [0.999997, 1.5e-6, 1.5e-6], [0.2360461, 0.3760087, 0.3879451], [0.3592297, 0.2972648, 0.3435055],
];
const OFFICIAL_M = [
  [0.999997, 2e-6, 2e-6], [0.404178, 0.59582, 2e-6], [0.300113, 0.699886, 1e-6],
  [0.999997, 1e-6, 1e-6], [0.112428, 0.378958, 0.508614], [0.183288, 0.325333, 0.491379],
];

function rows(a: ArrayLike<number>, c: number): number[][] {
  return Array.from({ length: a.length / c }, (_, i) => Array.from(a).slice(i * c, (i + 1) * c));
}

describe('DARP refinement (the official estimate_pseudo + opt_solver)', () => {
  it('keeps each class\'s top ⌊α·target⌋ entries, scaled by target / their mass, as the official code', () => {
    // α = 2: class 0 keeps its top 6 (all), class 1 its top 4 (rows 2, 4, 1, 5), class 2 its top 2 (rows 4, 5).
    // Class 2's weight: (1 + 1e-6) / (0.25 + 0.2 + 1e-6) = 2.222219; row 4 = [0.4·0.845070, 0.35·1.538461, 0.25·2.222219] + 1e-6, renormalised.
    const scaled = rows(scaleToTarget(Float32Array.from(PSEUDO_ORIG), 3, TARGET, 2), 3);
    scaled.forEach((r, i) => r.forEach((v, k) => expect(v).toBeCloseTo(OFFICIAL_SCALED[i][k], 6)));
  });

  it('solves to the official M on a 6 × 3 case: same entries, columns summing to the target', () => {
    const m = refinePseudoLabels(Float32Array.from(PSEUDO_ORIG), 3, TARGET, { alpha: 2, iterations: 10 });
    rows(m, 3).forEach((r, i) => r.forEach((v, k) => expect(v).toBeCloseTo(OFFICIAL_M[i][k], 5)));
    const columns = [0, 1, 2].map((k) => rows(m, 3).reduce((s, r) => s + r[k], 0));
    columns.forEach((s, k) => expect(s).toBeCloseTo(TARGET[k], 5));
    rows(m, 3).forEach((r) => expect(r[0] + r[1] + r[2]).toBeCloseTo(1, 6));
  });

  it('the secant step is scipy.optimize.newton without a derivative', () => {
    // scipy 1.17: newton(lambda x: x*x - 2, 1.0, tol=0.1) = 1.400007999360047; tol=1e-10 -> 1.414213562373095;
    // newton(lambda x: exp(-x) - 0.5, 0.0, tol=0.1) = 0.6877973112199322.
    expect(secantRoot((x) => x * x - 2, 1, 30, 0.1)).toBeCloseTo(1.400007999360047, 12);
    expect(secantRoot((x) => x * x - 2, 1, 30, 1e-10)).toBeCloseTo(Math.SQRT2, 12);
    expect(secantRoot((x) => Math.exp(-x) - 0.5, 0, 30, 0.1)).toBeCloseTo(0.6877973112199322, 12);
  });

  it('an already aligned, confident set stays where it is', () => {
    // Two samples per class, each 0.98 on its class: the histogram already matches [2, 2, 2].
    const p = [0.98, 0.01, 0.01, 0.98, 0.01, 0.01, 0.01, 0.98, 0.01, 0.01, 0.98, 0.01, 0.01, 0.01, 0.98, 0.01, 0.01, 0.98];
    const m = darpSolve(scaleToTarget(p, 3, [2, 2, 2], 2), 3, [2, 2, 2], { iterations: 10 });
    rows(m, 3).forEach((r, i) => expect(r.indexOf(Math.max(...r))).toBe(Math.floor(i / 2)));
  });
});

describe('DARP\'s estimate of the unlabeled distribution (train_base_estim.py estimate_q_y)', () => {
  // Held-out: class 0 [.8 .1 .1], [.6 .3 .1]; class 1 [.2 .7 .1], [.1 .5 .4]; class 2 [.1 .2 .7], [.2 .1 .7].
  // Column y of conf = mean prediction of class y's samples: [.7 .2 .1], [.15 .6 .25], [.15 .15 .7].
  const held = { probs: [0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.5, 0.4, 0.1, 0.2, 0.7, 0.2, 0.1, 0.7], labels: [0, 0, 1, 1, 2, 2] };
  const unlabeled = [0.7, 0.2, 0.1, 0.5, 0.4, 0.1, 0.6, 0.3, 0.1, 0.2, 0.6, 0.2, 0.1, 0.2, 0.7];

  it('builds the column-normalised soft confusion matrix and inverts it, as numpy', () => {
    const conf = Array.from(softConfusion(held.probs, held.labels, 3));
    [0.7, 0.15, 0.15, 0.2, 0.6, 0.15, 0.1, 0.25, 0.7].forEach((v, i) => expect(conf[i]).toBeCloseTo(v, 12));
    // q̃ = Σ unlabeled p = [2.1, 1.7, 1.2]; numpy: inv(conf) @ q̃ = [2.4545454545, 1.8383838384, 0.7070707071]
    // (check: 0.7·2.4545 + 0.15·1.8384 + 0.15·0.7071 = 2.1); np.linalg.cond(conf) = 2.346588747263497.
    const e = estimateUnlabeledDistribution(held, unlabeled, 3, 100);
    [2.4545454545454537, 1.8383838383838385, 0.7070707070707071].forEach((v, k) => expect(e.counts[k]).toBeCloseTo(v, 10));
    expect(e.condition).toBeCloseTo(2.346588747263497, 10);
    expect(e.accepted).toBe(true);
    expect(estimateUnlabeledDistribution(held, unlabeled, 3, 2).accepted).toBe(false);
  });

  it('rejects an estimate with a negative entry, and a singular confusion matrix', () => {
    // Unlabeled predictions that class 2's column cannot explain: q̂_2 < 0.
    expect(estimateUnlabeledDistribution(held, [0.7, 0.3, 0, 0.7, 0.3, 0], 3, 100).accepted).toBe(false);
    expect(solveLinear([1, 2, 2, 4], [1, 1], 2)).toBeNull();
    expect(conditionNumber([1, 2, 2, 4], 2)).toBe(Number.POSITIVE_INFINITY);
    // diag(2, 0.5): σ_max / σ_min = 4.
    expect(conditionNumber([2, 0, 0, 0.5], 2)).toBeCloseTo(4, 10);
  });
});

describe('DARP\'s schedule (ytaek-oh/daso DARP.step)', () => {
  it('warm-up ⌊T·0.4⌋, estimates over its second half, target auto as DASO', () => {
    expect(darpWarmupSteps(1600, 0.4)).toBe(640);
    // 5 points: 640 − round(k·640/10) for k = 4..0 -> 384, 448, 512, 576, 640.
    expect(darpEstimateSteps(640, 5)).toEqual([384, 448, 512, 576, 640]);
    expect(darpEstimateSteps(3, 5)).toEqual([2, 3]);
    expect(resolveDarpTarget('auto', 100, 100)).toBe('labeled');
    expect(resolveDarpTarget('auto', 100, 1)).toBe('estimate');
    expect(resolveDarpTarget('labeled', 100, 1)).toBe('labeled');
  });

  /** A view of one step: only the step and the positions matter to DARP. */
  const view = (step: number, positions: number[]): UnlabeledView => {
    const none = tf.zeros([1, 1]) as tf.Tensor2D;
    return { step, iterations: 10, unlabeledPositions: Int32Array.from(positions), probs: none, featuresWeak: none, featuresStrong: none, logitsStrong: none } as UnlabeledView;
  };

  it('passes targets through during warm-up, refines every T steps after it, reuses the last refinement between', () => {
    // T = 10 steps, warm-up 0.4 -> steps 1..4 (1-based) unchanged; refinement at t = 5 and 10 (every 5).
    const darp = createDarp(
      { darpWarmup: 0.4, darpEvery: 5, darpAlpha: 2, darpIterations: 10, darpTarget: 'labeled', darpEstimates: 1, darpConditionLimit: 100 },
      { numClasses: 3, numUnlabeled: 6, labeledClassCounts: [30, 20, 10], iterations: 10 },
    );
    const run = (step: number, positions: number[], p: number[]): number[][] =>
      expectNoLeak(() =>
        tf.tidy(() => {
          const v = view(step, positions);
          return rows(darp.transformTarget!(tf.tensor2d(p, [positions.length, 3]), v).dataSync(), 3);
        }),
      );
    // Steps 0..3 (t = 1..4) fill the store with PSEUDO_ORIG and return the input.
    for (let s = 0; s < 4; s++) {
      const i = (s * 2) % 6;
      const p = PSEUDO_ORIG.slice(i * 3, i * 3 + 6);
      const out = run(s, [i, i + 1], p);
      out.flat().forEach((v, j) => expect(v).toBeCloseTo(p[j], 6));
    }
    // Step 4 (t = 5): refinement of the whole store with target = labeled shape 6·[3, 2, 1]/6 = [3, 2, 1], the official M.
    const refined = run(4, [4, 5], PSEUDO_ORIG.slice(12, 18));
    refined.forEach((r, i) => r.forEach((v, k) => expect(v).toBeCloseTo(OFFICIAL_M[4 + i][k], 5)));
    // Step 5 (t = 6): no refinement; rows of the last one, whatever this step predicts.
    const stale = run(5, [1], [1 / 3, 1 / 3, 1 / 3]);
    stale[0].forEach((v, k) => expect(v).toBeCloseTo(OFFICIAL_M[1][k], 5));
    // Its prior estimate is the labeled shape (DARP's assumption without --est).
    darp.priorEstimate!()!.forEach((v, k) => expect(v).toBeCloseTo([0.5, 1 / 3, 1 / 6][k], 10));
  });

  it('checkpoints its stores and estimates: a restored copy refines identically', () => {
    const opts = { darpWarmup: 0.5, darpEvery: 1, darpAlpha: 2, darpIterations: 10, darpTarget: 'estimate' as const, darpEstimates: 1, darpConditionLimit: 100 };
    const ctx = { numClasses: 3, numUnlabeled: 5, labeledClassCounts: [30, 20, 10], iterations: 10 };
    const a = createDarp(opts, ctx);
    expect(a.boundaries).toEqual([5]);
    expect(a.priorEstimate!()).toBeNull();
    const held = { probs: Float32Array.from([0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.5, 0.4, 0.1, 0.2, 0.7, 0.2, 0.1, 0.7]), labels: Int32Array.from([0, 0, 1, 1, 2, 2]) };
    const unl = Float32Array.from([0.7, 0.2, 0.1, 0.5, 0.4, 0.1, 0.6, 0.3, 0.1, 0.2, 0.6, 0.2, 0.1, 0.2, 0.7]);
    tf.tidy(() => a.transformTarget!(tf.tensor2d(unl, [5, 3]), view(0, [0, 1, 2, 3, 4])));
    const outcome = a.atBoundary!({ step: 5, iterations: 10, unlabeledProbs: () => unl, validationProbs: () => held, log: () => {} });
    expect(outcome?.record?.accepted).toBe(true);
    // π̂ = [2.4545, 1.8384, 0.7071] / 5.
    a.priorEstimate!()!.forEach((v, k) => expect(v).toBeCloseTo([2.4545454545, 1.8383838384, 0.7070707071][k] / 5, 6));
    const b = createDarp(opts, ctx);
    // The JSON part goes through a checkpoint's JSON header.
    b.restore!({ json: JSON.parse(JSON.stringify(a.state!().json)) as Record<string, unknown>, arrays: a.state!().arrays });
    const next = (d: typeof a): number[] => tf.tidy(() => Array.from(d.transformTarget!(tf.tensor2d(unl.slice(0, 6), [2, 3]), view(5, [0, 1])).dataSync()));
    expect(next(b)).toEqual(next(a));
  });
});

describe('DARP in a composition', () => {
  const base = { gammaL: 4, gammaU: 4, iterations: 100 };
  it('refuses DASO and CReST beside it, naming why', () => {
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['darp', 'daso'] }, [{ source: 'test', values: base }]), /darp and daso cannot be combined: both rewrite the pseudo-label target/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['crest', 'darp'] }, [{ source: 'test', values: base }]), /darp and crest cannot be combined: .*fm_crest\.py/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['abc', 'darp'] }, [{ source: 'test', values: base }]), /darp and abc cannot be combined: .*per-sample store/);
    expectUserError(() => resolveRunConfig({ algorithm: 'flexmatch', with: ['darp'] }, [{ source: 'test', values: base }]), /darp cannot be added to flexmatch: DARP's paper and code refine the pseudo-labels of MixMatch, ReMixMatch and FixMatch only/);
    expectUserError(() => resolveRunConfig({ algorithm: 'mean-teacher', with: ['darp'] }, [{ source: 'test', values: base }]), /darp cannot be added to mean-teacher/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['adsh', 'darp'] }, [{ source: 'test', values: base }]), /darp and adsh cannot be combined/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['debiaspl', 'darp'] }, [{ source: 'test', values: base }]), /darp and debiaspl cannot be combined/);
    // Logit adjustment only touches the labeled logits: it composes.
    expect(resolveRunConfig({ algorithm: 'fixmatch', with: ['la', 'darp'] }, [{ source: 'test', values: base }]).with).toEqual(['la', 'darp']);
  });

  it('refuses an estimate without held-out data or without warm-up steps', () => {
    expectUserError(
      () => resolveRunConfig('darp', [{ source: 'test', values: { ...base, gammaU: 1, validationPerClass: 0 } }]),
      /--darp-target: estimate \(--darp-target auto picks it because γ_l 4 ≠ γ_u 1\) needs held-out labeled data/,
    );
    expectUserError(() => resolveRunConfig('darp', [{ source: 'test', values: { ...base, darpTarget: 'estimate', darpWarmup: 0 } }]), /--darp-warmup: estimate is taken during the warm-up/);
    expect(resolveRunConfig('darp', [{ source: 'test', values: { ...base, validationPerClass: 0 } }]).darpTarget).toBe('auto');
  });
});

describe('fixmatch --with darp on tiny data', () => {
  it('estimates the unlabeled distribution from the validation split, refines on schedule, learns, resumes exactly', { timeout: 300_000 }, async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-darp-'));
    const dataset = syntheticDataset();
    const backend = await testBackend();
    // γ_l 4 ≠ γ_u 1: auto picks the estimate. 30 steps, warm-up ⌊30·0.4⌋ = 12; estimates after steps
    // 12 − round(k·12/10), k = 4..0: 7, 8, 10, 11, 12; refinements at t = 20 and 30.
    const tiny = (runId: string) =>
      resolveRunConfig('darp', [
        {
          source: 'test',
          values: {
            net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 30, evalEvery: 10,
            checkpointEvery: 10, labeledBatch: 16, unlabeledRatio: 2, plWindow: 10, workers: 0, progress: 'none', outDir, selection: 'last', runId,
          },
        },
      ]);
    const counts: number[] = [];
    const full = await runExperiment(tiny('full'), { log: () => {}, dataset, onStep: (s) => s >= 4 && counts.push(tf.memory().numTensors) });
    expect(full.summary.algorithm).toBe('fixmatch+darp');
    expect(JSON.parse(readFileSync(path.join(full.runDir, 'config.json'), 'utf8')).darpTarget).toBe('estimate');
    const events = readFileSync(path.join(full.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const estimates = events.filter((e) => e.type === 'boundary') as Array<{ step: number; darp: { estimate: number[]; accepted: boolean; target?: number[] } }>;
    expect(estimates.map((e) => e.step)).toEqual([7, 8, 10, 11, 12]);
    // Each estimate sums to the 240 unlabeled images; the last one fixes the target (Σ = 240).
    estimates.forEach((e) => expect(e.darp.estimate.reduce((a, b) => a + b, 0)).toBeCloseTo(240, 3));
    const target = estimates.at(-1)!.darp.target!;
    expect(target.reduce((a, b) => a + b, 0)).toBeCloseTo(240, 3);
    // The target is DARP's prior estimate in the run record, scored against the truth (uniform, 60 per class).
    const prior = full.summary.priorEstimates!;
    expect(prior.truth).toEqual([0.25, 0.25, 0.25, 0.25]);
    prior.sources.darp.estimate.forEach((v, k) => expect(v).toBeCloseTo(target[k] / 240, 6));
    expect(prior.sources.darp.kl).toBeGreaterThanOrEqual(0);
    // Chance is 25%; tensors flat over the run (estimates and refinements included).
    expect(full.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(new Set(counts).size).toBe(1);

    const cut = tiny('cut');
    await expect(runExperiment(cut, { log: () => {}, dataset, onStep: (step) => { if (step === 19) throw new TrainingInterrupted(step); } })).rejects.toThrow(TrainingInterrupted);
    const resumed = await runExperiment(cut, { log: () => {}, dataset, resumeDir: path.join(outDir, 'cut') });
    expect(resumed.summary.final).toEqual(full.summary.final);
    expect(resumed.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
  });
});
