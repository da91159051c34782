// `mlp component run`: the container entry point. Reads a KFP ExecutorInput (a file or inline JSON), runs
// the named component and writes the ExecutorOutput to the outputFile the input names.

import * as fs from 'fs';
import type { Command } from 'commander';
import { getComponent } from '../../core/component';
import { launchComponent, parseExecutorInput } from '../../core/launcher';
import { UserError } from '../../core/errors';
import { loadComponentModules } from '../../runner/component-modules';

export function registerComponentCommand(program: Command): void {
  const component = program.command('component').description('run pipeline components directly (what a container step does)');
  component
    .command('run')
    .description('run one component from a KFP v2 ExecutorInput')
    .argument('<name>', 'component name, e.g. ProduceNumbers')
    .requiredOption('--executor-input <file-or-json>', 'ExecutorInput as a JSON file path or inline JSON')
    .option('--module <file...>', 'modules to load first (where user-defined components live)')
    .option('--json', 'print the ExecutorOutput on stdout')
    .action(async (name: string, flags: { executorInput: string; module?: string[]; json?: boolean }) => {
      loadComponentModules(name, flags.module ?? []);
      const raw = flags.executorInput.trimStart().startsWith('{') ? flags.executorInput : readInputFile(flags.executorInput);
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (err) {
        throw new UserError(`--executor-input is not valid JSON: ${(err as Error).message}`);
      }
      const where = raw === flags.executorInput ? '--executor-input' : flags.executorInput;
      const output = await launchComponent(getComponent(name), parseExecutorInput(json, where));
      if (flags.json) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    });
  component.exitOverride();
}

function readInputFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read --executor-input file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
