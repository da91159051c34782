// `mlp pipelines`: the bundled pipelines `mlp run <name>` knows, a line each with its parameters; with a
// name, that pipeline's parameters with type, default and description.

import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import type { ParameterField } from '../../reference/parameter-fields';

interface PipelinesFlags {
  json?: boolean;
}

export function registerPipelinesCommand(program: Command): void {
  program
    .command('pipelines')
    .description('list the bundled pipelines (mlp run <name>) with their parameters (--param k=v)')
    .argument('[name]', "a bundled pipeline: print its parameters' types, defaults and descriptions")
    .option('--json', 'print the pipelines (name, description, parameters) as JSON')
    .action(async (name: string | undefined, flags: PipelinesFlags) => {
      // Loaded here: describing the pipelines loads every bundled pipeline and its components.
      const { describeBundledPipelines } = await import('../../reference/pipeline-reference');
      const { fieldsText } = await import('../../reference/render-text');
      const { table } = await import('../format');
      const all = describeBundledPipelines();
      const chosen = name === undefined ? all : all.filter((p) => p.name === name);
      if (chosen.length === 0) throw new UserError(`no bundled pipeline "${name}"; bundled pipelines: ${all.map((p) => p.name).join(', ')}`);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(name === undefined ? chosen : chosen[0], null, 2)}\n`);
      } else if (name === undefined) {
        process.stdout.write(table(['PIPELINE', 'PARAMETERS', 'DESCRIPTION'], chosen.map((p) => [p.name, parameterLine(p.parameters), p.description])));
      } else {
        process.stdout.write(`${chosen[0].name}\n${chosen[0].description}\n\nParameters (mlp run ${chosen[0].name} --param k=v)\n${fieldsText(chosen[0].parameters)}`);
      }
    });
}

/** `count=1000 factor=3 input_base (required)`: the top-level parameters as --param would set them. */
function parameterLine(fields: ParameterField[]): string {
  const top = fields.filter((f) => !/[.[]/.test(f.path));
  if (top.length === 0) return '-';
  return top
    .map((f) => {
      if ('default' in f) return `${f.path}=${typeof f.default === 'string' ? f.default : JSON.stringify(f.default)}`;
      return `${f.path} (${f.defaultError !== undefined ? 'default not available here' : f.required ? 'required' : 'optional'})`;
    })
    .join(' ');
}
