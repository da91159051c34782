// A distributed container step's declaration (issue 19 §1): workers × processes and TPU slices checked when the
// component is defined (hosts from the TPU catalogue), the environment each rank gets, the one table of that
// environment in docs/architecture.md, and a container engine refused for such a step locally.

import * as fs from 'fs';
import * as path from 'path';
import { containerComponent, rankEnvironment, rankLayout } from '../../../../runtime/components/container';
import { clusterWorker } from '../../../../runtime/components/container/distribution';
import { localExecution } from '../../../../runtime/components/container/local-exec';

let n = 0;
const define = (extra: Record<string, unknown>) =>
  containerComponent({ name: `DistributionCheck${++n}`, image: 'python:3.12', command: ['python3', '-c', 'pass'], ...extra });

test('a TPU slice runs one worker per host: chips in the topology / chips per VM of the catalogue', () => {
  expect(rankLayout(undefined, { version: 'v5e', topology: '4x4' }, 'here')).toMatchObject({ workers: 4, processesPerWorker: 1, worldSize: 4, tpu: { machineType: 'ct5lp-hightpu-4t', chipsPerVm: 4, hosts: 4, acceleratorLabel: 'tpu-v5-lite-podslice' } });
  expect(rankLayout(undefined, { version: 'v5p', topology: '2x2x4' }, 'here')).toMatchObject({ workers: 4, tpu: { machineType: 'ct5p-hightpu-4t', hosts: 4 } });
  // A topology with a single-host machine is one host, as the constructs' pools default.
  expect(rankLayout(undefined, { version: 'v6e', topology: '2x4' }, 'here')).toMatchObject({ workers: 1, tpu: { machineType: 'ct6e-standard-8t', chipsPerVm: 8, hosts: 1 } });
  const c = define({ tpu: { version: 'v4', topology: '2x2x2' } });
  expect(c.container.tpu).toEqual({ version: 'v4', topology: '2x2x2' });
  expect(rankLayout(c.container.distribution, c.container.tpu, 'here')?.workers).toBe(2);
  // The same hosts given as a distribution are accepted.
  expect(define({ tpu: { version: 'v4', topology: '2x2x2' }, distribution: { workers: 2 } }).container.distribution).toEqual({ workers: 2 });
});

test('a slice the catalogue does not have, or workers that do not fit it, is refused when the component is defined', () => {
  expect(() => define({ tpu: { version: 'v5e', topology: '3x3' } })).toThrow(/container component DistributionCheck\d+: TPU v5e has no topology "3x3" \(1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16\)$/);
  expect(() => define({ tpu: { version: 'v5e', topology: '2x2x2' } })).toThrow(/TPU v5e has no topology "2x2x2"/);
  expect(() => define({ tpu: { version: 'v5p', topology: '3x3x3' } })).toThrow(/TPU v5p has no topology "3x3x3" \(e\.g\. 2x2x1, 2x2x2, 2x2x4, .*, …\)$/);
  expect(() => define({ tpu: { version: 'v3', topology: '2x2' } })).toThrow(/tpu\.version "v3" is not a TPU version of the catalogue \(v4, v5p, v5e, v6e\)/);
  expect(() => define({ tpu: { version: 'v5e', topology: '4x4' }, distribution: { workers: 2 } })).toThrow(/TPU v5e 4x4 runs on 4 host\(s\), one process each, but distribution asks for 2 worker\(s\) × 1/);
  expect(() => define({ distribution: { workers: 0 } })).toThrow(/distribution\.workers must be a positive integer, got 0/);
  expect(() => define({ distribution: { workers: 2, processesPerWorker: 1.5 } })).toThrow(/distribution\.processesPerWorker must be a positive integer, got 1\.5/);
});

test('each rank gets the torchrun, JAX and Indexed Job names: ranks numbered worker by worker', () => {
  const layout = rankLayout({ workers: 2, processesPerWorker: 2 }, undefined, 'here')!;
  expect(layout.worldSize).toBe(4);
  const env = rankEnvironment(layout, 3, { address: '127.0.0.1', torchPort: 29500, jaxPort: 29501 });
  expect(env).toEqual({
    WORLD_SIZE: '4', RANK: '3', NODE_RANK: '1', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2',
    MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500',
    JAX_COORDINATOR_ADDRESS: '127.0.0.1:29501', JAX_PROCESS_ID: '3', JAX_NUM_PROCESSES: '4',
    JOB_COMPLETION_INDEX: '1',
  });
  expect(rankEnvironment(layout, 2, { address: 'a', torchPort: 1, jaxPort: 2 })).toMatchObject({ NODE_RANK: '1', LOCAL_RANK: '0', JOB_COMPLETION_INDEX: '1' });
});

test('docs/architecture.md has one environment table naming every variable a rank gets', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../../../docs/architecture.md'), 'utf8');
  const env = rankEnvironment(rankLayout({ workers: 1 }, undefined, 'here')!, 0, { address: 'a', torchPort: 1, jaxPort: 2 });
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect(rows.sort()).toEqual(Object.keys(env).sort());
});

test('locally a distributed step runs as local processes: an engine is refused, a localCommand or subprocess runs', () => {
  const c = define({ distribution: { workers: 2 } });
  expect(() => localExecution(c.name, c.container, 'docker')).toThrow(/container component DistributionCheck\d+ is distributed, and locally its ranks run as local processes \(coordinator on 127\.0\.0\.1\), not in its image: declare a localCommand or run with --local-exec subprocess/);
  expect(() => localExecution(c.name, c.container, undefined)).toThrow(/is distributed/);
  expect(localExecution(c.name, c.container, 'subprocess')).toEqual({ kind: 'subprocess', command: ['python3', '-c', 'pass'] });
});

test('a cluster worker (MLP_CLUSTER_WORKER=1) takes its node rank and coordinator from the pod env; a wrong one is an error naming it', () => {
  const layout = rankLayout({ workers: 2, processesPerWorker: 2 }, undefined, 'w')!;
  const env = { MLP_CLUSTER_WORKER: '1', NODE_RANK: '1', MASTER_ADDR: 'js-rank-0-0.js', MASTER_PORT: '29500', JAX_COORDINATOR_ADDRESS: 'js-rank-0-0.js:8476' };
  expect(clusterWorker(layout, env, 'w')).toEqual({ nodeRank: 1, coordinator: { address: 'js-rank-0-0.js', torchPort: 29500, jaxPort: 8476 } });
  expect(clusterWorker(layout, { ...env, MLP_CLUSTER_WORKER: undefined }, 'w')).toBeUndefined();
  expect(() => clusterWorker(layout, { ...env, NODE_RANK: '2' }, 'w')).toThrow('w: MLP_CLUSTER_WORKER=1 but NODE_RANK is "2": not a node rank of 2 worker(s)');
  expect(() => clusterWorker(layout, { ...env, MASTER_ADDR: undefined }, 'w')).toThrow('w: MLP_CLUSTER_WORKER=1 but MASTER_ADDR is null: the coordinator (rank 0) host is needed');
  expect(() => clusterWorker(layout, { ...env, JAX_COORDINATOR_ADDRESS: 'host' }, 'w')).toThrow('w: MLP_CLUSTER_WORKER=1 but JAX_COORDINATOR_ADDRESS is "host": not a port');
});
