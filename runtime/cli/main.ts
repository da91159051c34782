// The `mlp` command line: run pipelines on the embedded local runner, inspect runs, artifacts and lineage in
// the metadata store, run one component from a KFP ExecutorInput (the container entry point), summarize
// statistics, upload data to / plan transfers into Cloud Storage, and compile pipelines for Argo Workflows,
// Vertex AI Pipelines (KFP v2) and Cloud Composer.
// Errors the user can fix print as one line and exit non-zero; --verbose adds the stack.

import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors';
import { RUNTIME_VERSION } from '../core/version';
import { registerRunCommand } from './commands/run';
import { registerInspectCommands } from './commands/inspect';
import { registerComponentCommand } from './commands/component';
import { registerStatsCommand } from './commands/stats';
import { registerDataCommand } from './commands/data';
import { registerCompileCommand } from './commands/compile';
import { registerSubmitCommand } from './commands/submit';
import { registerVertexCustomJobCommand } from './commands/vertex-custom-job';
import { registerServeCommand } from './commands/serve';
import { registerMonitorCommand } from './commands/monitor';
import { registerPredictCommand } from './commands/predict';
import { registerUiCommand } from './commands/ui';
import { registerPipelinesCommand } from './commands/pipelines';
import { registerInitCommand } from './commands/init';

export function buildProgram(): Command {
  const program = new Command('mlp')
    .description('gcp-ml-platform: run ML pipelines locally and inspect their metadata')
    .version(RUNTIME_VERSION)
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRunCommand(program);
  registerInspectCommands(program);
  registerComponentCommand(program);
  registerStatsCommand(program);
  registerDataCommand(program);
  registerCompileCommand(program);
  registerSubmitCommand(program);
  registerVertexCustomJobCommand(program);
  registerServeCommand(program);
  registerMonitorCommand(program);
  registerPredictCommand(program);
  registerUiCommand(program);
  registerPipelinesCommand(program);
  registerInitCommand(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode;
      return;
    }
    const verbose = argv.includes('--verbose');
    if (err instanceof UserError) {
      process.stderr.write(`mlp: error: ${err.message}\n`);
      if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`mlp: unexpected error: ${e.message.split('\n')[0]}${verbose ? '' : ' (run with --verbose for the stack)'}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}
