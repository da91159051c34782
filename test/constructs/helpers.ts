// Test helpers for the construct tests: a stack with a network and a cluster (and, for the workload constructs, pools,
// store, database, registry and identities), synthesized-JSON accessors, fixtures and exact-error capture.
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { MlCluster, MlClusterProps } from '../../constructs/cluster';
import { MlNetwork } from '../../constructs/network';
import { CpuNodePool } from '../../constructs/cpu-node-pool';
import { GpuNodePool } from '../../constructs/gpu-node-pool';
import { ArtifactStore } from '../../constructs/artifact-store';
import { MetadataDatabase } from '../../constructs/metadata-database';
import { ContainerRegistry } from '../../constructs/container-registry';
import { WorkloadIdentity } from '../../constructs/workload-identity';

export interface Base {
  readonly app: App;
  readonly stack: TerraformStack;
  readonly network: MlNetwork;
  readonly cluster: MlCluster;
}

export function baseStack(cluster: Partial<MlClusterProps> = {}): Base {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  const network = new MlNetwork(stack, 'network', {
    name: 'mlp-test',
    region: 'us-central1',
    subnetCidr: '10.0.0.0/20',
    podsCidr: '10.4.0.0/14',
    servicesCidr: '10.8.0.0/20',
    privateServiceAccessCidr: '10.10.0.0/16',
  });
  const c = new MlCluster(stack, 'cluster', {
    name: 'mlp-test',
    project: 'acme-ml-test',
    network,
    location: 'us-central1',
    masterIpv4CidrBlock: '172.16.0.0/28',
    masterAuthorizedNetworks: [{ cidr: '203.0.113.0/24', displayName: 'vpn' }],
    labels: { env: 'test' },
    ...cluster,
  });
  return { app, stack, network, cluster: c };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = { [key: string]: any };

export function synthJson(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of a type, keyed by construct path. */
export function resourcesOf(json: Json, type: string): Json[] {
  return Object.values(json.resource?.[type] ?? {}) as Json[];
}

export function onlyResource(json: Json, type: string): Json {
  const all = resourcesOf(json, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** The message of the error `fn` throws (fails the test when it does not throw). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, but none was thrown');
}

/** A stack with what the workload constructs need: network, cluster, CPU and L4 pools, store, database, registry, identities. */
export interface WorkloadBase extends Base {
  readonly cpuPool: CpuNodePool;
  readonly gpuPool: GpuNodePool;
  readonly store: ArtifactStore;
  readonly database: MetadataDatabase;
  readonly registry: ContainerRegistry;
  readonly identities: WorkloadIdentity;
}

export function workloadBase(): WorkloadBase {
  const base = baseStack();
  const cpuPool = new CpuNodePool(base.stack, 'general', { cluster: base.cluster, machineType: 'e2-standard-4', maxNodes: 3 });
  const gpuPool = new GpuNodePool(base.stack, 'l4', { cluster: base.cluster, accelerator: 'nvidia-l4', machineType: 'g2-standard-24', zones: ['us-central1-a'], maxNodes: 2 });
  const store = new ArtifactStore(base.stack, 'artifacts', { bucketPrefix: 'acme-ml-test', location: 'US-CENTRAL1' });
  const database = new MetadataDatabase(base.stack, 'db', { instanceName: 'mlp-test-metadata', project: 'acme-ml-test', network: base.network, tier: 'db-custom-2-7680' });
  const registry = new ContainerRegistry(base.stack, 'registry', { repositoryId: 'ml-images', location: 'us-central1', project: 'acme-ml-test' });
  const identities = new WorkloadIdentity(base.stack, 'identities', { cluster: base.cluster, namespace: 'ml-platform', accountPrefix: 'mlp-test' });
  return { ...base, cpuPool, gpuPool, store, database, registry, identities };
}

/** The runtime image the workload tests deploy. */
export const IMAGE = 'us-central1-docker.pkg.dev/acme-ml-test/ml-images/runtime:0.1.0';

/** A compiled pipeline from test/fixtures/infra/compiled (real `mlp compile` output). */
export function compiledFixture(target: 'argo' | 'kfp', name = 'spine-demo'): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'infra', 'compiled', target, `${name}.json`), 'utf8'));
}
export function compiledDagFixture(name = 'spine-demo'): string {
  return fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'infra', 'compiled', 'airflow', `${name}.py`), 'utf8');
}

/**
 * Decodes the body of a Cloud Scheduler http_target: base64 of a literal, or `${base64encode(join("", ["<lit>", <ref>,
 * "<lit>"]))}` with `ref` replaced by `refValue` (HCL string literals unescaped).
 */
export function decodeSchedulerBody(body: string, refValue = '123456789012'): Json {
  const m = /^\$\{base64encode\(join\("", \["((?:[^"\\]|\\.)*)", ([^\]]+?), "((?:[^"\\]|\\.)*)"\]\)\)\}$/.exec(body);
  if (!m) return JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1').replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
  return JSON.parse(unescape(m[1]) + refValue + unescape(m[3]));
}
