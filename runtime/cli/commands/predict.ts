// `mlp predict --model <bundle | base path | gs://...> --input <file | folder> --output <file.parquet>`: batch
// predictions with the BulkInferrer's code (the serving bundle's own transform and model), CSV / JSON Lines /
// Parquet in, Parquet out (key columns + outputs), a progress bar on a TTY. The output appears only when
// complete (written aside, then renamed).

import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { sqlIdent, sqlStringList, withConnection } from '../../data/duckdb';
import { textBar } from '../../runner/progress';

interface PredictFlags {
  model: string;
  input: string;
  output: string;
  keys?: string;
  json?: boolean;
}

const READERS: Record<string, string> = { '.csv': 'read_csv_auto', '.jsonl': 'read_json_auto', '.json': 'read_json_auto', '.ndjson': 'read_json_auto', '.parquet': 'read_parquet' };

/** The DuckDB table expression over the input file or the data files of an input folder (one format). */
export function inputSource(input: string): string {
  if (!fs.existsSync(input)) throw new UserError(`--input ${input} does not exist`);
  const files = fs.statSync(input).isDirectory()
    ? fs.readdirSync(input).filter((f) => READERS[path.extname(f)]).sort().map((f) => path.join(input, f))
    : [input];
  if (files.length === 0) throw new UserError(`--input ${input} holds no .csv, .jsonl/.json or .parquet files`);
  const kinds = new Set(files.map((f) => READERS[path.extname(f)]));
  if (kinds.has(undefined as unknown as string)) throw new UserError(`--input ${input}: unsupported file type (use .csv, .jsonl/.json or .parquet)`);
  if (kinds.size > 1) throw new UserError(`--input ${input} mixes file formats; give one format`);
  return `${[...kinds][0]}(${sqlStringList(files)})`;
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('batch predictions with a model bundle: CSV / JSON Lines / Parquet in, Parquet out')
    .requiredOption('--model <uri>', 'a model bundle folder, or a model base path (<base>/<version>/: the newest committed version), local or gs://')
    .requiredOption('--input <path>', 'a .csv, .jsonl/.json or .parquet file, or a folder of them')
    .requiredOption('--output <file>', 'Parquet file to write')
    .option('--keys <columns>', "comma-separated columns copied next to the predictions (default: the model's raw input features)")
    .option('--json', 'print a machine-readable summary on stdout')
    .action(async (flags: PredictFlags) => {
      // TensorFlow.js loads only when predicting, so `mlp --help` and other commands stay fast.
      const { selectBackend } = await import('../../ml/backend');
      const { locateModel } = await import('../../ml/model-location');
      const { predictExamples } = await import('../../ml/predict-examples');
      const { loadServingBundle } = await import('../../ml/serving-bundle');
      const { writePredictions } = await import('../../ml/write-predictions');
      const source = inputSource(flags.input);
      const backend = await selectBackend();
      const location = await locateModel(flags.model);
      const started = Date.now();
      try {
        const bundle = await loadServingBundle(location.dir);
        const keys = flags.keys ? flags.keys.split(',').map((k) => k.trim()).filter(Boolean) : bundle.signature.inputs.map((i) => i.name);
        const { columns, n } = await withConnection(async (conn) => ({
          columns: new Set((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => String(r.column_name))),
          n: (await conn.runAndReadAll(`SELECT count(*) AS n FROM ${source}`)).getRowObjectsJson()[0].n,
        }));
        const missing = [...keys, ...bundle.signature.inputs.filter((i) => i.required).map((i) => i.name)].filter((c) => !columns.has(c));
        if (missing.length > 0) throw new UserError(`--input ${flags.input} lacks column(s) ${missing.map((m) => `"${m}"`).join(', ')} (columns: ${[...columns].join(', ')})`);
        // Optional features the input lacks are passed as missing (their transform fill values apply).
        const select = bundle.signature.inputs.map((i) => (columns.has(i.name) ? sqlIdent(i.name) : `NULL AS ${sqlIdent(i.name)}`));
        const extra = keys.filter((k) => !bundle.signature.inputs.some((i) => i.name === k)).map(sqlIdent);
        const projected = `(SELECT ${[...select, ...extra].join(', ')} FROM ${source})`;
        const total = Number(n);
        const bar = process.stderr.isTTY && !flags.json;
        const staging = `${flags.output}.tmp-${process.pid}`;
        const rows = await writePredictions({
          chunks: predictExamples(bundle, projected),
          source: projected,
          keyColumns: keys,
          task: bundle.signature.task,
          file: staging,
          onChunk: (done) => {
            if (bar) process.stderr.write(`\r\x1b[2K${textBar(total ? done / total : 1)} ${done}/${total} rows`);
          },
        }).catch(async (err) => {
          await fs.promises.rm(staging, { force: true });
          throw err;
        });
        if (bar) process.stderr.write('\r\x1b[2K');
        await fs.promises.rename(staging, flags.output);
        const summary = { model: location.uri, backend: backend.name, rows, output: path.resolve(flags.output), seconds: (Date.now() - started) / 1000 };
        if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(`predicted ${rows} rows with ${location.uri} (${backend.name}) in ${summary.seconds.toFixed(1)} s → ${summary.output}\n`);
        bundle.model.dispose();
      } finally {
        await location.cleanup();
      }
    });
}
