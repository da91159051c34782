// Packs a workspace package of this repository (`npm pack -w <folder>`, with its prepack build) into a folder
// and runs commands outside the checkout for the packaging tests.

import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';

const execFileP = promisify(execFile);
export const REPO = path.resolve(__dirname, '..', '..');

/** Runs a command; a failure throws with its output, so a test failure says what npm or tsc printed. */
export async function sh(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 300_000, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

export interface PackedPackage {
  name: string;
  version: string;
  tarball: string;
  /** Paths inside the tarball, without the leading package/. */
  files: string[];
}

/** `npm pack` of the workspace in `folder` (constructs, runtime) into `dest`. */
export async function packWorkspace(folder: string, dest: string): Promise<PackedPackage> {
  const { stdout } = await sh('npm', ['pack', '--workspace', folder, '--json', '--pack-destination', dest], { cwd: REPO });
  // Lifecycle scripts may print before the JSON.
  const [pack] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  return { name: pack.name, version: pack.version, tarball: path.join(dest, pack.filename), files: pack.files.map((f: { path: string }) => f.path) };
}
