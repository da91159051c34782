// MlPlatform hands every cluster option to MlCluster (attestors, maintenance exclusions) and labels every resource by
// default, so a platform without `labels` still passes its own policy pack (CKV_GCP_21) — issue 21 §1.
import { Testing } from 'cdktf';
import { MlPlatform, MlPlatformProps } from '../../constructs/ml-platform';
import { environmentPlatformProps } from '../../stacks/environment-platform';
import { environment } from '../../stacks/environments';
import { Json, all } from './helpers';

/** dev's platform props (no workloads stack), changed by `edit`, synthesized. */
function platform(edit: (p: MlPlatformProps) => MlPlatformProps) {
  const props = edit({ ...environmentPlatformProps(environment('dev')), workloads: undefined, stateBucket: undefined });
  const p = new MlPlatform(Testing.app(), props.name, props);
  p.platform.prepareStack();
  return { stack: p.platform, json: JSON.parse(Testing.synth(p.platform)) as Json };
}

describe('MlPlatform cluster options and labels', () => {
  test('binaryAuthorization ENFORCE takes the attestors and maintenance exclusions reach the cluster', () => {
    const attestor = 'projects/acme-ml-dev/attestors/built-by-cloud-build';
    const exclusion = { name: 'year-end', startTime: '2026-12-20T00:00:00Z', endTime: '2027-01-03T00:00:00Z', scope: 'NO_UPGRADES' } as const;
    const { json } = platform((p) => ({ ...p, cluster: { ...p.cluster, binaryAuthorization: 'ENFORCE', binaryAuthorizationAttestors: [attestor], maintenanceExclusions: [exclusion] } }));
    expect(all(json, 'google_binary_authorization_policy')[0].default_admission_rule).toMatchObject({
      evaluation_mode: 'REQUIRE_ATTESTATION', enforcement_mode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', require_attestations_by: [attestor],
    });
    expect(all(json, 'google_container_cluster')[0].maintenance_policy.maintenance_exclusion).toEqual([
      { exclusion_name: 'year-end', start_time: '2026-12-20T00:00:00Z', end_time: '2027-01-03T00:00:00Z', exclusion_options: { scope: 'NO_UPGRADES' } },
    ]);
  });

  test('without labels every resource still carries ml_platform: <name> and the policy pack passes', () => {
    const { stack, json } = platform((p) => ({ ...p, labels: undefined }));
    expect(all(json, 'google_container_cluster')[0].resource_labels).toEqual({ ml_platform: 'dev' });
    expect(json.provider.google[0].default_labels).toEqual({ ml_platform: 'dev', managed_by: 'cdktf' });
    for (const pool of all(json, 'google_container_node_pool')) expect(pool.node_config.resource_labels).toEqual({ ml_platform: 'dev' });
    expect(all(json, 'google_sql_database_instance')[0].settings.user_labels).toEqual({ ml_platform: 'dev' });
    expect(stack.policy.reports.get('dev-platform')!.violations).toEqual([]);
  });

  test('caller labels are added to the default one', () => {
    const { json } = platform((p) => p);
    expect(all(json, 'google_container_cluster')[0].resource_labels).toEqual({ ml_platform: 'dev', env: 'dev', team: 'ml-platform' });
  });
});
