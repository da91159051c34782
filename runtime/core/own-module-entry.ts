// How the runtime starts one of its own modules in a child process or worker thread: in a source checkout the
// module is TypeScript, loaded through the runtime's sucrase hook (register-ts.js, by its path in this
// package, not resolved from the working directory, since `mlp` may run anywhere); in the compiled tree it
// is the .js file next to the caller.

import * as path from 'path';

const FROM_SOURCE = __filename.endsWith('.ts');
const SUCRASE_HOOK = FROM_SOURCE ? require.resolve('./register-ts') : undefined;

export interface OwnModuleEntry {
  file: string;
  /** Node flags for a forked process (the hook as a preload). */
  execArgv: string[];
  /** The hook to require first in an eval'd worker thread, if any. */
  preload?: string;
}

/** The entry of module `name` (without extension) in folder `dir`. */
export function ownModuleEntry(dir: string, name: string): OwnModuleEntry {
  const file = path.join(dir, `${name}${FROM_SOURCE ? '.ts' : '.js'}`);
  return { file, execArgv: SUCRASE_HOOK ? ['-r', SUCRASE_HOOK] : [], preload: SUCRASE_HOOK };
}
