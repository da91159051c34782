// Public entry point of the infrastructure constructs: org repos import everything from here.
export * from './errors';
export * from './principal';
export * from './accelerators';
export * from './tpu';
export * from './network';
export * from './cluster';
export * from './node-pool-base';
export * from './gpu-node-pool';
export * from './tpu-node-pool';
export * from './cpu-node-pool';
export * from './artifact-store';
export * from './metadata-database';
export * from './container-registry';
export * from './workload-identity';
export * from './policy';
