// What the benchmarks read about a process: its own peak RSS, and the wall time, CPU seconds and peak RSS of a
// command run under /usr/bin/time -v.

import { spawnSync } from 'child_process';
import * as fs from 'fs';

/**
 * This process's peak RSS in MiB (VmHWM). Not resourceUsage().maxRSS: Linux carries that over exec from the
 * forked parent.
 */
export function peakRssMiB(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return kb ? Number(kb[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

export interface TimedRun {
  wall: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpu: number;
  peakRssMiB: number;
  stdout: string;
}

/** Runs `command` under /usr/bin/time -v; an error with its stderr when it fails. */
export function timeCommand(command: string, args: string[]): TimedRun {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', command, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${args.slice(0, 4).join(' ')} failed (${r.status}): ${r.stderr}`);
  const field = (name: string) => {
    const m = new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr);
    if (!m) throw new Error(`no "${name}" in /usr/bin/time output: ${r.stderr}`);
    return Number(m[1]);
  };
  return {
    wall,
    cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
    peakRssMiB: field('Maximum resident set size \\(kbytes\\)') / 1024,
    stdout: r.stdout,
  };
}
