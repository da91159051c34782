// How a container component runs on one machine (`mlp run --local-exec`): as a local process (its localCommand,
// or its command with `subprocess`, as KFP's SubprocessRunner does) or in its image on a Docker / Podman engine
// with the folders mounted. Also the check the runner makes before anything runs, so a missing engine is one
// line naming it, not a failed node.

import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../core/errors';
import type { AnyComponent } from '../../core/component';
import { isContainerComponent, type ContainerSpec } from './spec';

export const LOCAL_EXEC_MODES = ['subprocess', 'docker'] as const;
export type LocalExecMode = (typeof LOCAL_EXEC_MODES)[number];

/** The variable the runner hands the mode to its worker processes in. */
export const LOCAL_EXEC_ENV = 'MLP_LOCAL_EXEC';

const ENGINES = ['docker', 'podman'] as const;

/** Where `name` is on PATH, if anywhere. */
function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A container engine that answers (`<engine> version` succeeds), or why none does, engine by engine. */
export function findContainerEngine(pathVar = process.env.PATH): { engine: string } | { missing: string } {
  const why: string[] = [];
  for (const engine of ENGINES) {
    const file = onPath(engine, pathVar);
    if (!file) {
      why.push(`${engine} is not installed (not on PATH)`);
      continue;
    }
    try {
      execFileSync(file, ['version'], { stdio: 'pipe', timeout: 30_000 });
      return { engine: file };
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').filter(Boolean).pop();
      why.push(`${engine} cannot reach its engine (${stderr ?? (err as Error).message})`);
    }
  }
  return { missing: why.join('; ') };
}

export function parseLocalExecMode(text: string | undefined, where: string): LocalExecMode | undefined {
  if (text === undefined || text === '') return undefined;
  if ((LOCAL_EXEC_MODES as readonly string[]).includes(text)) return text as LocalExecMode;
  throw new UserError(`${where}: "${text}" is not a local execution mode (${LOCAL_EXEC_MODES.join(', ')})`);
}

/** How one container step runs here: its command as a process, or its image on an engine. */
export type LocalExecution = { kind: 'subprocess'; command: ContainerSpec['command'] } | { kind: 'container'; engine: string };

/**
 * Decides how a container component runs: `subprocess` runs its localCommand (else its command); `docker` its
 * image; with no mode, a declared localCommand runs as a process and anything else needs an engine.
 */
export function localExecution(component: string, spec: ContainerSpec, mode: LocalExecMode | undefined, pathVar = process.env.PATH): LocalExecution {
  if (mode === 'subprocess' || (mode === undefined && spec.localCommand)) return { kind: 'subprocess', command: spec.localCommand ?? spec.command };
  if (spec.distribution || spec.tpu) {
    throw new UserError(`container component ${component} is distributed, and locally its ranks run as local processes (coordinator on 127.0.0.1), not in its image: declare a localCommand or run with --local-exec subprocess`);
  }
  const found = findContainerEngine(pathVar);
  if ('engine' in found) return { kind: 'container', engine: found.engine };
  if (mode === 'docker') throw new UserError(`--local-exec docker: no container engine for container component ${component}: ${found.missing}`);
  throw new UserError(
    `container component ${component} needs a container engine to run its image ${spec.image} and none is available (${found.missing}); run with --local-exec subprocess to run its command as a local process, or declare a localCommand`,
  );
}

/** What ran and how it ended; `stderrTail` holds the last lines it wrote to stderr. */
export interface ProcessOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string[];
}

const STDERR_TAIL_LINES = 5;

/**
 * Runs argv with its stdout and stderr going to this process's (the node log), keeping stderr's last lines for
 * the error. The child stays in the worker's process group, so canceling the run stops it too.
 */
export function runProcess(argv: string[], env: NodeJS.ProcessEnv, where: string): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      // Enough text for the last lines, however long each chunk is.
      tail = (tail + chunk.toString('utf8')).slice(-8192);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new UserError(`${where}: command not found: ${argv[0]}`) : new UserError(`${where}: could not start ${argv[0]}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      const stderrTail = tail.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-STDERR_TAIL_LINES);
      resolve({ code, signal, stderrTail });
    });
  });
}

/** Refuses a run whose container components cannot run here, before anything runs (one line naming what is missing). */
export function checkLocalExecution(components: AnyComponent[], mode: LocalExecMode | undefined): void {
  for (const c of new Set(components)) if (isContainerComponent(c)) localExecution(c.name, c.container, mode);
}
