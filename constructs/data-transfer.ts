// DataTransfer: a Storage Transfer Service job that lands data in the raw-data bucket - from Amazon S3 (federated
// identity through an AWS role, no keys), another Cloud Storage bucket, or an on-premises POSIX file system through an
// agent pool - on a schedule or an event stream, with Pub/Sub notifications of every run and least-privilege grants to
// the transfer service agent through the bucket grant methods.
import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { StorageTransferJob, StorageTransferJobTransferSpec } from '@cdktf/provider-google/lib/storage-transfer-job';
import { StorageTransferAgentPool } from '@cdktf/provider-google/lib/storage-transfer-agent-pool';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { ConstructValidationError } from './errors';
import { googleManagedKeyReason, kmsKeyProblem } from './cmek';
import { PolicyPack } from './policy/policy-pack';
import { IGrantableBucket, StorageTransferAgent } from './artifact-store';
import { ProjectServices } from './project-services';
import { ServiceAccountIdentity } from './service-account-identity';

/** Amazon S3 through federated identity: the AWS role trusts the transfer agent's Google subject id (output `aws-trust-subject`). */
export interface S3TransferSource {
  readonly kind: 's3';
  /** S3 bucket name. */
  readonly bucket: string;
  /** ARN of the AWS IAM role the agent assumes (`arn:aws:iam::<account>:role/<name>`). */
  readonly roleArn: string;
  /**
   * Prefix inside the bucket (ends with '/').
   * @default - the whole bucket
   */
  readonly path?: string;
}
/** Another Cloud Storage bucket (granted objectViewer + legacyBucketReader for the agent through its grant methods). */
export interface GcsTransferSource {
  readonly kind: 'gcs';
  readonly bucket: IGrantableBucket;
  /**
   * Prefix inside the bucket (ends with '/').
   * @default - the whole bucket
   */
  readonly path?: string;
}
/** An on-premises POSIX file system read by transfer agents of a pool created here. */
export interface PosixTransferSource {
  readonly kind: 'posix';
  /** Directory the agents read, e.g. `/mnt/exports/flights`. */
  readonly rootDirectory: string;
  /**
   * Bandwidth cap of the pool's agents in MB/s.
   * @default - unlimited
   */
  readonly bandwidthLimitMbps?: number;
}
export type TransferSource = S3TransferSource | GcsTransferSource | PosixTransferSource;

/** Run on a schedule (UTC). */
export interface ScheduledTransfer {
  readonly kind: 'schedule';
  /** First day, `YYYY-MM-DD`. */
  readonly startDate: string;
  /**
   * Time of day the runs start, `HH:MM` UTC.
   * @default '02:00'
   */
  readonly startTimeUtc?: string;
  /**
   * Hours between runs (1-720).
   * @default 24
   */
  readonly repeatIntervalHours?: number;
}
/** Run on every change the source announces: an SQS queue ARN (S3) or a Pub/Sub subscription (Cloud Storage). */
export interface EventStreamTransfer {
  readonly kind: 'event-stream';
  /** `arn:aws:sqs:<region>:<account>:<queue>` for S3, `projects/<p>/subscriptions/<s>` for Cloud Storage. */
  readonly streamName: string;
}
export type TransferTrigger = ScheduledTransfer | EventStreamTransfer;

export interface DataTransferProps {
  /** Short name (job `transferJobs/<name>`, topic `<name>-transfer-events`); lowercase, 3-40 chars. */
  readonly name: string;
  /** Project of the job, topic and agent pool. */
  readonly project: string;
  /** Where the data lands (the store's raw-data bucket); the agent gets legacyBucketWriter through grantTransferSink. */
  readonly sink: IGrantableBucket;
  readonly source: TransferSource;
  readonly trigger: TransferTrigger;
  /**
   * Prefix in the sink (ends with '/').
   * @default `<name>/`
   */
  readonly sinkPath?: string;
  /**
   * Only objects/files under these prefixes (relative to the source path).
   * @default - everything
   */
  readonly includePrefixes?: readonly string[];
  /**
   * Publish a JSON message to a Pub/Sub topic when a run succeeds, fails or is aborted.
   * @default true
   */
  readonly notifications?: boolean;
  /**
   * Cloud KMS key for the Pub/Sub topic of run notifications (`projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`); the Pub/Sub
   * service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on it.
   * @default - Google-managed encryption keys; CKV_GCP_83 is suppressed with that reason
   */
  readonly kmsKeyName?: string;
  /**
   * Prefix of the POSIX agents' service account id (`<prefix>-sts-agents`); required for posix sources.
   * @default - none
   */
  readonly accountPrefix?: string;
}

/**
 * Construct ids: `job`, `notifications` + `notifications-publisher` (topic and the agent's publisher grant),
 * `event-stream-subscriber`, `agent-pool` + `agents` (POSIX), `aws-trust-subject` (S3, output).
 */
export class DataTransfer extends Construct {
  readonly job: StorageTransferJob;
  readonly topic?: PubsubTopic;
  readonly agentPool?: StorageTransferAgentPool;
  /** Service account the on-premises agents run as (POSIX). */
  readonly agents?: ServiceAccountIdentity;
  /** `transferJobs/<name>` */
  readonly jobName: string;

  constructor(scope: Construct, id: string, props: DataTransferProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('DataTransfer', this, msg);
    if (!/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/.test(props.name)) throw fail(`name '${props.name}' must be 3-40 lowercase letters, digits or '-', starting with a letter.`);
    if (props.name.startsWith('goog')) throw fail(`name '${props.name}' may not start with 'goog'.`);
    const prefixOk = (p: string | undefined) => p === undefined || (/^[^/].*\/$/.test(p) && !p.includes('..'));
    const sinkPath = props.sinkPath ?? `${props.name}/`;
    if (!prefixOk(sinkPath)) throw fail(`sinkPath '${sinkPath}' must be a relative prefix ending with '/', e.g. 'flights/'.`);
    const source = props.source;
    const trigger = props.trigger;
    switch (source.kind) {
      case 's3':
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(source.bucket)) throw fail(`S3 bucket '${source.bucket}' is not an S3 bucket name.`);
        if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(source.roleArn)) throw fail(`roleArn '${source.roleArn}' is not an IAM role ARN like arn:aws:iam::123456789012:role/gcs-transfer; use a role (federated identity), never access keys.`);
        if (!prefixOk(source.path)) throw fail(`source path '${source.path}' must be a relative prefix ending with '/'.`);
        if (trigger.kind === 'event-stream' && !/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[\w-]+$/.test(trigger.streamName)) {
          throw fail(`event stream '${trigger.streamName}' of an S3 source must be an SQS queue ARN like arn:aws:sqs:us-east-1:123456789012:landing-events.`);
        }
        break;
      case 'gcs':
        if (!prefixOk(source.path)) throw fail(`source path '${source.path}' must be a relative prefix ending with '/'.`);
        if (source.bucket.bucketName === props.sink.bucketName && (source.path ?? '') === '') throw fail('source and sink are the same bucket; transfer from a different bucket or a different prefix.');
        if (trigger.kind === 'event-stream' && !/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][\w.~+%-]{2,254}$/.test(trigger.streamName)) {
          throw fail(`event stream '${trigger.streamName}' of a Cloud Storage source must be a Pub/Sub subscription like projects/acme/subscriptions/landing-events (fed by the source bucket's notifications).`);
        }
        break;
      case 'posix':
        if (!/^\/[^\0]*$/.test(source.rootDirectory) || source.rootDirectory.includes('..')) throw fail(`rootDirectory '${source.rootDirectory}' must be an absolute path.`);
        if (trigger.kind === 'event-stream') throw fail('POSIX sources cannot be event-driven (event streams exist for S3 and Cloud Storage); use a schedule.');
        if (!props.accountPrefix) throw fail('POSIX sources need accountPrefix for the agents\' service account (`<prefix>-sts-agents`).');
        if (source.bandwidthLimitMbps !== undefined && (!Number.isInteger(source.bandwidthLimitMbps) || source.bandwidthLimitMbps < 1)) {
          throw fail(`bandwidthLimitMbps ${source.bandwidthLimitMbps} must be a positive integer.`);
        }
        break;
    }
    if (trigger.kind === 'schedule') {
      const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trigger.startDate);
      if (!date || Number.isNaN(Date.parse(`${trigger.startDate}T00:00:00Z`))) throw fail(`startDate '${trigger.startDate}' must be a date like 2026-01-31.`);
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(trigger.startTimeUtc ?? '02:00')) throw fail(`startTimeUtc '${trigger.startTimeUtc}' must be HH:MM.`);
      const hours = trigger.repeatIntervalHours ?? 24;
      if (!Number.isInteger(hours) || hours < 1 || hours > 720) throw fail(`repeatIntervalHours ${hours} must be an integer between 1 and 720.`);
    }
    for (const p of props.includePrefixes ?? []) {
      if (!p || p.startsWith('/')) throw fail(`includePrefixes entry '${p}' must be a relative prefix.`);
    }
    const keyProblem = kmsKeyProblem(props.kmsKeyName);
    if (keyProblem) throw fail(`${keyProblem}.`);

    this.jobName = `transferJobs/${props.name}`;
    const agent = StorageTransferAgent.of(this);
    const api = ProjectServices.of(this).enable('storagetransfer.googleapis.com', props.project);

    // Least privilege for the service agent, through the buckets' grant methods.
    props.sink.grantTransferSink();
    if (source.kind === 'gcs') source.bucket.grantTransferSource();
    if (trigger.kind === 'event-stream' && source.kind === 'gcs') {
      new PubsubSubscriptionIamMember(this, 'event-stream-subscriber', { subscription: trigger.streamName, role: 'roles/pubsub.subscriber', member: agent.iamMember });
    }

    if (props.notifications ?? true) {
      this.topic = new PubsubTopic(this, 'notifications', {
        name: `${props.name}-transfer-events`,
        project: props.project,
        messageRetentionDuration: '604800s',
        labels: { 'mlp-transfer': props.name },
        kmsKeyName: props.kmsKeyName,
      });
      if (!props.kmsKeyName) PolicyPack.suppress(this.topic, 'CKV_GCP_83', googleManagedKeyReason('the topic'));
      new PubsubTopicIamMember(this, 'notifications-publisher', { topic: this.topic.id, role: 'roles/pubsub.publisher', member: agent.iamMember });
    }

    if (source.kind === 'posix') {
      this.agentPool = new StorageTransferAgentPool(this, 'agent-pool', {
        name: `${props.name}-agents`,
        project: props.project,
        displayName: `${props.name} on-premises agents`,
        bandwidthLimit: source.bandwidthLimitMbps ? { limitMbps: String(source.bandwidthLimitMbps) } : undefined,
        dependsOn: [api],
      });
      // Agents authenticate as this account (workload identity federation or the host's identity; no keys).
      this.agents = new ServiceAccountIdentity(this, 'agents', {
        accountId: `${props.accountPrefix}-sts-agents`,
        project: props.project,
        displayName: `Storage Transfer agents of ${props.name}`,
        principalId: `${props.name}-agents`,
        projectRoles: ['roles/storagetransfer.transferAgent'],
      });
      props.sink.grantWrite(this.agents);
    }
    if (source.kind === 's3') {
      new TerraformOutput(this, 'aws-trust-subject', {
        value: agent.subjectId,
        description: `Subject id the AWS role ${source.roleArn} must trust (accounts.google.com:sub) for transfer ${props.name}`,
      });
    }

    const conditions = props.includePrefixes?.length ? { includePrefixes: [...props.includePrefixes] } : undefined;
    const transferSpec: StorageTransferJobTransferSpec = {
      gcsDataSink: { bucketName: props.sink.bucketName, path: sinkPath },
      awsS3DataSource: source.kind === 's3' ? { bucketName: source.bucket, path: source.path, roleArn: source.roleArn } : undefined,
      gcsDataSource: source.kind === 'gcs' ? { bucketName: source.bucket.bucketName, path: source.path } : undefined,
      posixDataSource: source.kind === 'posix' ? { rootDirectory: source.rootDirectory } : undefined,
      sourceAgentPoolName: this.agentPool?.id,
      objectConditions: conditions,
      transferOptions: { overwriteWhen: 'DIFFERENT', deleteObjectsFromSourceAfterTransfer: false, deleteObjectsUniqueInSink: false },
    };
    this.job = new StorageTransferJob(this, 'job', {
      name: this.jobName,
      project: props.project,
      description: `${props.name}: ${describeSource(source)} -> ${props.sink.url}/${sinkPath}`,
      status: 'ENABLED',
      transferSpec,
      schedule: trigger.kind === 'schedule' ? makeSchedule(trigger) : undefined,
      eventStream: trigger.kind === 'event-stream' ? { name: trigger.streamName } : undefined,
      notificationConfig: this.topic
        ? { pubsubTopic: this.topic.id, payloadFormat: 'JSON', eventTypes: ['TRANSFER_OPERATION_SUCCESS', 'TRANSFER_OPERATION_FAILED', 'TRANSFER_OPERATION_ABORTED'] }
        : undefined,
      loggingConfig: source.kind === 'posix'
        ? { enableOnPremGcsTransferLogs: true }
        : { logActions: ['FIND', 'COPY', 'DELETE'], logActionStates: ['SUCCEEDED', 'FAILED'] },
      dependsOn: [api],
    });
  }
}

function describeSource(source: TransferSource): string {
  switch (source.kind) {
    case 's3': return `s3://${source.bucket}/${source.path ?? ''}`;
    case 'gcs': return `${source.bucket.url}/${source.path ?? ''}`;
    case 'posix': return `posix:${source.rootDirectory}`;
  }
}

function makeSchedule(t: ScheduledTransfer): NonNullable<ConstructorParameters<typeof StorageTransferJob>[2]['schedule']> {
  const [year, month, day] = t.startDate.split('-').map(Number);
  const [hours, minutes] = (t.startTimeUtc ?? '02:00').split(':').map(Number);
  return {
    scheduleStartDate: { year, month, day },
    startTimeOfDay: { hours, minutes, seconds: 0, nanos: 0 },
    repeatInterval: `${(t.repeatIntervalHours ?? 24) * 3600}s`,
  };
}
