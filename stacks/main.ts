// The cdktf app entry point (`npm run synth`, `cdktf synth|deploy <env>-platform`): synthesizes every environment
// offline into cdktf.out/stacks/<env>-platform and lists policy-pack suppressions. Config or policy errors exit 1
// with their message (no stack trace).
import { buildPlatformApp } from './app';
import { EnvironmentConfigError } from './config';
import { PolicyViolationError } from '../constructs/policy/policy-pack';
import { ConstructValidationError } from '../constructs/errors';

process.env.CHECKPOINT_DISABLE ??= '1';
try {
  const { app, stacks } = buildPlatformApp();
  app.synth();
  for (const stack of stacks) {
    const report = stack.policy.reports.get(stack.node.id);
    console.log(`${stack.node.id}: synthesized, policy pack passed (${report?.resourcesChecked ?? 0} resources checked, ${report?.suppressed.length ?? 0} suppressed)`);
    for (const s of report?.suppressed ?? []) {
      console.log(`  suppressed [${s.ruleId}] ${s.resource}: ${s.reason}`);
    }
  }
} catch (e) {
  if (e instanceof EnvironmentConfigError || e instanceof PolicyViolationError || e instanceof ConstructValidationError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
