// PolicyPack: the insecure fixture fails with exactly the expected rule ids; messages name resource, rule and fix; suppressions.
import { AnnotationMetadataEntryType, Aspects, TerraformStack, Testing } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { PolicyPack, PolicyViolationError } from '../../constructs/policy/policy-pack';
import { RULES } from '../../constructs/policy/rules';
import { INSECURE_EXPECTED_RULES, InsecureStack } from '../fixtures/infra/insecure-stack';
import { errorOf } from './helpers';

function violationsOf(stack: TerraformStack) {
  try {
    Testing.synth(stack);
  } catch (e) {
    if (e instanceof PolicyViolationError) return e;
    throw e;
  }
  throw new Error('expected the policy pack to fail synthesis');
}

describe('PolicyPack', () => {
  test('fails synthesis of the insecure fixture with exactly the expected rule ids', () => {
    const stack = new InsecureStack(Testing.app(), 'insecure');
    Aspects.of(stack).add(new PolicyPack());
    const err = violationsOf(stack);
    const ids = new Set(err.report.violations.map((v) => v.ruleId));
    expect([...ids].sort()).toEqual([...INSECURE_EXPECTED_RULES].sort());
  });

  test('the message names the resource, the rule and the fix', () => {
    const stack = new InsecureStack(Testing.app(), 'insecure');
    Aspects.of(stack).add(new PolicyPack());
    const { message } = violationsOf(stack);
    const lines = message.split('\n');
    expect(lines[0]).toMatch(/^Policy pack: \d+ violation\(s\) in stack 'insecure':$/);
    expect(lines).toContainEqual(expect.stringMatching(
      /^ {2}\[CKV_GCP_60\] google_sql_database_instance\.db \(insecure\/db\): the instance has a public IPv4 address\. Rule: Cloud SQL has no public IP\. Fix: set settings\.ip_configuration\.ipv4_enabled = false/));
    expect(lines).toContainEqual("  [MLP_TRANSFER_AGENT_LEAST_PRIVILEGE] google_storage_bucket_iam_member.agent-admin (insecure/agent-admin): transfer agent granted roles/storage.admin. "
      + 'Rule: the Storage Transfer agent gets objectViewer/legacyBucketReader/legacyBucketWriter, never storage.admin. Fix: use ArtifactBucket.grantTransferSource/grantTransferSink.');
    expect(lines).toContainEqual(expect.stringContaining('[MLP_DWS_QUEUED] google_container_node_pool.queued-with-reservation (insecure/queued-with-reservation): reservation affinity is ANY_RESERVATION; autoscaling minimum is 1; placement is COMPACT.'));
    expect(lines).toContainEqual(expect.stringContaining('[MLP_TPU_PLACEMENT] google_container_node_pool.tpu-no-placement (insecure/tpu-no-placement): placement_policy is not COMPACT; tpu_topology is missing; node_locations is not a single zone; google.com/tpu taint is missing.'));
    expect(lines[lines.length - 1]).toContain('PolicyPack.suppress(construct, ruleId, reason)');
  });

  test('every rule is exercised by the insecure fixture', () => {
    expect(new Set(RULES.map((r) => r.id))).toEqual(new Set(INSECURE_EXPECTED_RULES));
  });

  test('suppressions need a known rule and a written reason, and are reported', () => {
    const stack = new TerraformStack(Testing.app(), 'small');
    const bucket = new StorageBucket(stack, 'logs', { name: 'logs', location: 'US', uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced', versioning: { enabled: true } });
    const pack = new PolicyPack();
    Aspects.of(stack).add(pack);
    expect(errorOf(() => PolicyPack.suppress(bucket, 'CKV_GCP_62', 'no'))).toBe(
      "PolicyPack.suppress: suppressing CKV_GCP_62 at 'small/logs' needs a written reason (at least 20 characters) saying why the rule does not apply.");
    expect(errorOf(() => PolicyPack.suppress(bucket, 'CKV_GCP_999', 'a perfectly fine reason here'))).toMatch(/^PolicyPack.suppress: unknown rule 'CKV_GCP_999' at 'small\/logs'/);
    expect(errorOf(() => Testing.synth(stack))).toContain('[CKV_GCP_62] google_storage_bucket.logs (small/logs): no access logging.');
    PolicyPack.suppress(bucket, 'CKV_GCP_62', 'This is the access-log sink; it cannot log into itself.');
    expect(() => Testing.synth(stack)).not.toThrow();
    const report = pack.reports.get('small')!;
    expect(report.violations).toEqual([]);
    expect(report.resourcesChecked).toBe(1);
    expect(report.suppressed).toEqual([expect.objectContaining({ ruleId: 'CKV_GCP_62', resource: 'google_storage_bucket.logs', reason: 'This is the access-log sink; it cannot log into itself.' })]);
    // Listed at synth as a warning annotation on the stack.
    const warnings = stack.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toContainEqual(expect.stringContaining('Policy suppression [CKV_GCP_62] google_storage_bucket.logs'));
  });

  test('failOnViolation false reports instead of throwing', () => {
    const stack = new InsecureStack(Testing.app(), 'insecure');
    const pack = new PolicyPack({ failOnViolation: false });
    Aspects.of(stack).add(pack);
    expect(() => Testing.synth(stack)).not.toThrow();
    expect(pack.reports.get('insecure')!.violations.length).toBeGreaterThanOrEqual(INSECURE_EXPECTED_RULES.length);
  });
});
