// The cdktf app entry point (`npm run synth`, `cdktf synth|deploy <env>-platform`): synthesizes every environment
// offline into cdktf.out/stacks/<env>-platform and lists policy-pack suppressions.
import { buildPlatformApp } from './app';

process.env.CHECKPOINT_DISABLE ??= '1';
const { app, stacks } = buildPlatformApp();
app.synth();
for (const stack of stacks) {
  const report = stack.policy.reports.get(stack.node.id);
  const resources = report?.resourcesChecked ?? 0;
  console.log(`${stack.node.id}: synthesized, policy pack passed (${resources} resources checked, ${report?.suppressed.length ?? 0} suppressed)`);
  for (const s of report?.suppressed ?? []) {
    console.log(`  suppressed [${s.ruleId}] ${s.resource}: ${s.reason}`);
  }
}
