// `mlp component result`: the read-back step after a distributed container step on Argo
// (runtime/compilers/argo-jobset.ts). A resource template's output parameters can only read the resource it
// created, so rank 0's `mlp component run --executor-output-uri URI` creates the step's ExecutorOutput under the
// pipeline root (one URI per attempt, the JobSet's name), and this command prints it (and with --out writes it where
// Argo reads the step's `executor-output` output parameter).

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/launcher';
import { storageFor } from '../../storage';

/** Rank 0's side: creates the ExecutorOutput at uri, only if nothing is there (a second, different one is refused). */
export async function writeExecutorOutput(uri: string, json: string): Promise<void> {
  await storageFor(uri).createFile(uri, json);
}

export function registerResultCommand(component: Command): void {
  component
    .command('result')
    .description("print a step's ExecutorOutput that `mlp component run --executor-output-uri` created (the read-back step after a distributed step on Argo)")
    .requiredOption('--from <uri>', 'the ExecutorOutput object (gs:// or a local path)')
    .option('--out <file>', 'also write it to this file (the output parameter Argo reads)')
    .action(async (flags: { from: string; out?: string }) => {
      const storage = storageFor(flags.from);
      if (!(await storage.exists(flags.from))) throw new UserError(`no ExecutorOutput at ${flags.from}: the step did not write it (did rank 0 finish?)`);
      const text = (await storage.readFile(flags.from)).toString('utf8');
      try {
        JSON.parse(text);
      } catch (err) {
        throw new UserError(`${flags.from} is not an ExecutorOutput (invalid JSON: ${(err as Error).message})`);
      }
      if (flags.out) await writeFileAtomic(flags.out, text);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}
