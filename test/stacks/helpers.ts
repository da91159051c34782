// Helpers for the stack tests: an environment's MlPlatform synthesized the way App.synth does it (both stacks prepared
// first, so cross-stack outputs and remote state exist), cached per environment and pipeline set.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { environmentPlatform } from '../../stacks/environment-platform';
import { environment } from '../../stacks/environments';
import { EnvironmentConfig, EnvironmentName } from '../../stacks/config';
import { loadCompiledPipelines } from '../../stacks/compiled-pipelines';
import { MlPlatform } from '../../constructs/ml-platform';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = { [key: string]: any };

/** test/fixtures/infra/compiled: real `mlp compile` output of spine-demo for every target. */
export const COMPILED_DIR = path.join(__dirname, '..', 'fixtures', 'infra', 'compiled');

export interface SynthesizedEnvironment {
  readonly platform: MlPlatform;
  readonly platformJson: Json;
  readonly workloadsJson: Json;
}

/** Synthesizes an environment (a config, or a name from stacks/environments.ts). */
export function synthEnvironment(config: EnvironmentConfig, withPipelines: boolean): SynthesizedEnvironment {
  const platform = environmentPlatform(Testing.app(), config, { pipelines: withPipelines ? loadCompiledPipelines(COMPILED_DIR) : undefined });
  for (const stack of platform.stacks) stack.prepareStack();
  const [platformJson, workloadsJson] = platform.stacks.map((s) => JSON.parse(Testing.synth(s)));
  return { platform, platformJson, workloadsJson };
}

const cache = new Map<string, SynthesizedEnvironment>();
export function synthNamed(env: EnvironmentName, withPipelines = true): SynthesizedEnvironment {
  const key = `${env}:${withPipelines}`;
  if (!cache.has(key)) cache.set(key, synthEnvironment(environment(env), withPipelines));
  return cache.get(key)!;
}

export const all = (json: Json, type: string): Json[] => Object.values(json.resource?.[type] ?? {});

/**
 * Runs a cdktf program file as `cdktf synth` does (a Node process whose App.synth() writes the stacks to
 * $CDKTF_OUTDIR) and returns each stack's cdk.tf.json by stack name.
 */
export function synthProgram(file: string): Record<string, Json> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktf-out-'));
  try {
    execFileSync(process.execPath, ['-r', path.join(__dirname, '..', '..', 'runtime', 'core', 'register-ts.js'), file], {
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stacks = path.join(outdir, 'stacks');
    return Object.fromEntries(fs.readdirSync(stacks).map((s) => [s, JSON.parse(fs.readFileSync(path.join(stacks, s, 'cdk.tf.json'), 'utf8'))]));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
