// The training loop of the bundled trainer: epochs over the streaming input pipeline with trainOnBatch,
// evaluation after each epoch, a checkpoint every N steps and at every epoch end, resume from the newest
// checkpoint (skipping exactly the batches already trained on), early stopping on the eval metric, a JSON
// record per epoch and a progress bar on a TTY.

import * as tf from '@tensorflow/tfjs';
import { textBar } from '../runner/progress';
import { restoreCheckpoint, saveCheckpoint } from './checkpoints';
import type { Batch, InputPipeline } from './input-pipeline';
import { toTensors } from './model-inputs';
import type { Signature } from './signature';

export interface EpochRecord {
  epoch: number;
  /** Global step at the end of the epoch. */
  step: number;
  loss: number;
  val_loss?: number;
  val_accuracy?: number;
  val_rmse?: number;
  examples_per_second: number;
}

export interface EarlyStopping {
  /** Metric of the epoch record to watch, e.g. val_loss (lower is better) or val_accuracy (higher). */
  metric: 'val_loss' | 'val_accuracy' | 'val_rmse';
  patience: number;
  /** @default 0 */
  minDelta?: number;
}

export interface TrainLoopOptions {
  model: tf.LayersModel;
  signature: Signature;
  train: InputPipeline;
  eval?: InputPipeline;
  epochs: number;
  stepsPerEpoch: number;
  /** Checkpoint folder or gs:// prefix; none means no checkpoints and no resume. */
  checkpointUri?: string;
  /** @default stepsPerEpoch - a checkpoint per epoch */
  checkpointEverySteps?: number;
  earlyStopping?: EarlyStopping;
  /** Called after each epoch's evaluation; returning 'stop' ends training there (a tuner stopping a poor trial). */
  onEpoch?: (record: EpochRecord) => 'continue' | 'stop' | void | Promise<'continue' | 'stop' | void>;
  log?: (line: string) => void;
  /** Progress bar target (a TTY), redrawn in place. */
  bar?: NodeJS.WriteStream;
}

export interface TrainLoopResult {
  steps: number;
  plannedSteps: number;
  epochs: number;
  resumedFromStep: number;
  stoppedEarly: boolean;
  history: EpochRecord[];
}

interface LoopState {
  epoch: number;
  stepInEpoch: number;
  history: EpochRecord[];
  best?: number;
  badEpochs: number;
  stopped: boolean;
  /** Loss summed over the current epoch's batches so far, to report the epoch mean after a resume. */
  lossSum: number;
}

const HIGHER_IS_BETTER = new Set(['val_accuracy']);

const BAR_EVERY = 10;

/**
 * One optimizer step on a batch, as fit() does internally (minimize over the compiled loss, dropout on),
 * without trainOnBatch's per-call input standardization and loss read-back. Returns the mean loss.
 */
export function trainStep(model: tf.LayersModel, xs: tf.Tensor[], y: tf.Tensor): tf.Scalar {
  const loss = model.lossFunctions[0];
  return model.optimizer.minimize(() => tf.mean(loss(y, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
}

/** Targets as float32 [n, 1]: tfjs's sparse categorical cross-entropy floors float class ids itself. */
export function labelTensor(batch: Batch): tf.Tensor {
  return tf.tensor2d(batch.labels, [batch.size, 1], 'float32');
}

/** Loss and accuracy (or RMSE) of the model over the eval pipeline's batches. */
export async function evaluate(model: tf.LayersModel, signature: Signature, data: InputPipeline): Promise<Pick<EpochRecord, 'val_loss' | 'val_accuracy' | 'val_rmse'>> {
  let n = 0;
  let loss = 0;
  let correct = 0;
  const eps = 1e-7;
  const it = data.epoch(0);
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const b = r.value;
    const scores = tf.tidy(() => (model.predict(toTensors(signature.modelInputs, b.inputs, b.size)) as tf.Tensor).dataSync());
    const k = scores.length / b.size;
    for (let i = 0; i < b.size; i++) {
      const y = b.labels[i];
      if (signature.task === 'regression') {
        loss += (scores[i] - y) ** 2;
      } else if (signature.task === 'binary') {
        const p = Math.min(1 - eps, Math.max(eps, scores[i]));
        loss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
        if ((p >= 0.5 ? 1 : 0) === y) correct++;
      } else {
        let best = 0;
        for (let c = 1; c < k; c++) if (scores[i * k + c] > scores[i * k + best]) best = c;
        loss -= Math.log(Math.max(eps, scores[i * k + y]));
        if (best === y) correct++;
      }
    }
    n += b.size;
  }
  if (n === 0) return {};
  if (signature.task === 'regression') return { val_loss: loss / n, val_rmse: Math.sqrt(loss / n) };
  return { val_loss: loss / n, val_accuracy: correct / n };
}

export async function trainLoop(opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, signature, stepsPerEpoch, epochs } = opts;
  const log = opts.log ?? (() => undefined);
  const plannedSteps = epochs * stepsPerEpoch;
  const every = opts.checkpointEverySteps ?? stepsPerEpoch;
  let state: LoopState = { epoch: 0, stepInEpoch: 0, history: [], badEpochs: 0, stopped: false, lossSum: 0 };
  let step = 0;
  let resumedFromStep = 0;
  if (opts.checkpointUri) {
    const restored = await restoreCheckpoint<LoopState>(opts.checkpointUri, model);
    if (restored) {
      ({ step, state } = restored);
      resumedFromStep = step;
      log(`resumed from checkpoint at step ${step} (epoch ${state.epoch + 1}, batch ${state.stepInEpoch})`);
    }
  }
  const checkpoint = async () => {
    if (opts.checkpointUri) await saveCheckpoint(opts.checkpointUri, step, model, state);
  };

  while (state.epoch < epochs && !state.stopped) {
    const started = Date.now();
    let examples = 0;
    const it = opts.train.epoch(state.epoch, state.stepInEpoch);
    let lossSum: tf.Scalar = tf.scalar(state.lossSum);
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const b = r.value;
      const xs = toTensors(signature.modelInputs, b.inputs, b.size);
      const y = labelTensor(b);
      const cost = trainStep(model, xs, y);
      tf.dispose([...xs, y]);
      const summed = tf.add(lossSum, cost) as tf.Scalar;
      tf.dispose([lossSum, cost]);
      lossSum = summed;
      step++;
      state.stepInEpoch++;
      examples += b.size;
      // Reading a value back waits for the device; done only when something needs it (bar, checkpoint).
      if (opts.bar && (state.stepInEpoch % BAR_EVERY === 0 || state.stepInEpoch === stepsPerEpoch)) {
        const rate = examples / Math.max(0.001, (Date.now() - started) / 1000);
        const mean = lossSum.dataSync()[0] / state.stepInEpoch;
        opts.bar.write(`\r\x1b[2K${textBar(step / plannedSteps)} step ${step}/${plannedSteps} epoch ${state.epoch + 1}/${epochs} loss ${mean.toFixed(4)} ${Math.round(rate)} ex/s`);
      }
      if (step % every === 0 && state.stepInEpoch < stepsPerEpoch) {
        state.lossSum = lossSum.dataSync()[0];
        await checkpoint();
      }
    }
    state.lossSum = lossSum.dataSync()[0];
    lossSum.dispose();
    const seconds = (Date.now() - started) / 1000;
    const record: EpochRecord = {
      epoch: state.epoch + 1,
      step,
      loss: state.lossSum / Math.max(1, state.stepInEpoch),
      ...(opts.eval ? await evaluate(model, signature, opts.eval) : {}),
      examples_per_second: examples / Math.max(seconds, 1e-3),
    };
    state.history.push(record);
    if ((await opts.onEpoch?.(record)) === 'stop') {
      state.stopped = true;
      log(`stopped after epoch ${record.epoch} by the caller`);
    }
    log(`epoch ${record.epoch}/${epochs}: loss ${record.loss.toFixed(4)}${record.val_loss !== undefined ? ` val_loss ${record.val_loss.toFixed(4)}` : ''}${record.val_accuracy !== undefined ? ` val_accuracy ${record.val_accuracy.toFixed(4)}` : ''}`);
    if (opts.earlyStopping) {
      const es = opts.earlyStopping;
      const value = record[es.metric];
      if (value !== undefined) {
        const higher = HIGHER_IS_BETTER.has(es.metric);
        const improved = state.best === undefined || (higher ? value > state.best + (es.minDelta ?? 0) : value < state.best - (es.minDelta ?? 0));
        if (improved) {
          state.best = value;
          state.badEpochs = 0;
        } else if (++state.badEpochs >= es.patience) {
          state.stopped = true;
          log(`early stopping after epoch ${record.epoch}: ${es.metric} did not improve for ${es.patience} epochs (best ${state.best})`);
        }
      }
    }
    state.epoch++;
    state.stepInEpoch = 0;
    state.lossSum = 0;
    await checkpoint();
  }
  if (opts.bar) opts.bar.write('\r\x1b[2K');
  return { steps: step, plannedSteps, epochs: state.history.length, resumedFromStep, stoppedEarly: state.stopped, history: state.history };
}
