// Packs a workspace package of this repository (`npm pack -w <folder>`, with its prepack build) into a folder
// and runs commands outside the checkout for the packaging tests.

import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { isAlive } from '../../runtime/storage/common';

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

/**
 * Holds the pack lock of `folder` while `fn` runs: a prepack builds into the workspace's own dist/ (the
 * runtime's stages sources there and removes them after), so two test files packing the same workspace at
 * once would pack each other's half-written or removed files. The lock is a file created exclusively holding
 * the owner's pid; one whose owner died (a killed test run) is taken over.
 */
async function withPackLock<T>(folder: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `mlp-pack-${createHash('sha256').update(path.join(REPO, folder)).digest('hex').slice(0, 16)}.lock`);
  for (;;) {
    try {
      await fs.promises.writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await fs.promises.readFile(lock, 'utf8').catch(() => ''));
      if (owner && !isAlive(owner)) await removeStaleLock(lock, owner);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.promises.rm(lock, { force: true });
  }
}

/**
 * Removes the lock of dead `owner`. Moved aside first (atomic): if another waiter took the stale lock over in
 * between, what was moved is that waiter's live lock, and it is put back (link fails rather than replace).
 */
async function removeStaleLock(lock: string, owner: number): Promise<void> {
  const aside = `${lock}.${process.pid}`;
  try {
    await fs.promises.rename(lock, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (Number(await fs.promises.readFile(aside, 'utf8')) !== owner) await fs.promises.link(aside, lock);
  } catch (err) {
    throw new Error(`pack lock ${lock}: two waiters took over the stale lock of process ${owner} at once (${(err as Error).message}); run again`);
  } finally {
    await fs.promises.rm(aside, { force: true });
  }
}

/** `npm pack` of the workspace in `folder` (constructs, runtime) into `dest`. */
export async function packWorkspace(folder: string, dest: string): Promise<PackedPackage> {
  const { stdout } = await withPackLock(folder, () => sh('npm', ['pack', '--workspace', folder, '--json', '--pack-destination', dest], { cwd: REPO }));
  // Lifecycle scripts may print before the JSON.
  const [pack] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  return { name: pack.name, version: pack.version, tarball: path.join(dest, pack.filename), files: pack.files.map((f: { path: string }) => f.path) };
}
