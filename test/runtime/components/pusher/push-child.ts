// Child process for the concurrent-push test: runs several Pusher cloud steps (what `mlp component run Pusher
// --metadata ...` runs) at once against one metadata store. It tells the parent it is ready and starts only
// on the parent's "go", so the pushes of every child overlap; then it reports each step's outcome over IPC.

import { Pusher } from '../../../../runtime/components/pusher';
import type { ExecutorInput } from '../../../../runtime/core/executor-io';
import { openMetadataStore } from '../../../../runtime/metadata';
import { runStep } from '../../../../runtime/runner/cloud-step';

export interface PushJob {
  runId: string;
  input: ExecutorInput;
}

export interface PushOutcome {
  runId: string;
  state?: string;
  error?: string;
  /** Versions this push found taken by another push before one was free. */
  taken: number;
}

const [metadata, jobsJson] = process.argv.slice(2);
const jobs = JSON.parse(jobsJson) as PushJob[];

void (async () => {
  const store = await openMetadataStore(metadata);
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!('ready');
  });
  const outcomes = await Promise.all(
    jobs.map(({ runId, input }) => {
      let taken = 0;
      const log = (line: string) => (taken += /^version \d+ is taken/.test(line) ? 1 : 0);
      return runStep(Pusher, input, { store, pipeline: 'concurrent-push', runId, nodeId: 'Pusher', log }).then(
        (r): PushOutcome => ({ runId, state: r.state, taken }),
        (err: Error): PushOutcome => ({ runId, error: err.message, taken }),
      );
    }),
  );
  await store.close();
  process.send!(outcomes, () => process.exit(0));
})();
