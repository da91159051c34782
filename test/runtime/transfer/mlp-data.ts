// Test-only entry: `mlp data ...` as its own process until runtime/cli/main.ts registers the command.
// Usage: node -r sucrase/register/ts test/runtime/transfer/mlp-data.ts data upload ...

import { Command, CommanderError } from 'commander';
import { UserError } from '../../../runtime/core/errors';
import { registerDataCommand } from '../../../runtime/cli/commands/data';

const program = new Command('mlp').exitOverride();
registerDataCommand(program);
for (const c of program.commands) c.exitOverride();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else if (err instanceof UserError) {
    process.stderr.write(`mlp: error: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else throw err;
});
