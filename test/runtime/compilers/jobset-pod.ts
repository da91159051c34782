// Runs one pod of a compiled JobSet step here, as Kubernetes would (for argo-jobset*.test.ts): the main container's
// command and args from the manifest with Argo's run id filled in, its env from the manifest (the downward API
// giving the pod's completion index and the JobSet's name), $(VAR) expanded, the wrapper's paths (/mlp/bin/node,
// /mlp/app) on this Node and checkout, and the metadata store (when the step has one) a local SQLite address.

import { spawn } from 'child_process';
import * as os from 'os';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../support/cli';
import { expand, mappingFuncFor } from '../../support/k8s-expansion';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Kubernetes' $(VAR) expansion of a container's env values, command and args (the port of its expand.go). */
export const expandK8s = (s: string, env: Record<string, string>): string => expand(s, mappingFuncFor(env));

/** The wrapper's paths in the pod on this Node and checkout. */
export const mapPodPath = (p: string): string => (p === '/mlp/bin/node' ? process.execPath : p.replace(/^\/mlp\/app\//, `${REPO_ROOT}/`));

export interface PodRun {
  /** The workflow's uid ({{workflow.uid}}). */
  runId: string;
  /** The name JobSet gave this attempt. */
  jobSet: string;
  /** The pod's completion index (its NODE_RANK). */
  index: number;
  /** MLP_METADATA, when the step has a metadata store. */
  metadata?: string;
}

/** The main container of node `node`'s JobSet pods, with the run id filled in. */
export function jobSetContainer(wf: Json, node: string, runId: string): Json {
  const t = wf.spec.templates.find((x: Json) => x.name === `${node}-jobset`);
  const manifest = parse(t.resource.manifest.replace(/\{\{workflow\.uid\}\}/g, runId));
  return manifest.spec.replicatedJobs[0].template.spec.template.spec.containers[0];
}

/** Runs the pod's main container to its end; its exit code and stderr. */
export function runJobSetPod(wf: Json, node: string, run: PodRun): Promise<{ code: number | null; stderr: string; argv: string[] }> {
  const main = jobSetContainer(wf, node, run.runId);
  const env: Record<string, string> = {};
  for (const e of main.env as Json[]) {
    const field: string | undefined = e.valueFrom?.fieldRef?.fieldPath;
    if (e.name === 'MLP_METADATA') env[e.name] = run.metadata!;
    else if (field?.includes('job-completion-index')) env[e.name] = String(run.index);
    else if (field?.includes('jobset-name')) env[e.name] = run.jobSet;
    else if (e.value !== undefined) env[e.name] = mapPodPath(expandK8s(e.value, env));
    else throw new Error(`env ${e.name}: unexpected ${JSON.stringify(e)}`);
  }
  const argv = [...main.command, ...main.args].map((a: string) => mapPodPath(expandK8s(a, env)));
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, HOME: os.tmpdir(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, argv }));
  });
}
