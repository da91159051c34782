// InfraValidator: starts the model server (`mlp serve`, the same loading and prediction code production
// uses) in a separate process with the candidate model, waits for it to report the model AVAILABLE within a
// deadline, sends real examples from a split as :predict requests, and checks every response, the latency and
// the server's memory against budgets. Writes INFRA_BLESSED or INFRA_NOT_BLESSED with the reasons.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { defineComponent } from '../../core/component';
import { Examples, InfraBlessing, Model } from '../../core/artifact-types';
import { duckdb, jsonSafe, sqlIdent, sqlStringList, splitParquetFiles } from '../../data/duckdb';
import { isOnnxModelDir, onnxSignature } from '../../ml/onnx-model';
import { checkSignature, SIGNATURE_FILE } from '../../ml/signature';
import { readJson } from '../../tfdv/artifact-files';
import { probeServer, startServerProcess } from './server-process';

export const INFRA_REPORT_FILE = 'infra_validation.json';

/** The first `n` examples of the split as request instances, numbers as JSON numbers (as a client sends them). */
async function sampleRequests(columns: string[], files: string[], n: number): Promise<Record<string, unknown>[]> {
  const conn = await duckdb();
  try {
    const rows = (await conn.runAndReadAll(`SELECT ${columns.map(sqlIdent).join(', ')} FROM read_parquet(${sqlStringList(files)}) LIMIT ${n}`)).getRowObjectsJS();
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, jsonSafe(v)])));
  } finally {
    conn.closeSync();
  }
}

export const InfraValidator = defineComponent({
  name: 'InfraValidator',
  version: '1',
  description: 'Serves the candidate model in a separate model-server process and checks real requests against budgets.',
  inputs: { model: { type: Model }, examples: { type: Examples } },
  outputs: { blessing: { type: InfraBlessing } },
  parameters: z.object({
    split: z.string().min(1).default('eval').describe('Split the request examples come from'),
    num_examples: z.number().int().min(1).max(10000).default(20).describe('Requests sent (one example each)'),
    deadline_seconds: z.number().positive().default(60).describe('Time allowed for the server to start and load the model'),
    max_latency_ms: z.number().positive().default(1000).describe('Budget for the 99th percentile request latency'),
    max_memory_mb: z.number().positive().default(2048).describe("Budget for the server process's resident memory"),
  }),
  executor: async ({ inputs, outputs, parameters, log }) => {
    const model = inputs.model[0];
    // The server's temporary copy of the model is gone afterwards: messages name the artifact instead.
    const base = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-infra-'));
    const failures: string[] = [];
    let report: Record<string, unknown> = {};
    try {
      const signatureFile = path.join(model.path, SIGNATURE_FILE);
      const signature = (await isOnnxModelDir(model.path)) ? await onnxSignature(model.path) : checkSignature(await readJson(signatureFile, 'model signature'), signatureFile);
      const rows = await sampleRequests(signature.inputs.map((i) => i.name), splitParquetFiles(inputs.examples[0].path, parameters.split), parameters.num_examples);
      // The server watches a model base path: the candidate becomes its version 1.
      await fs.promises.cp(model.path, path.join(base, '1'), { recursive: true });
      const server = await startServerProcess({ basePath: base, modelName: 'candidate', deadlineMs: parameters.deadline_seconds * 1000, log });
      try {
        const probe = await probeServer(server, 'candidate', rows, signature);
        failures.push(...probe.failures);
        if (probe.p99LatencyMs > parameters.max_latency_ms) failures.push(`p99 latency ${probe.p99LatencyMs.toFixed(1)} ms exceeds the budget of ${parameters.max_latency_ms} ms`);
        if (probe.rssMb > parameters.max_memory_mb) failures.push(`server memory ${probe.rssMb.toFixed(0)} MB exceeds the budget of ${parameters.max_memory_mb} MB`);
        report = { requests: rows.length, load_ms: server.loadMs, p50_latency_ms: probe.p50LatencyMs, p99_latency_ms: probe.p99LatencyMs, rss_mb: probe.rssMb };
      } finally {
        await server.stop();
      }
    } catch (err) {
      failures.push((err as Error).message.split('\n')[0].split(path.join(base, '1')).join(model.uri));
    } finally {
      await fs.promises.rm(base, { recursive: true, force: true });
    }
    const blessed = failures.length === 0;
    await fs.promises.writeFile(path.join(outputs.blessing.path, blessed ? 'INFRA_BLESSED' : 'INFRA_NOT_BLESSED'), '');
    await fs.promises.writeFile(path.join(outputs.blessing.path, INFRA_REPORT_FILE), JSON.stringify({ blessed, failures, ...report }, null, 2));
    outputs.blessing.properties = { blessed: blessed ? 1 : 0 };
    log(blessed ? `infra blessed: ${JSON.stringify(report)}` : `not infra blessed: ${failures.join('; ')}`);
  },
});
