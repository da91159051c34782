// `mlp run`: runs a bundled pipeline or a pipeline module on the embedded local runner.

import type { Command } from 'commander';
import { DEFAULT_ROOT, metadataAddress, parseParam } from '../options';
import { UserError } from '../../core/errors';
import { BUNDLED_PIPELINES } from '../../../pipelines';

interface RunFlags {
  root: string;
  metadata?: string;
  param: Record<string, string>;
  cache: boolean;
  explain?: boolean;
  json?: boolean;
  parallelism?: string;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a pipeline on the embedded local runner (SQLite metadata and local files by default)')
    .argument('<pipeline>', `a bundled pipeline (${Object.keys(BUNDLED_PIPELINES).join(', ')}; see mlp pipelines) or a module file exporting a Pipeline`)
    .option('--root <dir>', 'pipeline root: local folder or gs:// prefix for outputs', DEFAULT_ROOT)
    .option('--metadata <address>', 'metadata store: sqlite:PATH or postgres://... (default: sqlite:<root>/metadata.sqlite)')
    .option('--param <key=value>', 'set a pipeline parameter (repeatable; the value is read as the parameter\'s type: text for a string, JSON otherwise)', parseParam, {})
    .option('--no-cache', 'execute every node even when a cached result exists')
    .option('--explain', 'print for each node why it ran or was reused')
    .option('--json', 'print a machine-readable run summary on stdout')
    .option('--parallelism <n>', 'nodes running at once (default: number of CPUs)')
    .action(async (ref: string, flags: RunFlags) => {
      // Loaded here, not at the top: every `mlp` command (and --help) would otherwise pay for the runner.
      const { loadPipeline } = await import('../../../pipelines');
      const { outputsSummary } = await import('../outputs-summary');
      const { openMetadataStore } = await import('../../metadata');
      const { runPipeline } = await import('../../runner/local-runner');
      const { ProgressReporter } = await import('../../runner/progress');
      const { declaredParameterTypes, parameterValuesFromText } = await import('../parameter-text');
      // Pipelines may default their own outputs (e.g. a serving folder) to places under the root.
      process.env.MLP_ROOT = flags.root;
      const { pipeline, module } = loadPipeline(ref);
      const parallelism = flags.parallelism === undefined ? undefined : Number(flags.parallelism);
      if (parallelism !== undefined && (!Number.isInteger(parallelism) || parallelism < 1)) {
        throw new UserError(`--parallelism must be a whole number ≥ 1, got ${flags.parallelism}`);
      }
      const store = await openMetadataStore(metadataAddress(flags));
      try {
        const reporter = new ProgressReporter({
          out: process.stderr,
          explain: !!flags.explain,
          live: !!process.stderr.isTTY && !flags.json,
        });
        const summary = await runPipeline(pipeline, {
          root: flags.root,
          store,
          parameters: parameterValuesFromText(flags.param, declaredParameterTypes(pipeline.parameterSchema)),
          noCache: !flags.cache,
          parallelism,
          modules: [module],
          reporter,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(outputsSummary(summary, metadataAddress(flags)));
        if (summary.state !== 'COMPLETE') process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
