// Test helpers for the construct tests: a stack with a network and a cluster, synthesized-JSON accessors and exact-error capture.
import { App, TerraformStack, Testing } from 'cdktf';
import { MlCluster, MlClusterProps } from '../../constructs/cluster';
import { MlNetwork } from '../../constructs/network';

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
