// `mlp init <dir>`: scaffolds a pipeline project (runtime/cli/pipeline-project.ts) in a new or empty folder.
// The files are written into a temporary sibling folder that is renamed into place last, so a failure leaves
// no half-written project.

import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { defaultRuntimeSpec, projectFiles, projectNameOf } from '../pipeline-project';

interface InitFlags {
  name?: string;
  runtime?: string;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a pipeline project: package.json, tsconfig, a pipeline over a small CSV, a component of its own, a README')
    .argument('<dir>', 'folder to create (or an empty one)')
    .option('--name <name>', 'npm package and pipeline name: lower case letters, digits and dashes (default: from the folder name)')
    .option('--runtime <spec>', `dependency spec of the runtime package in package.json, e.g. a version range or file:<tarball> (default ${defaultRuntimeSpec()})`)
    .action(async (dir: string, flags: InitFlags) => {
      const target = path.resolve(dir);
      const name = flags.name ?? projectNameOf(path.basename(target));
      if (!name || projectNameOf(name) !== name) {
        const given = flags.name === undefined ? `folder name "${path.basename(target)}"` : `--name "${flags.name}"`;
        throw new UserError(`${given}: a project name is lower case letters, digits and dashes, starting with a letter (it names the npm package and the pipeline); pass --name`);
      }
      const existing = await fs.promises.readdir(target).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        if (err.code === 'ENOTDIR') throw new UserError(`${dir} is a file, not a folder`);
        throw err;
      });
      if (existing && existing.length > 0) throw new UserError(`${dir} is not empty (${existing.length} entries): mlp init writes into a new or empty folder`);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      const staging = await fs.promises.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.init-`));
      try {
        for (const [file, text] of Object.entries(projectFiles({ name, runtimeSpec: flags.runtime ?? defaultRuntimeSpec() }))) {
          await fs.promises.mkdir(path.dirname(path.join(staging, file)), { recursive: true });
          await fs.promises.writeFile(path.join(staging, file), text);
        }
        if (existing) await fs.promises.rmdir(target);
        await fs.promises.rename(staging, target);
      } catch (err) {
        await fs.promises.rm(staging, { recursive: true, force: true });
        throw err;
      }
      process.stdout.write(`created ${dir}: a pipeline project (${name})\n  cd ${dir}\n  npm install\n  npx mlp run ./pipeline.ts\n`);
    });
}
