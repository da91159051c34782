// DataTransfer: Storage Transfer jobs from S3 (role ARN, federated identity), another bucket and on-premises POSIX
// (agent pool), scheduled or event-driven, with Pub/Sub notifications and least-privilege grants to the transfer agent.
import { Testing } from 'cdktf';
import { StorageTransferJob } from '@cdktf/provider-google/lib/storage-transfer-job';
import { DataTransfer, DataTransferProps } from '../../constructs/data-transfer';
import { ExistingBucket } from '../../constructs/artifact-store';
import { Json, WorkloadBase, errorOf, onlyResource, resourcesOf, synthJson, workloadBase } from './helpers';

const daily = { kind: 'schedule', startDate: '2025-01-01' } as const;

function transfer(base: WorkloadBase, props: Partial<DataTransferProps> & Pick<DataTransferProps, 'source'>, id = 'transfer') {
  return new DataTransfer(base.stack, id, { name: 'flights-in', project: 'acme-ml-test', sink: base.store.rawData, trigger: daily, ...props });
}
const agentMember = (json: Json) => `serviceAccount:\${data.google_storage_transfer_project_service_account.${Object.keys(json.data.google_storage_transfer_project_service_account)[0]}.email}`;
const bucketGrants = (json: Json) => resourcesOf(json, 'google_storage_bucket_iam_member').map((m) => ({ bucket: String(m.bucket).replace(/^\$\{google_storage_bucket\.artifacts_([a-z-]+)_bucket_[0-9A-F]+\.name\}$/, 'store:$1'), role: m.role, member: m.member }));

describe('DataTransfer', () => {
  test('another bucket, daily: the job, the source grants (objectViewer + legacyBucketReader) and the sink grant (legacyBucketWriter) for the agent', () => {
    const base = workloadBase();
    const source = ExistingBucket.fromName(base.stack, 'landing', 'acme-data-landing');
    transfer(base, { source: { kind: 'gcs', bucket: source, path: 'flights/' }, includePrefixes: ['2025/'] });
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(StorageTransferJob, {
      name: 'transferJobs/flights-in',
      status: 'ENABLED',
      transfer_spec: {
        gcs_data_source: { bucket_name: 'acme-data-landing', path: 'flights/' },
        gcs_data_sink: { bucket_name: 'acme-ml-test-raw-data', path: 'flights-in/' },
        object_conditions: { include_prefixes: ['2025/'] },
        transfer_options: { overwrite_when: 'DIFFERENT', delete_objects_from_source_after_transfer: false, delete_objects_unique_in_sink: false },
      },
      schedule: { schedule_start_date: { year: 2025, month: 1, day: 1 }, start_time_of_day: { hours: 2, minutes: 0, seconds: 0, nanos: 0 }, repeat_interval: '86400s' },
      logging_config: { log_actions: ['FIND', 'COPY', 'DELETE'], log_action_states: ['SUCCEEDED', 'FAILED'] },
    });
    const json = synthJson(base.stack);
    const agent = agentMember(json);
    expect(bucketGrants(json).filter((g) => g.member === agent)).toEqual(expect.arrayContaining([
      { bucket: 'acme-data-landing', role: 'roles/storage.objectViewer', member: agent },
      { bucket: 'acme-data-landing', role: 'roles/storage.legacyBucketReader', member: agent },
      { bucket: 'store:raw-data', role: 'roles/storage.legacyBucketWriter', member: agent },
    ]));
    expect(bucketGrants(json).filter((g) => g.member === agent)).toHaveLength(3);
    expect(Object.keys(json.data.google_storage_transfer_project_service_account)).toHaveLength(1);
  });

  test('notifications: a topic the agent may publish to, referenced by the job', () => {
    const base = workloadBase();
    transfer(base, { source: { kind: 'gcs', bucket: ExistingBucket.fromName(base.stack, 'landing', 'acme-data-landing') } });
    const json = synthJson(base.stack);
    expect(onlyResource(json, 'google_pubsub_topic')).toMatchObject({ name: 'flights-in-transfer-events' });
    expect(onlyResource(json, 'google_pubsub_topic_iam_member')).toMatchObject({ role: 'roles/pubsub.publisher', member: agentMember(json) });
    expect(onlyResource(json, 'google_storage_transfer_job').notification_config).toEqual({
      pubsub_topic: expect.stringMatching(/^\$\{google_pubsub_topic\.transfer_notifications_[0-9A-F]+\.id\}$/),
      payload_format: 'JSON',
      event_types: ['TRANSFER_OPERATION_SUCCESS', 'TRANSFER_OPERATION_FAILED', 'TRANSFER_OPERATION_ABORTED'],
    });
  });

  test('S3 through an AWS role on an SQS event stream; the agent subject id is an output for the trust policy', () => {
    const base = workloadBase();
    transfer(base, {
      source: { kind: 's3', bucket: 'acme-partner-exports', roleArn: 'arn:aws:iam::123456789012:role/gcs-transfer', path: 'flights/' },
      trigger: { kind: 'event-stream', streamName: 'arn:aws:sqs:us-east-1:123456789012:exports-events' },
      notifications: false,
    });
    const json = synthJson(base.stack);
    const job = onlyResource(json, 'google_storage_transfer_job');
    expect(job.transfer_spec.aws_s3_data_source).toEqual({ bucket_name: 'acme-partner-exports', path: 'flights/', role_arn: 'arn:aws:iam::123456789012:role/gcs-transfer' });
    expect(job.event_stream).toEqual({ name: 'arn:aws:sqs:us-east-1:123456789012:exports-events' });
    expect(job.schedule).toBeUndefined();
    expect(job.notification_config).toBeUndefined();
    const output = Object.entries(json.output).find(([k]) => k.includes('aws-trust-subject'))![1] as Json;
    expect(output.value).toMatch(/^\$\{data\.google_storage_transfer_project_service_account\.[^.]+\.subject_id\}$/);
  });

  test('on-premises POSIX through an agent pool; the agents\' account gets transferAgent and write on the sink', () => {
    const base = workloadBase();
    const t = transfer(base, { source: { kind: 'posix', rootDirectory: '/mnt/exports/flights', bandwidthLimitMbps: 100 }, accountPrefix: 'mlp-test' });
    const json = synthJson(base.stack);
    expect(onlyResource(json, 'google_storage_transfer_agent_pool')).toMatchObject({ name: 'flights-in-agents', bandwidth_limit: { limit_mbps: '100' } });
    const job = onlyResource(json, 'google_storage_transfer_job');
    expect(job.transfer_spec).toMatchObject({
      posix_data_source: { root_directory: '/mnt/exports/flights' },
      source_agent_pool_name: expect.stringMatching(/^\$\{google_storage_transfer_agent_pool\.transfer_agent-pool_[0-9A-F]+\.id\}$/),
    });
    expect(job.logging_config).toEqual({ enable_on_prem_gcs_transfer_logs: true });
    expect(resourcesOf(json, 'google_project_iam_member').filter((m) => String(m.member).includes('transfer_agents')).map((m) => m.role)).toEqual(['roles/storagetransfer.transferAgent']);
    expect(bucketGrants(json).filter((g) => g.member.includes('transfer_agents')).map((g) => `${g.bucket} ${g.role}`)).toEqual(['store:raw-data roles/storage.objectUser']);
    expect(t.agents!.emailAddress).toBe('mlp-test-sts-agents@acme-ml-test.iam.gserviceaccount.com');
  });

  test('a Cloud Storage event stream grants the agent subscriber on the subscription', () => {
    const base = workloadBase();
    transfer(base, {
      source: { kind: 'gcs', bucket: ExistingBucket.fromName(base.stack, 'landing', 'acme-data-landing') },
      trigger: { kind: 'event-stream', streamName: 'projects/acme-ml-test/subscriptions/landing-events' },
    });
    const json = synthJson(base.stack);
    expect(onlyResource(json, 'google_pubsub_subscription_iam_member')).toMatchObject({ subscription: 'projects/acme-ml-test/subscriptions/landing-events', role: 'roles/pubsub.subscriber', member: agentMember(json) });
  });

  test('refuses keys instead of roles, wrong event streams and relative roots, naming the fix', () => {
    const base = workloadBase();
    const landing = ExistingBucket.fromName(base.stack, 'landing', 'acme-data-landing');
    expect(errorOf(() => transfer(base, { source: { kind: 's3', bucket: 'partner', roleArn: 'AKIAIOSFODNN7EXAMPLE' } }, 't1'))).toBe(
      "DataTransfer 'test/t1': roleArn 'AKIAIOSFODNN7EXAMPLE' is not an IAM role ARN like arn:aws:iam::123456789012:role/gcs-transfer; use a role (federated identity), never access keys.");
    expect(errorOf(() => transfer(base, { source: { kind: 'gcs', bucket: landing }, trigger: { kind: 'event-stream', streamName: 'arn:aws:sqs:us-east-1:123456789012:q' } }, 't2'))).toBe(
      "DataTransfer 'test/t2': event stream 'arn:aws:sqs:us-east-1:123456789012:q' of a Cloud Storage source must be a Pub/Sub subscription like projects/acme/subscriptions/landing-events (fed by the source bucket's notifications).");
    expect(errorOf(() => transfer(base, { source: { kind: 'posix', rootDirectory: 'exports' }, accountPrefix: 'mlp-test' }, 't3'))).toBe(
      "DataTransfer 'test/t3': rootDirectory 'exports' must be an absolute path.");
    expect(errorOf(() => transfer(base, { source: { kind: 'posix', rootDirectory: '/exports' }, trigger: { kind: 'event-stream', streamName: 'x' }, accountPrefix: 'mlp-test' }, 't4'))).toBe(
      "DataTransfer 'test/t4': POSIX sources cannot be event-driven (event streams exist for S3 and Cloud Storage); use a schedule.");
    expect(errorOf(() => transfer(base, { source: { kind: 'gcs', bucket: landing }, trigger: { kind: 'schedule', startDate: '2025-13-45' } }, 't5'))).toBe(
      "DataTransfer 'test/t5': startDate '2025-13-45' must be a date like 2026-01-31.");
    expect(errorOf(() => transfer(base, { source: { kind: 'gcs', bucket: landing }, sinkPath: '/abs/' }, 't6'))).toBe(
      "DataTransfer 'test/t6': sinkPath '/abs/' must be a relative prefix ending with '/', e.g. 'flights/'.");
  });
});
