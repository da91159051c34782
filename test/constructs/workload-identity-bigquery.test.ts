// WorkloadIdentity.grantBigQueryRead: what BigQueryExampleGen's identity needs and nothing broader — roles/bigquery.jobUser
// on the project (run query jobs) and roles/bigquery.dataViewer on the source dataset only (never project-wide).
import { WorkloadIdentity } from '../../constructs/workload-identity';
import { baseStack, errorOf, resourcesOf, synthJson } from './helpers';

function identities() {
  const base = baseStack();
  const ids = new WorkloadIdentity(base.stack, 'ids', { cluster: base.cluster, namespace: 'ml', accountPrefix: 'mlp-test', roles: ['pipeline-runner', 'trainer'] });
  return { base, ids };
}

test('job user on the project, data viewer on the dataset, for that role only; idempotent', () => {
  const { base, ids } = identities();
  ids.grantBigQueryRead('pipeline-runner', 'sales');
  ids.grantBigQueryRead('pipeline-runner', 'sales');
  ids.grantBigQueryRead('pipeline-runner', 'events', 'acme-analytics');
  const json = synthJson(base.stack);
  // The member as synthesized: the e-mail of the role's own service account.
  const runner = expect.stringMatching(/^serviceAccount:\$\{google_service_account\.ids_pipeline-runner_service-account_\w+\.email\}$/);
  const project = base.cluster.project;

  const datasetGrants = resourcesOf(json, 'google_bigquery_dataset_iam_member').sort((a, b) => String(b.dataset_id).localeCompare(a.dataset_id));
  expect(datasetGrants).toEqual([
    expect.objectContaining({ project, dataset_id: 'sales', role: 'roles/bigquery.dataViewer', member: runner }),
    expect.objectContaining({ project: 'acme-analytics', dataset_id: 'events', role: 'roles/bigquery.dataViewer', member: runner }),
  ]);
  const bigQueryProjectRoles = resourcesOf(json, 'google_project_iam_member').filter((m) => String(m.role).startsWith('roles/bigquery.'));
  expect(bigQueryProjectRoles).toEqual([expect.objectContaining({ project, role: 'roles/bigquery.jobUser', member: runner })]);
  // No project-wide data access, and the trainer got nothing.
  for (const m of resourcesOf(json, 'google_project_iam_member')) expect(m.role).not.toMatch(/bigquery\.(dataViewer|dataEditor|admin|user)$/);
  expect(JSON.stringify(resourcesOf(json, 'google_bigquery_dataset_iam_member'))).not.toContain('ids_trainer');
});

test('a dataset id that is not one (a project-qualified name) is refused with the fix', () => {
  const { ids } = identities();
  expect(errorOf(() => ids.grantBigQueryRead('trainer', 'acme:sales'))).toContain("BigQuery dataset id 'acme:sales' must be letters, digits or '_' (give its project as datasetProject, not in the id)");
});
