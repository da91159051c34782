// Loads the modules that define components: the bundled ones always, plus user pipeline modules whose
// components register themselves on import. TypeScript modules load through sucrase/register/ts.

import * as path from 'path';
import { UserError } from '../core/errors';

let tsRegistered = false;

export function ensureTypeScriptLoader(): void {
  if (tsRegistered || process.execArgv.some((a) => a.includes('sucrase'))) return;
  // Already running from TypeScript (tests, dev checkout): nothing to register.
  if (__filename.endsWith('.ts')) return;
  require('sucrase/register/ts');
  tsRegistered = true;
}

export function loadComponentModules(modules: string[]): void {
  require('../components');
  for (const m of modules) {
    const abs = path.resolve(m);
    if (/\.[cm]?tsx?$/.test(abs)) ensureTypeScriptLoader();
    try {
      require(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'MODULE_NOT_FOUND' && (err as Error).message.includes(abs)) throw new UserError(`module ${m} not found`);
      throw err;
    }
  }
}
