// ArgoWorkflows: the pinned Helm release and its values, the controller's Workload Identity, compiled WorkflowTemplates
// (real `mlp compile` output) and CronWorkflows as kubernetes_manifest resources, and validation errors.
import { Testing } from 'cdktf';
import { Release } from '@cdktf/provider-helm/lib/release';
import { ARGO_WORKFLOWS_CHART_VERSION, ArgoWorkflowTemplate, ArgoWorkflows, ArgoWorkflowsProps, parseArgoWorkflowTemplate } from '../../constructs/argo-workflows';
import { WorkloadNamespace } from '../../constructs/workload-namespace';
import { Json, WorkloadBase, compiledFixture, errorOf, onlyResource, resourcesOf, synthJson, workloadBase } from './helpers';

const spine = () => parseArgoWorkflowTemplate(compiledFixture('argo'), 'spine-demo.json');

function argo(base: WorkloadBase, props: Partial<ArgoWorkflowsProps> = {}, id = 'argo') {
  return new ArgoWorkflows(base.stack, id, {
    cluster: base.cluster,
    runner: base.identities.identity('pipeline-runner'),
    accountPrefix: 'mlp-test',
    artifactBucket: base.store.pipelineRoot,
    ...props,
  });
}
const manifests = (json: Json, kind: string) => resourcesOf(json, 'kubernetes_manifest').map((m) => m.manifest).filter((m) => m.kind === kind);

describe('ArgoWorkflows', () => {
  test('Helm release of the pinned argo-workflows chart in its own namespace, with typed values', () => {
    const base = workloadBase();
    const ns = new WorkloadNamespace(base.stack, 'namespace', { identities: base.identities.all });
    argo(base, { workloadNamespace: ns, controllerNodeSelector: base.cpuPool.nodeSelector() });
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(Release, {
      name: 'argo-workflows',
      chart: 'argo-workflows',
      repository: 'https://argoproj.github.io/argo-helm',
      version: ARGO_WORKFLOWS_CHART_VERSION,
      atomic: true,
      wait: true,
    });
    const json = synthJson(base.stack);
    const release = onlyResource(json, 'helm_release');
    expect(release.namespace).toMatch(/^\$\{kubernetes_namespace_v1\.argo_namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/);
    expect(release.depends_on).toEqual([
      expect.stringMatching(/^kubernetes_namespace_v1\.namespace_[0-9A-F]+$/),
      expect.stringMatching(/^kubernetes_service_account_v1\.namespace_ksa-pipeline-runner_/),
    ]);
    const values = JSON.parse(release.values[0]);
    expect(values).toMatchObject({
      crds: { install: true, keep: true },
      controller: {
        workflowNamespaces: ['ml-platform'],
        parallelism: 20,
        serviceAccount: { create: true, name: 'argo-workflows-controller', annotations: { 'iam.gke.io/gcp-service-account': expect.stringMatching(/^\$\{google_service_account\.argo_controller_service-account_[0-9A-F]+\.email\}$/) } },
        logging: { format: 'json' },
        workflowDefaults: { spec: { serviceAccountName: 'pipeline-runner', ttlStrategy: { secondsAfterCompletion: 604800 }, podGC: { strategy: 'OnPodSuccess' } } },
        nodeSelector: { 'cloud.google.com/gke-nodepool': 'general' },
      },
      workflow: { serviceAccount: { create: false, name: 'pipeline-runner' }, rbac: { create: true } },
      server: { enabled: true, authModes: ['client'], serviceType: 'ClusterIP' },
      artifactRepository: { archiveLogs: true, gcs: { bucket: 'acme-ml-test-pipeline-root' } },
      useStaticCredentials: false,
    });
    const namespaces = resourcesOf(json, 'kubernetes_namespace_v1').map((n) => n.metadata);
    expect(namespaces).toContainEqual(expect.objectContaining({ name: 'argo', labels: expect.objectContaining({ 'pod-security.kubernetes.io/warn': 'restricted' }) }));
    expect(values.controller.podSecurityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('the controller has its own Google service account bound to its KSA, log writing and read on the artifact bucket', () => {
    const base = workloadBase();
    argo(base);
    const json = synthJson(base.stack);
    expect(resourcesOf(json, 'google_service_account').map((a) => a.account_id)).toContain('mlp-test-argo');
    expect(resourcesOf(json, 'google_service_account_iam_member')).toContainEqual(expect.objectContaining({
      role: 'roles/iam.workloadIdentityUser', member: 'serviceAccount:acme-ml-test.svc.id.goog[argo/argo-workflows-controller]',
    }));
    const controller = (m: Json) => String(m.member).includes('argo_controller');
    expect(resourcesOf(json, 'google_project_iam_member').filter(controller).map((m) => m.role)).toEqual(['roles/logging.logWriter']);
    expect(resourcesOf(json, 'google_storage_bucket_iam_member').filter(controller).map((m) => m.role)).toEqual(['roles/storage.objectViewer']);
  });

  test('compiled WorkflowTemplates become kubernetes_manifest resources in the runner namespace; schedules become CronWorkflows', () => {
    const base = workloadBase();
    const a = argo(base, {
      workflowTemplates: [spine()],
      schedules: [{ workflowTemplate: 'spine-demo', schedule: '0 6 * * *', parameters: { count: '50' } }],
    });
    const json = synthJson(base.stack);
    const [template] = manifests(json, 'WorkflowTemplate');
    expect(template.metadata).toMatchObject({ name: 'spine-demo', namespace: 'ml-platform' });
    expect(template.spec.serviceAccountName).toBe('pipeline-runner');
    expect(template.spec.entrypoint).toBe('pipeline');
    expect(template.spec.templates.map((t: Json) => t.name)).toEqual(spine().spec.templates.map((t) => t.name));
    const [cron] = manifests(json, 'CronWorkflow');
    expect(cron).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'CronWorkflow',
      metadata: { name: 'spine-demo-schedule', namespace: 'ml-platform', labels: { 'app.kubernetes.io/managed-by': 'cdktf', 'mlp/pipeline': 'spine-demo' } },
      spec: {
        schedules: ['0 6 * * *'], timezone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3, suspend: false,
        workflowSpec: { workflowTemplateRef: { name: 'spine-demo' }, arguments: { parameters: [{ name: 'count', value: '50' }] } },
      },
    });
    const cronResource = resourcesOf(json, 'kubernetes_manifest').find((m) => m.manifest.kind === 'CronWorkflow')!;
    expect(cronResource.depends_on).toEqual([expect.stringMatching(/^helm_release\.argo_release_/), expect.stringMatching(/^kubernetes_manifest\.argo_template-spine-demo_/)]);
    expect(Object.keys(a.templates)).toEqual(['spine-demo']);
  });

  test('Terraform template sequences in compiled output are escaped, so Terraform passes them through', () => {
    const base = workloadBase();
    const t = spine();
    const withDollar: ArgoWorkflowTemplate = { ...t, spec: { ...t.spec, templates: [...t.spec.templates, { name: 'shell', script: { image: 'bash:5.2', source: 'echo ${HOME} %{x}' } }] } };
    argo(base, { workflowTemplates: [withDollar] });
    const [template] = manifests(synthJson(base.stack), 'WorkflowTemplate');
    expect(template.spec.templates.find((x: Json) => x.name === 'shell').script.source).toBe('echo $${HOME} %%{x}');
  });

  test('refuses what would break the install, naming the fix', () => {
    const base = workloadBase();
    expect(errorOf(() => argo(base, { chartVersion: '0.45.x' }, 'a1'))).toBe(
      `ArgoWorkflows 'test/a1': chartVersion '0.45.x' must be an exact version like ${ARGO_WORKFLOWS_CHART_VERSION} (no ranges: a pinned chart cannot change under a running platform).`);
    expect(errorOf(() => argo(base, { chartVersion: '0.41.0' }, 'a2'))).toBe(
      "ArgoWorkflows 'test/a2': chartVersion 0.41.0 installs Argo Workflows older than 3.6, which has no CronWorkflow 'schedules'; use 0.45.0 or later.");
    expect(errorOf(() => argo(base, { namespace: 'ml-platform' }, 'a3'))).toBe(
      "ArgoWorkflows 'test/a3': namespace 'ml-platform' is also the runner's namespace; install the controller into its own namespace (e.g. 'argo').");
    expect(errorOf(() => argo(base, { schedules: [{ workflowTemplate: 'flights', schedule: '0 3 * * *' }] }, 'a4'))).toBe(
      "ArgoWorkflows 'test/a4': schedule 'flights-schedule' runs WorkflowTemplate 'flights', which is not in workflowTemplates (none); add the compiled template or fix the name.");
    expect(errorOf(() => argo(base, { workflowTemplates: [spine()], schedules: [{ workflowTemplate: 'spine-demo', schedule: 'daily' }] }, 'a5'))).toBe(
      "ArgoWorkflows 'test/a5': schedule 'spine-demo-schedule' has cron 'daily'; use five fields like '0 3 * * *'.");
    expect(errorOf(() => argo(base, { workflowTemplates: [spine()], schedules: [{ workflowTemplate: 'spine-demo', schedule: '0 3 * * *', parameters: { span: '3' } }] }, 'a6'))).toBe(
      "ArgoWorkflows 'test/a6': schedule 'spine-demo-schedule' sets parameter 'span', which WorkflowTemplate 'spine-demo' does not declare (count, factor).");
    const other = { ...spine(), metadata: { ...spine().metadata, namespace: 'default' } };
    expect(errorOf(() => argo(base, { workflowTemplates: [other] }, 'a7'))).toBe(
      "ArgoWorkflows 'test/a7': WorkflowTemplate 'spine-demo' is for namespace 'default', but workflows run in 'ml-platform'; compile with --namespace ml-platform.");
    const sa = { ...spine(), spec: { ...spine().spec, serviceAccountName: 'default' } };
    expect(errorOf(() => argo(base, { workflowTemplates: [sa] }, 'a8'))).toBe(
      "ArgoWorkflows 'test/a8': WorkflowTemplate 'spine-demo' runs as service account 'default', but the runner is 'pipeline-runner'; compile with --service-account pipeline-runner.");
    expect(errorOf(() => argo(base, { accountPrefix: 'a-much-too-long-account-prefix' }, 'a9'))).toMatch(/^ServiceAccountIdentity 'test\/a9\/controller': accountId 'a-much-too-long-account-prefix-argo' must be 6-30/);
  });

  test('parseArgoWorkflowTemplate names the file and the missing field', () => {
    expect(errorOf(() => parseArgoWorkflowTemplate({ apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow' }, 'argo/x.json'))).toBe(
      'argo/x.json: kind is "CronWorkflow", expected "WorkflowTemplate"; compile it with `mlp compile <pipeline> --target argo` (without --schedule).');
    expect(errorOf(() => parseArgoWorkflowTemplate({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name: 'x' }, spec: {} }, 'argo/x.json'))).toMatch(/spec\.entrypoint is missing/);
  });
});
