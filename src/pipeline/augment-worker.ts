/**
 * Worker-thread entry of the augmentation pool. It receives the training images once (a
 * SharedArrayBuffer in `workerData`), then answers `AugmentTask` messages with the augmented
 * bytes, transferring the result buffer back (no copy).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runAugmentTask, type AugmentTask } from './augment-task.js';
import type { ImageDims } from '../augment/image.js';

/** What the pool passes as `workerData`. */
export interface AugmentWorkerData {
  readonly images: SharedArrayBuffer;
  readonly dims: ImageDims;
}

/** A request: a task with an id for matching the reply. */
export interface AugmentRequest {
  readonly id: number;
  readonly task: AugmentTask;
}

/** A reply: the bytes, or an error message. */
export type AugmentReply =
  | { readonly id: number; readonly ok: true; readonly data: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly error: string };

if (parentPort !== null) {
  const port = parentPort;
  const { images, dims } = workerData as AugmentWorkerData;
  const view = new Uint8Array(images);
  port.on('message', (req: AugmentRequest) => {
    let reply: AugmentReply;
    try {
      reply = { id: req.id, ok: true, data: runAugmentTask(view, dims, req.task) };
    } catch (e) {
      reply = { id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    port.postMessage(reply, reply.ok ? [reply.data.buffer as ArrayBuffer] : []);
  });
}
