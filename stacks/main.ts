// The cdktf app entry point (`npm run synth`, `cdktf synth|deploy <env>-platform <env>-workloads`): synthesizes every
// environment offline into cdktf.out/stacks/<env>-{platform,workloads}, lists policy-pack suppressions and writes each
// stack's Checkov config (.checkov.yaml: the suppressed Checkov ids with their reasons), then prints each
// environment's monthly cost ceiling. Compiled pipelines are read from MLP_COMPILED_PIPELINES when set. Config,
// construct, policy or pricing errors exit 1 with their message (no stack trace).
import { buildPlatformApp } from './app';
import { EnvironmentConfigError } from './config';
import { CompiledPipelinesError } from './compiled-pipelines';
import { PolicyViolationError } from '../constructs/policy/policy-pack';
import { ConstructValidationError } from '../constructs/errors';
import { CostCeilingError, formatCostCeiling } from '../constructs/cost/cost-ceiling';
import { writeCheckovConfigs } from './checkov-configs';

process.env.CHECKPOINT_DISABLE ??= '1';
try {
  const { app, stacks, workloads, costCeilings, notes } = buildPlatformApp({ compiledPipelinesDir: process.env.MLP_COMPILED_PIPELINES || undefined });
  app.synth();
  writeCheckovConfigs(app.outdir, [...stacks, ...workloads]);
  for (const stack of [...stacks, ...workloads]) {
    const report = stack.policy.reports.get(stack.node.id);
    console.log(`${stack.node.id}: synthesized, policy pack passed (${report?.resourcesChecked ?? 0} resources checked, ${report?.suppressed.length ?? 0} suppressed)`);
    // One line per rule and reason (the deployer's admin roles are one suppression, not thirteen).
    const groups = new Map<string, string[]>();
    for (const s of report?.suppressed ?? []) {
      const key = `[${s.ruleId}] ${s.reason}`;
      groups.set(key, [...(groups.get(key) ?? []), s.resource]);
    }
    for (const [key, resources] of groups) {
      console.log(`  suppressed ${key.replace('] ', `] ${resources.length === 1 ? resources[0] : `${resources.length} resources (${resources[0]}, ...)`}: `)}`);
    }
    for (const u of report?.unusedSuppressions ?? []) console.log(`  unused suppression [${u.ruleId}] at ${u.path}: it matched no finding; remove it`);
  }
  for (const { environment, ceiling } of costCeilings) for (const line of formatCostCeiling(environment, ceiling)) console.log(line);
  for (const note of notes) console.log(`note: ${note}`);
} catch (e) {
  if (e instanceof EnvironmentConfigError || e instanceof PolicyViolationError || e instanceof ConstructValidationError || e instanceof CompiledPipelinesError || e instanceof CostCeilingError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
