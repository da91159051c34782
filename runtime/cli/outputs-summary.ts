// What a finished run produced, for people: anomalies per split, the evaluation's metrics per slice and its
// blessing, where the model was pushed and how to serve it, and where the report, predictions, artifacts and
// metadata are. Read from the outputs' own files (local roots; remote ones are listed by URI only).

import * as fs from 'fs';
import * as path from 'path';
import { redactUrl } from '../core/redact-url';
import { readEvaluation, EVALUATION_FILE } from '../evaluation';
import type { RunSummary } from '../runner/run-types';
import { localPathOf } from '../storage';
import { ANOMALIES_FILE } from '../tfdv/artifact-files';

function readJsonIfLocal(uri: string | undefined, file: string): unknown {
  const dir = uri && localPathOf(uri);
  if (!dir || !fs.existsSync(path.join(dir, file))) return undefined;
  return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
}

function anomalyLines(uri: string): string[] {
  const dir = localPathOf(uri);
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((d) => d.startsWith('Split-') && fs.existsSync(path.join(dir, d, ANOMALIES_FILE)))
    .map((d) => {
      const info = (JSON.parse(fs.readFileSync(path.join(dir, d, ANOMALIES_FILE), 'utf8')) as { anomalyInfo?: Record<string, { shortDescription?: string }> }).anomalyInfo ?? {};
      const n = Object.keys(info).length;
      return `  anomalies in ${d.slice(6)}: ${n === 0 ? 'none' : Object.entries(info).map(([f, a]) => `${f} (${a.shortDescription ?? 'anomaly'})`).join(', ')}`;
    });
}

const HEADLINE = ['accuracy', 'auc', 'log_loss', 'rmse', 'mae', 'r2', 'example_count'];

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

export function outputsSummary(summary: RunSummary, metadata: string): string {
  const lines: string[] = [];
  for (const node of summary.nodes) {
    if (node.state !== 'executed' && node.state !== 'cached') continue;
    const out = node.outputs;
    switch (node.component) {
      case 'ExampleValidator':
        lines.push(...anomalyLines(out.anomalies));
        break;
      case 'DataReport':
        lines.push(`  data report: ${localPathOf(out.report) ? path.join(localPathOf(out.report)!, 'index.html') : out.report}`);
        break;
      case 'Evaluator': {
        const raw = readJsonIfLocal(out.evaluation, EVALUATION_FILE);
        if (!raw) break;
        const e = readEvaluation(raw, out.evaluation);
        const names = HEADLINE.filter((m) => e.slices[0] && m in e.slices[0].metrics);
        lines.push(`  evaluation (${node.id}):`, `    ${'slice'.padEnd(24)} ${names.map((n) => n.padStart(13)).join(' ')}`);
        for (const s of e.slices) lines.push(`    ${s.slice.padEnd(24)} ${names.map((n) => fmt(s.metrics[n]).padStart(13)).join(' ')}`);
        lines.push(`  blessing: ${e.validation.blessed ? 'BLESSED' : 'NOT_BLESSED'}${e.validation.failures.length ? ` (${e.validation.failures.join('; ')})` : ''}${e.baseline_model ? ` vs baseline ${e.baseline_model.uri}` : ''}`);
        break;
      }
      case 'Trainer':
        lines.push(`  model: ${out.model}`);
        break;
      case 'Pusher': {
        const pushed = readJsonIfLocal(out.pushed_model, 'pushed.json') as { pushed: boolean; destination?: string; version?: number; reasons?: string[] } | undefined;
        if (!pushed) break;
        if (!pushed.pushed) {
          lines.push(`  not pushed: ${pushed.reasons?.join('; ')}`);
          break;
        }
        const base = path.posix.dirname(pushed.destination!);
        lines.push(`  pushed version ${pushed.version} to ${pushed.destination}`, `  serve it: npx mlp serve --model-base-path ${base} --model-name ${path.posix.basename(base)}`);
        break;
      }
      case 'BulkInferrer':
        lines.push(`  batch predictions: ${out.inference_result}`);
        break;
    }
  }
  lines.push(`  artifacts: ${summary.root}`, `  metadata: ${redactUrl(metadata)}`, `  logs: ${summary.logDir}`);
  return `${lines.join('\n')}\n`;
}
