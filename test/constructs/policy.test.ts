// PolicyPack: the insecure fixture fails with exactly the expected rule ids; messages name resource, rule and fix;
// suppressions; rules labelled with a Checkov id decide as Checkov's own check does.
import * as fs from 'fs';
import * as path from 'path';
import { AnnotationMetadataEntryType, Aspects, TerraformStack, Testing } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { PolicyPack, PolicyViolationError } from '../../constructs/policy/policy-pack';
import { checkovConfig } from '../../constructs/policy/checkov-config';
import { parse as parseYaml } from 'yaml';
import { RULES, ResourceJson } from '../../constructs/policy/rules';
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

  // Cases read from Checkov 3.x's checks (checkov/terraform/checks/resource/gcp/*.py): [rule, resource JSON, fails?].
  // The first of each group failed on the pack's earlier, looser or stricter logic.
  const PARITY: [string, ResourceJson, boolean][] = [
    // GKENetworkPolicyEnabled: Dataplane V2 passes only beside an explicit network_policy { enabled = false }
    ['CKV_GCP_12', { datapath_provider: 'ADVANCED_DATAPATH' }, true],
    ['CKV_GCP_12', { datapath_provider: 'ADVANCED_DATAPATH', network_policy: { enabled: false } }, false],
    ['CKV_GCP_12', { network_policy: { enabled: false } }, true],
    ['CKV_GCP_12', { network_policy: { enabled: true } }, false],
    // GoogleCloudSqlDatabaseRequireSsl: ssl_mode must be TRUSTED_CLIENT_CERTIFICATE_REQUIRED (ENCRYPTED_ONLY on SQL Server)
    ['CKV_GCP_6', { database_version: 'POSTGRES_16', settings: { ip_configuration: { ssl_mode: 'ENCRYPTED_ONLY' } } }, true],
    ['CKV_GCP_6', { database_version: 'POSTGRES_16', settings: { ip_configuration: { ssl_mode: 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED' } } }, false],
    ['CKV_GCP_6', { database_version: 'SQLSERVER_2022_STANDARD', settings: { ip_configuration: { ssl_mode: 'ENCRYPTED_ONLY' } } }, false],
    ['CKV_GCP_6', { database_version: 'POSTGRES_16', settings: { ip_configuration: { require_ssl: true } } }, false],
    ['MLP_SQL_TLS', { database_version: 'POSTGRES_16', settings: { ip_configuration: { ssl_mode: 'ENCRYPTED_ONLY' } } }, false],
    ['MLP_SQL_TLS', { database_version: 'POSTGRES_16', settings: { ip_configuration: { ssl_mode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED' } } }, true],
    // GKENodePoolAutoRepairEnabled has no DWS exception (GpuNodePool suppresses it with the reason instead)
    ['CKV_GCP_9', { management: { auto_repair: false }, node_config: { flex_start: true } }, true],
    // GKEClientCertificateDisabled, GKEEnableShieldedNodes: a missing value fails
    ['CKV_GCP_13', {}, true],
    ['CKV_GCP_13', { master_auth: { client_certificate_config: { issue_client_certificate: false } } }, false],
    ['CKV_GCP_71', {}, true],
    // GKEMetadataServerIsEnabled: no node_config fails
    ['CKV_GCP_69', {}, true],
    // GKEEnsureIntegrityMonitoring: a shielded_instance_config without integrity monitoring fails
    ['CKV_GCP_72', { node_config: { shielded_instance_config: { enable_secure_boot: true } } }, true],
    ['CKV_GCP_72', { node_config: {} }, false],
    // GoogleCloudPostgreSqlLogMinErrorStatement: 'log' is not among the allowed levels
    ['CKV_GCP_109', { database_version: 'POSTGRES_16', settings: { database_flags: [{ name: 'log_min_error_statement', value: 'log' }] } }, true],
    // GoogleProjectAdminServiceAccount: role pattern covers editor/owner anywhere, member is a literal SA email
    ['CKV_GCP_42', { member: 'serviceAccount:ci@p.iam.gserviceaccount.com', role: 'roles/cloudbuild.builds.editor' }, true],
    ['CKV_GCP_42', { member: 'serviceAccount:${google_service_account.sa.email}', role: 'roles/storage.admin' }, false],
    ['MLP_SA_ADMIN_ROLES', { member: 'serviceAccount:${google_service_account.sa.email}', role: 'roles/storage.admin' }, true],
    // Checkov passes what the pack used to refuse under these ids (the refusal lives on under an MLP_* id)
    ['CKV_GCP_60', { settings: { ip_configuration: {} } }, false],
    ['MLP_SQL_IPV4_OFF', { settings: { ip_configuration: {} } }, true],
    ['CKV_GCP_64', { private_cluster_config: { enable_private_nodes: false } }, false],
    ['MLP_GKE_PRIVATE_NODES', { private_cluster_config: { enable_private_nodes: false } }, true],
    ['CKV_GCP_52', { database_version: 'POSTGRES_16', settings: { database_flags: [] } }, false],
    ['CKV_GCP_52', { database_version: 'POSTGRES_16', settings: { database_flags: [{ name: 'log_connections', value: 'off' }] } }, true],
    ['CKV_GCP_26', { purpose: 'REGIONAL_MANAGED_PROXY' }, false],
    // CloudPubSubEncryptedWithCMK, ArtifactRegsitryEncryptedWithCMK
    ['CKV_GCP_83', { name: 'events' }, true],
    ['CKV_GCP_83', { name: 'events', kms_key_name: 'projects/p/locations/us/keyRings/r/cryptoKeys/k' }, false],
    ['CKV_GCP_84', { repository_id: 'images', kms_key_name: 'projects/p/locations/us/keyRings/r/cryptoKeys/k' }, false],
    // GoogleRoleServiceAccountUser: a binding without a role fails too
    ['CKV_GCP_41', { member: 'user:a@example.com' }, true],
    ['CKV_GCP_41', { member: 'user:a@example.com', role: 'roles/iam.serviceAccountTokenCreator' }, true],
    ['CKV_GCP_41', { member: 'user:a@example.com', role: 'roles/logging.logWriter' }, false],
    // GoogleProjectImpersonationRoles (AbsGoogleImpersonationRoles' list)
    ['CKV_GCP_49', { member: 'serviceAccount:d@p.iam.gserviceaccount.com', role: 'roles/resourcemanager.projectIamAdmin' }, true],
    ['CKV_GCP_49', { member: 'serviceAccount:d@p.iam.gserviceaccount.com', role: 'roles/iam.workloadIdentityUser' }, true],
    ['CKV_GCP_49', { member: 'serviceAccount:d@p.iam.gserviceaccount.com', role: 'roles/container.admin' }, false],
    // GKEKubernetesRBACGoogleGroups: any security_group value passes
    ['CKV_GCP_65', { name: 'c' }, true],
    ['CKV_GCP_65', { authenticator_groups_config: { security_group: 'gke-security-groups@example.com' } }, false],
    // CloudSqlMajorVersion: only the newest major version of each engine (POSTGRES_17 in Checkov 3.3)
    ['CKV_GCP_79', { database_version: 'POSTGRES_16' }, true],
    ['CKV_GCP_79', {}, true],
    ['CKV_GCP_79', { database_version: 'POSTGRES_17' }, false],
    ['CKV_GCP_79', { database_version: 'MYSQL_8_0' }, false],
    // GCPPostgreSQLDatabaseFlaglog_durationIsSetToON: required on PostgreSQL, not judged elsewhere
    ['CKV2_GCP_13', { database_version: 'POSTGRES_16', settings: { database_flags: [] } }, true],
    ['CKV2_GCP_13', { database_version: 'POSTGRES_16', settings: { database_flags: [{ name: 'log_duration', value: 'off' }] } }, true],
    ['CKV2_GCP_13', { database_version: 'POSTGRES_16', settings: { database_flags: [{ name: 'log_duration', value: 'on' }] } }, false],
    ['CKV2_GCP_13', { database_version: 'MYSQL_8_0' }, false],
    // ImagePullPolicyAlways (kubernetes provider): the first container decides; an image naming latest passes unset
    ['CKV_K8S_15', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i:1.0' }] } } } }, true],
    ['CKV_K8S_15', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i:1.0', image_pull_policy: 'IfNotPresent' }] } } } }, true],
    ['CKV_K8S_15', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i:1.0', image_pull_policy: 'Always' }] } } } }, false],
    ['CKV_K8S_15', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i:latest' }] } } } }, false],
    ['CKV_K8S_15', {}, true],
    // ImageDigest: every container's image needs an '@'
    ['CKV_K8S_43', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i@sha256:' + 'a'.repeat(64) }, { name: 't', image: 'r/j:1.0' }] } } } }, true],
    ['CKV_K8S_43', { spec: { template: { spec: { container: [{ name: 's', image: 'r/i@sha256:' + 'a'.repeat(64) }] } } } }, false],
    ['CKV_K8S_43', { spec: { container: [{ name: 's', image: 'r/i:1.0' }] } }, true],
  ];
  test.each(PARITY)('%s on %j fails: %s', (id, json, fails) => {
    const rule = RULES.find((r) => r.id === id)!;
    expect(rule.check(json, rule.resourceTypes[0], { logicalId: 'x', resourcesOf: () => [] }) !== undefined).toBe(fails);
  });

  // CKV2_GCP_18 (GCPNetworkDoesNotUseDefaultFirewall) is a connection check: a firewall must reference the network.
  test('CKV2_GCP_18 passes a network only when a google_compute_firewall references it', () => {
    const rule = RULES.find((r) => r.id === 'CKV2_GCP_18')!;
    const withFirewalls = (...firewalls: ResourceJson[]) => ({ logicalId: 'vpc', resourcesOf: (t: string) => (t === 'google_compute_firewall' ? firewalls : []) });
    expect(rule.check({ name: 'n' }, 'google_compute_network', withFirewalls())).toBe('no google_compute_firewall references this network');
    expect(rule.check({ name: 'n' }, 'google_compute_network', withFirewalls({ network: '${google_compute_network.other.id}' }))).toBeDefined();
    expect(rule.check({ name: 'n' }, 'google_compute_network', withFirewalls({ network: '${google_compute_network.vpc.id}' }))).toBeUndefined();
    expect(rule.check({ name: 'n' }, 'google_compute_network', withFirewalls({ network: '${google_compute_network.vpc.self_link}' }))).toBeUndefined();
  });

  test('CKV_GCP_117 judges project IAM only, as Checkov; MLP_BASIC_ROLES covers the other IAM resources', () => {
    expect(RULES.find((r) => r.id === 'CKV_GCP_117')!.resourceTypes).toEqual(['google_project_iam_member', 'google_project_iam_binding']);
    expect(RULES.find((r) => r.id === 'CKV_GCP_22')!.resourceTypes).toEqual(['google_container_node_pool']);
    expect(RULES.find((r) => r.id === 'MLP_BASIC_ROLES')!.resourceTypes).toContain('google_storage_bucket_iam_member');
  });

  test('the Checkov config skips exactly the suppressed Checkov ids, each below comments naming its resources and reason', () => {
    const stack = new TerraformStack(Testing.app(), 'small');
    const logs = new StorageBucket(stack, 'logs', { name: 'logs', location: 'US', uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced', versioning: { enabled: true } });
    const scratch = new StorageBucket(stack, 'scratch', { name: 'scratch', location: 'US', uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced' });
    new StorageBucketIamMember(stack, 'owner', { bucket: 'scratch', role: 'roles/owner', member: 'user:dev@example.com' });
    const pack = new PolicyPack();
    Aspects.of(stack).add(pack);
    PolicyPack.suppress(logs, 'CKV_GCP_62', 'This is the access-log sink; it cannot log into itself.');
    PolicyPack.suppress(scratch, 'CKV_GCP_62', 'Scratch data, rewritten hourly;\nnot worth access logs.');
    PolicyPack.suppress(scratch, 'CKV_GCP_78', 'Scratch data is rewritten hourly, old versions are noise.');
    PolicyPack.suppress(stack, 'MLP_BASIC_ROLES', 'The scratch bucket belongs to one developer for a week.');
    Testing.synth(stack);
    const report = pack.reports.get('small')!;
    expect(report.suppressed.map((x) => x.ruleId).sort()).toEqual(['CKV_GCP_62', 'CKV_GCP_62', 'CKV_GCP_78', 'MLP_BASIC_ROLES']);
    const text = checkovConfig(report, 'cdktf.out/stacks/small');
    expect(parseYaml(text)).toEqual({ framework: ['terraform_json'], 'skip-check': ['CKV_GCP_62', 'CKV_GCP_78'] });
    const lines = text.split('\n');
    expect(lines).toContain('#   checkov -d cdktf.out/stacks/small --framework terraform_json --config-file cdktf.out/stacks/small/.checkov.yaml');
    // Each id's comments sit right above its entry; a reason's line breaks do not end its comment.
    const at = lines.indexOf('  - CKV_GCP_62');
    expect(lines.slice(at - 2, at)).toEqual([
      '  # google_storage_bucket.logs: This is the access-log sink; it cannot log into itself.',
      '  # google_storage_bucket.scratch: Scratch data, rewritten hourly; not worth access logs.',
    ]);
    expect(lines[lines.indexOf('  - CKV_GCP_78') - 1]).toBe('  # google_storage_bucket.scratch: Scratch data is rewritten hourly, old versions are noise.');
    expect(lines).toContain('#   MLP_BASIC_ROLES google_storage_bucket_iam_member.owner: The scratch bucket belongs to one developer for a week.');
  });

  test('a stack without suppressions gets an empty skip-check list', () => {
    const report = { stack: 'clean', resourcesChecked: 3, violations: [], suppressed: [] };
    expect(parseYaml(checkovConfig(report, 'out/stacks/clean'))).toEqual({ framework: ['terraform_json'], 'skip-check': [] });
  });

  test('docs/infrastructure.md lists every rule with its resource types and title', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'infrastructure.md'), 'utf8');
    for (const r of RULES) {
      expect(doc).toContain(`| \`${r.id}\` | ${r.resourceTypes.map((t) => t.replace(/^google_/, '')).join(', ')} | ${r.title} |`);
    }
  });

  test('a suppression that matched no finding is reported as unused (a warning), only for rules the pack evaluated', () => {
    const stack = new TerraformStack(Testing.app(), 'small');
    const logged = new StorageBucket(stack, 'logged', {
      name: 'logged', location: 'US', uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced', versioning: { enabled: true }, logging: { logBucket: 'logs' },
    });
    PolicyPack.suppress(logged, 'CKV_GCP_62', 'Left over from before the bucket logged its access.');
    PolicyPack.suppress(logged, 'CKV_GCP_6', 'A rule this pack does not evaluate here at all.');
    const pack = new PolicyPack({ rules: RULES.filter((r) => r.resourceTypes.includes('google_storage_bucket')) });
    Aspects.of(stack).add(pack);
    Testing.synth(stack);
    expect(pack.reports.get('small')!.unusedSuppressions).toEqual([{ ruleId: 'CKV_GCP_62', path: 'small/logged', reason: 'Left over from before the bucket logged its access.' }]);
    const warnings = stack.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    expect(warnings).toContain('Policy suppression [CKV_GCP_62] at small/logged matched no finding; remove it (reason given: Left over from before the bucket logged its access.)');
  });
});
