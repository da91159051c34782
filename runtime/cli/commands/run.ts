// `mlp run`: runs a bundled pipeline or a pipeline module on the embedded local runner. SIGINT (Ctrl-C) or
// SIGTERM cancels the run: its running nodes are stopped and recorded CANCELED, what was left is printed with
// the command that resumes it, and mlp exits 128 + the signal's number (130, 143). A second signal exits at
// once, leaving the run RUNNING for the next run of the pipeline on this host to mark CANCELED.

import * as os from 'os';
import type { Command } from 'commander';
import { DEFAULT_ROOT, metadataAddress, parseParam } from '../options';
import { UserError } from '../../core/errors';
import { redactUrl } from '../../core/redact-url';
import { BUNDLED_PIPELINES } from '../../../pipelines';
import type { LocalRunner } from '../../runner/local-runner';
import type { RunSummary } from '../../runner/run-types';

interface RunFlags {
  root: string;
  metadata?: string;
  param: Record<string, string>;
  cache: boolean;
  explain?: boolean;
  json?: boolean;
  parallelism?: string;
  localExec?: string;
}

const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * A signal this soon after the first is the same Ctrl-C delivered twice, not a second one: under `npx mlp` or
 * `npm start` the terminal signals mlp's process group and npm forwards the signal to mlp as well.
 */
export const SAME_SIGNAL_MS = 500;

const exitCodeOf = (signal: string) => 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0);

/** Cancels the run on the first SIGINT/SIGTERM, exits on the second; returns what removes the handlers. */
function cancelOnSignals(runner: LocalRunner, pipeline: string): () => void {
  let canceledAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const run = runner.id ? `run ${runner.id}` : 'the run';
    if (canceledAt !== undefined && Date.now() - canceledAt < SAME_SIGNAL_MS) return;
    if (canceledAt === undefined) {
      canceledAt = Date.now();
      const again = signal === 'SIGINT' ? 'Ctrl-C again' : `${signal} again`;
      process.stderr.write(`\nmlp: ${signal}: canceling ${run}, stopping its running nodes (${again} exits at once)\n`);
      runner.cancel(signal);
      return;
    }
    runner.killWorkers();
    process.stderr.write(`mlp: ${signal} again: exiting now; ${run} stays RUNNING until the next run of ${pipeline} on this host marks it CANCELED\n`);
    process.exit(exitCodeOf(signal));
  };
  for (const s of CANCEL_SIGNALS) process.on(s, onSignal);
  return () => CANCEL_SIGNALS.forEach((s) => process.off(s, onSignal));
}

/** A word as a POSIX shell reads it back unchanged. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argument as printed: a URL's password (the metadata store's, as `--metadata URL` or `--opt=URL`) masked. */
const printedArg = (arg: string) => (/^--[\w-]+=/.test(arg) ? arg.replace(/=(.*)$/, (_, value: string) => `=${redactUrl(value)}`) : redactUrl(arg));

/**
 * What a canceled run left and the command that resumes it: this command again, without --no-cache so the
 * nodes that finished are reused from the cache.
 */
function canceledReport(summary: RunSummary, argv: string[]): string {
  const reused = summary.nodes.filter((n) => n.state === 'executed' || n.state === 'cached').length;
  const left = summary.nodes.filter((n) => n.state === 'canceled');
  const width = Math.max(...left.map((n) => n.id.length));
  const args = argv.slice(2).filter((a) => a !== '--no-cache');
  const masked = args.some((a) => printedArg(a) !== a);
  return [
    `mlp: run ${summary.runId} was canceled by ${summary.canceledBy}; ${reused} node${reused === 1 ? '' : 's'} finished (a rerun reuses them from the cache), ${left.length} left:`,
    ...left.map((n) => `  ${n.id.padEnd(width)}  ${n.error}`),
    `mlp: resume with: ${['mlp', ...args.map(printedArg)].map(shellWord).join(' ')}${masked ? ' (give the password where *** stands)' : ''}`,
    '',
  ].join('\n');
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a pipeline on the embedded local runner (SQLite metadata and local files by default)')
    .argument('<pipeline>', `a bundled pipeline (${Object.keys(BUNDLED_PIPELINES).join(', ')}; see mlp pipelines) or a module file exporting a Pipeline`)
    .option('--root <dir>', 'pipeline root: local folder or gs:// prefix for outputs', DEFAULT_ROOT)
    .option('--metadata <address>', 'metadata store: sqlite:PATH or postgres://... (default: sqlite:<root>/metadata.sqlite)')
    .option('--param <key=value>', 'set a pipeline parameter (repeatable; the value is read as the parameter\'s type: text for a string, JSON otherwise)', parseParam, {})
    .option('--no-cache', 'execute every node even when a cached result exists')
    .option('--explain', 'print for each node why it ran or was reused')
    .option('--json', 'print a machine-readable run summary on stdout')
    .option('--parallelism <n>', 'nodes running at once (default: number of CPUs)')
    .option('--local-exec <mode>', 'how container components run: subprocess (their command as a local process) or docker (their image on Docker/Podman) (default: a step\'s localCommand as a process, else its image)')
    .action(async (ref: string, flags: RunFlags) => {
      // Loaded here, not at the top: every `mlp` command (and --help) would otherwise pay for the runner.
      const { loadPipeline } = await import('../../../pipelines');
      const { outputsSummary } = await import('../outputs-summary');
      const { openMetadataStore } = await import('../../metadata');
      const { LocalRunner } = await import('../../runner/local-runner');
      const { ProgressReporter } = await import('../../runner/progress');
      const { declaredParameterTypes, parameterValuesFromText } = await import('../parameter-text');
      // Pipelines may default their own outputs (e.g. a serving folder) to places under the root.
      process.env.MLP_ROOT = flags.root;
      const { pipeline, module } = loadPipeline(ref);
      const parallelism = flags.parallelism === undefined ? undefined : Number(flags.parallelism);
      if (parallelism !== undefined && (!Number.isInteger(parallelism) || parallelism < 1)) {
        throw new UserError(`--parallelism must be a whole number ≥ 1, got ${flags.parallelism}`);
      }
      const { checkLocalExecution, parseLocalExecMode } = await import('../../components/container/local-exec');
      const localExec = parseLocalExecMode(flags.localExec, '--local-exec');
      // Before the store is opened (created), so a run that cannot start leaves nothing behind.
      checkLocalExecution(pipeline.nodes.map((n) => n.component), localExec);
      const store = await openMetadataStore(metadataAddress(flags));
      try {
        const reporter = new ProgressReporter({
          out: process.stderr,
          explain: !!flags.explain,
          live: !!process.stderr.isTTY && !flags.json,
        });
        const runner = new LocalRunner(pipeline, {
          root: flags.root,
          store,
          parameters: parameterValuesFromText(flags.param, declaredParameterTypes(pipeline.parameterSchema)),
          noCache: !flags.cache,
          parallelism,
          modules: [module],
          reporter,
          localExec,
        });
        const removeHandlers = cancelOnSignals(runner, pipeline.name);
        const summary = await runner.run().finally(removeHandlers);
        if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else process.stdout.write(outputsSummary(summary, metadataAddress(flags)));
        if (summary.state === 'CANCELED') {
          process.stderr.write(canceledReport(summary, process.argv));
          process.exitCode = exitCodeOf(summary.canceledBy!);
        } else if (summary.state !== 'COMPLETE') process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
