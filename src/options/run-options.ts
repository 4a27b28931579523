import { z } from 'zod';
import { option } from './option-spec.js';
import { DATASET_NAMES } from '../data/sources/index.js';
import { NET_NAMES } from '../models/create-model.js';
import { HEAD_NAMES } from '../models/heads.js';
import { PRECISION_CHOICES } from '../backend/precision.js';
import { BACKEND_CHOICES } from '../backend/select.js';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const positive = z.number().positive();

/** Data and split options (docs/methods.md §1, §5). Defaults are DASO's CIFAR-10 setting. */
export const dataOptions = {
  dataset: option(
    z.enum(DATASET_NAMES),
    'fashion-mnist',
    `dataset: ${DATASET_NAMES.join(', ')}; fashion-mnist is embedded in the package, the others read --data-dir`,
    '<name>',
  ),
  dataDir: option(z.string().nullable(), null, 'folder holding the dataset files (see datasets/README.md)', '<dir>'),
  n1: option(positiveInt, 1500, 'labeled images of the head class, N_1 (DASO: 1500 or 500)'),
  m1: option(positiveInt, 3000, 'unlabeled images of the head class, M_1 (DASO: 3000 or 4000)'),
  gammaL: option(positive, 100, 'labeled imbalance ratio γ_l = n_0 / n_{C-1} (> 0)'),
  gammaU: option(positive, 1, 'unlabeled imbalance ratio γ_u: 1 uniform, > 1 long-tailed like the labeled set, < 1 reversed (0.01 = reversed 100)'),
  validationPerClass: option(nonNegativeInt, 500, 'balanced validation images per class, taken before the split (DASO: 500 on CIFAR-10)'),
  labeledInUnlabeled: option(z.boolean(), false, 'also put the labeled images in the unlabeled set'),
  balancedLabeled: option(
    z.boolean(),
    false,
    'train on a class-balanced labeled set of the same total size as the long-tailed one (a balanced reference run)',
  ),
  balancedReference: option(
    z.boolean(),
    false,
    'relative accuracy (Zhang et al. survey §4.1): also train this method and plain CE on the balanced labeled set of the same size (runs/<id>/references/) and report A_t / max(A_v, A_b)',
  ),
  splitFile: option(z.string().nullable(), null, 'replay the split saved by `ssl data split --save` (indices into the training set)', '<file>'),
  seed: option(nonNegativeInt, 0, 'seed for split, sampling order, augmentation and initialisation'),
} as const;

/** Model options. */
export const modelOptions = {
  net: option(z.enum(NET_NAMES), 'wrn-28-2', `backbone: ${NET_NAMES.join(', ')} (wrn-28-2 as FixMatch/DASO; cnn-small for fast runs)`, '<name>'),
  head: option(
    z.enum(['auto', ...HEAD_NAMES]),
    'auto',
    'classifier head: auto (cosine for --loss ldam, else linear) | linear | cosine (normed, LDAM) | tde (De-confound-TDE causal norm, confounder removed at test)',
    '<name>',
  ),
  tdeAlpha: option(z.number().nonnegative(), 1, 'De-confound-TDE: strength α of the test-time confounder removal (KaihuaTang CIFAR-10: 1.0; CIFAR-100: 1.5)'),
} as const;

/** Where and how the run executes. */
export const runtimeOptions = {
  backend: option(z.enum(BACKEND_CHOICES), 'auto', `tfjs backend: ${BACKEND_CHOICES.join(', ')}; auto picks the fastest installed (tensorflow > torch > wasm > cpu) and prints which`, '<name>'),
  precision: option(
    z.enum(PRECISION_CHOICES),
    'fp32',
    'convolution arithmetic on the torch backend: fp32 | bf16 (oneDNN bf16 kernels, fp32 weights, batch norm and loss; only on CPUs with avx512_bf16 or amx_bf16) | auto (bf16 where the CPU has it)',
    '<mode>',
  ),
  threads: option(nonNegativeInt, 0, 'compute threads for the torch backend (0 = number of cores)'),
  workers: option(nonNegativeInt, 1, 'augmentation worker threads (0 = in the main thread)'),
  prefetch: option(positiveInt, 3, 'batches prepared ahead of the trainer (bounded queue)'),
  outDir: option(z.string(), 'runs', 'parent folder of run directories', '<dir>'),
  runId: option(z.string().regex(/^[A-Za-z0-9._-]+$/).nullable(), null, 'run directory name (default: <method>-<dataset>-s<seed>-<timestamp>)', '<id>'),
} as const;
