// Loads the module that defines a component before it runs: only its own module for a bundled component,
// else the user's modules (a pipeline module registers its components on import). TypeScript modules load
// through sucrase's require hook.

import * as path from 'path';
import { UserError } from '../core/errors';
import { syntaxErrorOf } from '../core/syntax-error';
import { BUNDLED_COMPONENT_MODULES, loadBundledComponent } from '../components/catalog';

let tsRegistered = false;

export function ensureTypeScriptLoader(): void {
  if (tsRegistered || process.execArgv.some((a) => a.includes('sucrase'))) return;
  // Already running from TypeScript (tests, dev checkout): nothing to register.
  if (__filename.endsWith('.ts')) return;
  require('sucrase/register/ts');
  tsRegistered = true;
}

/** Makes `component` resolvable with getComponent: its bundled module, or else every module given. */
export function loadComponentModules(component: string, modules: string[]): void {
  if (loadBundledComponent(component)) return;
  if (modules.length === 0) {
    const bundled = Object.keys(BUNDLED_COMPONENT_MODULES).sort().join(', ');
    throw new UserError(`unknown component "${component}": not a bundled component (${bundled}) and no --module defines it`);
  }
  for (const m of modules) {
    const abs = path.resolve(m);
    if (/\.[cm]?tsx?$/.test(abs)) ensureTypeScriptLoader();
    try {
      require(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'MODULE_NOT_FOUND' && (err as Error).message.includes(abs)) throw new UserError(`module ${m} not found`);
      throw syntaxErrorOf(err) ?? err;
    }
  }
}
