// Writes each synthesized stack's Checkov config (`<outdir>/stacks/<stack>/.checkov.yaml`) from its policy report, so
// an org's CI running Checkov on cdktf.out gets the decisions synthesis made (stacks/main.ts calls it after synth).
import * as fs from 'fs';
import * as path from 'path';
import { TerraformStack } from 'cdktf';
import { CHECKOV_CONFIG_FILE, PolicyPack, checkovConfig } from '../constructs/policy';

/** A synthesized stack and the policy pack that checked it. */
export interface CheckedStack extends TerraformStack {
  readonly policy: PolicyPack;
}

/**
 * Writes the config of every stack into its synthesized directory and returns the paths written. A stack the pack did
 * not report on (not synthesized, or no pack) is an error: a missing config would let Checkov fail where synth passed.
 */
export function writeCheckovConfigs(outdir: string, stacks: readonly CheckedStack[]): string[] {
  return stacks.map((stack) => {
    const id = stack.node.id;
    const report = stack.policy.reports.get(id);
    if (!report) throw new Error(`No policy report for stack '${id}': synthesize the app before writing its Checkov configs.`);
    const dir = path.join(outdir, 'stacks', id);
    if (!fs.existsSync(path.join(dir, 'cdk.tf.json'))) throw new Error(`Stack '${id}' has no ${path.join(dir, 'cdk.tf.json')}: synthesize into ${outdir} first.`);
    const file = path.join(dir, CHECKOV_CONFIG_FILE);
    fs.writeFileSync(file, checkovConfig(report, dir));
    return file;
  });
}
