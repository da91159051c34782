// `mlp vertex-custom-job --project P --location L --executor-input {{$}} --payload JSON -- COMMAND...`: the step a
// distributed container component compiles to on Vertex AI Pipelines (compilers/kfp.ts): creates the step's
// CustomJob, waits for it (SIGTERM cancels it) and publishes rank 0's outputs (runner/vertex-custom-job-launcher.ts).

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { parseExecutorInput } from '../../core/launcher';
import type { CustomJobClient } from '../../runner/vertex-custom-job-launcher';

interface Flags {
  project: string;
  location: string;
  executorInput: string;
  payload: string;
}

function inlineJson(flag: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new UserError(`${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The JobService of the job's region; tests pass a fake. @default @google-cloud/aiplatform's, loaded when the command runs */
type JobServiceFor = (location: string) => Promise<CustomJobClient>;
const aiplatform: JobServiceFor = async (location) => (await import('../../runner/vertex-custom-job-launcher')).aiplatformJobs(location);

export function registerVertexCustomJobCommand(program: Command, jobService: JobServiceFor = aiplatform): void {
  program
    .command('vertex-custom-job')
    .description("run a distributed step as a Vertex AI CustomJob and publish rank 0's outputs (the step `mlp compile --target kfp` writes)")
    .argument('<command...>', "the component's command line as KFP resolved it (after --)")
    .requiredOption('--project <id>', "the pipeline job's project")
    .requiredOption('--location <region>', "the pipeline job's region")
    .requiredOption('--executor-input <json>', "the step's ExecutorInput (inline JSON, KFP's {{$}})")
    .requiredOption('--payload <json>', 'the CustomJob request body without the command line')
    .action(async (commandLine: string[], flags: Flags) => {
      const executorInput = parseExecutorInput(inlineJson('--executor-input', flags.executorInput), '--executor-input');
      const payload = inlineJson('--payload', flags.payload);
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new UserError('--payload must be a JSON object (a CustomJob)');
      const { runCustomJobStep } = await import('../../runner/vertex-custom-job-launcher');
      const stop = new AbortController();
      const onTerm = () => stop.abort();
      process.once('SIGTERM', onTerm);
      try {
        await runCustomJobStep({ project: flags.project, location: flags.location, executorInput, payload: payload as Record<string, unknown>, commandLine, client: await jobService(flags.location), signal: stop.signal });
      } finally {
        process.off('SIGTERM', onTerm);
      }
    });
}
