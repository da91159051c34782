// The policy pack's decisions as a Checkov config file, so an org's CI running Checkov on a synthesized stack skips
// what synthesis suppressed: Checkov's terraform_json runner (the one that reads cdk.tf.json) ignores inline skips.
// Checkov's config file takes its CLI options as keys (`framework`, `skip-check`, ...); each skipped id carries the
// suppressed resources and reasons as comments above it.
import { PolicyReport } from './policy-pack';

/** Checkov's own ids (CKV_GCP_6, CKV2_GCP_18, CKV_K8S_43 ...); MLP_* ids are the pack's and unknown to Checkov. */
export const isCheckovId = (id: string): boolean => /^CKV2?_[A-Z0-9]+_\d+$/.test(id);

/** File name `npm run synth` writes next to each stack's cdk.tf.json. */
export const CHECKOV_CONFIG_FILE = '.checkov.yaml';

/** One line of comment text: no line breaks can end the comment early. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * The Checkov config (YAML) of one stack's report: `framework: [terraform_json]` and one `skip-check` entry per
 * suppressed Checkov id, each preceded by `# <resources>: <reason>` comments (one per reason). `stackDir` is the directory the command
 * in the header scans (e.g. `cdktf.out/stacks/prod-platform`). Suppressions of the pack's own MLP_* rules are listed
 * in comments only.
 */
export function checkovConfig(report: PolicyReport, stackDir: string): string {
  // id -> reason -> resources: one comment per reason (the deployer's admin roles are one decision, not fifteen).
  const byId = new Map<string, Map<string, string[]>>();
  for (const s of report.suppressed) {
    const reasons = byId.get(s.ruleId) ?? new Map<string, string[]>();
    const reason = oneLine(s.reason);
    reasons.set(reason, [...(reasons.get(reason) ?? []), s.resource]);
    byId.set(s.ruleId, reasons);
  }
  const comments = (id: string) => [...byId.get(id)!].map(([reason, resources]) => `${resources.join(', ')}: ${reason}`);
  const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  const checkov = [...byId.keys()].filter(isCheckovId).sort(byNumber);
  const own = [...byId.keys()].filter((id) => !isCheckovId(id)).sort(byNumber);
  const lines = [
    `# Checkov config of stack ${report.stack}, written by \`npm run synth\` from the policy pack's suppressions.`,
    '# Checkov skips each id below for the whole stack; the policy pack still checks it on every other resource at synth.',
    `#   checkov -d ${stackDir} --framework terraform_json --config-file ${stackDir}/${CHECKOV_CONFIG_FILE}`,
    'framework:',
    '  - terraform_json',
  ];
  if (checkov.length === 0) lines.push('skip-check: []');
  else {
    lines.push('skip-check:');
    for (const id of checkov) {
      for (const why of comments(id)) lines.push(`  # ${why}`);
      lines.push(`  - ${id}`);
    }
  }
  if (own.length > 0) {
    lines.push('# Suppressions of the policy pack\'s own rules (no Checkov check to skip):');
    for (const id of own) for (const why of comments(id)) lines.push(`#   ${id} ${why}`);
  }
  return `${lines.join('\n')}\n`;
}
