// Reads the compiled pipelines a deploy passes to the workloads stacks: a directory with `argo/<pipeline>.json`
// (WorkflowTemplates), `kfp/<pipeline>.json` (PipelineSpecs) and `airflow/<pipeline>.py` (DAG files), as written by
// `mlp compile <pipeline> --target argo|kfp|airflow --out ...` (cloudbuild/deploy.yaml does this before synth).
import * as fs from 'fs';
import * as path from 'path';
import { CompiledPipelines } from '../constructs/pipeline-orchestrator';
import { parseArgoWorkflowTemplate } from '../constructs/argo-workflows';
import { parseKfpPipelineSpec } from '../constructs/vertex-pipelines';

/** A compiled pipelines directory that cannot be used; the message names the file and the fix. */
export class CompiledPipelinesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompiledPipelinesError';
  }
}

function files(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f));
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CompiledPipelinesError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Loads `<dir>/{argo,kfp,airflow}`; a missing subdirectory is an empty list, a missing `dir` an error. */
export function loadCompiledPipelines(dir: string): CompiledPipelines {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new CompiledPipelinesError(`compiled pipelines directory ${dir} does not exist; run \`mlp compile <pipeline> --target <t> --out ${dir}/<t>/<pipeline>.<json|py>\` first or unset MLP_COMPILED_PIPELINES.`);
  }
  try {
    return {
      argo: files(path.join(dir, 'argo'), '.json').map((f) => parseArgoWorkflowTemplate(readJson(f), f)),
      kfp: files(path.join(dir, 'kfp'), '.json').map((f) => parseKfpPipelineSpec(readJson(f), f)),
      airflow: files(path.join(dir, 'airflow'), '.py').map((f) => ({ fileName: path.basename(f), source: fs.readFileSync(f, 'utf8') })),
    };
  } catch (e) {
    throw e instanceof CompiledPipelinesError ? e : new CompiledPipelinesError((e as Error).message);
  }
}
