// ArtifactStore: the platform's Cloud Storage buckets (raw data, pipeline root, models, staging, access logs), secure by
// default, with lifecycle presets or Autoclass, optional CMEK (with the storage agent's key grant), dual-region placement
// and a hierarchical-namespace pipeline root, and least-privilege grant methods including the Storage Transfer Service
// agent's roles. Combinations Cloud Storage rejects (retention policy or hierarchical namespace with versioning) are
// refused at construction.
import { Construct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { StorageBucket, StorageBucketLifecycleRule } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { DataGoogleStorageTransferProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-transfer-project-service-account';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account';
import { grantKeyToAgent } from './cmek';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { IPrincipal, placeGrant } from './principal';
import { PolicyPack } from './policy/policy-pack';

/** The Storage Transfer Service agent of the provider's project (one per stack, id `storage-transfer-agent`). */
export class StorageTransferAgent extends Construct implements IPrincipal {
  /** Returns the stack's agent, creating the data source on first use. */
  static of(scope: Construct): StorageTransferAgent {
    const stack = TerraformStack.of(scope);
    return (stack.node.tryFindChild('storage-transfer-agent') as StorageTransferAgent | undefined) ?? new StorageTransferAgent(stack, 'storage-transfer-agent');
  }
  readonly principalId = 'transfer-agent';
  readonly iamMember: string;
  readonly email: string;
  /** Subject id of the agent's Google identity: what an AWS role's trust policy names for federated S3 access. */
  readonly subjectId: string;
  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const data = new DataGoogleStorageTransferProjectServiceAccount(this, 'account', {});
    this.email = data.email;
    this.subjectId = data.subjectId;
    this.iamMember = `serviceAccount:${data.email}`;
  }
}

/** Role slugs used in IAM construct ids (`<slug>-<principalId>`): a contract. */
const ROLE_SLUGS: { readonly [role: string]: string } = {
  'roles/storage.objectViewer': 'read',
  'roles/storage.objectUser': 'write',
  'roles/storage.legacyBucketReader': 'transfer-bucket-read',
  'roles/storage.legacyBucketWriter': 'transfer-bucket-write',
  'roles/storage.objectCreator': 'create',
};

/** A bucket IAM roles can be granted on: an ArtifactBucket of a store, or an existing bucket by name. */
export interface IGrantableBucket {
  /** Bucket name (literal). */
  readonly bucketName: string;
  /** `gs://<name>` */
  readonly url: string;
  /** Read objects (roles/storage.objectViewer). */
  grantRead(principal: IPrincipal): void;
  /** Read, create, overwrite and delete objects, no IAM changes (roles/storage.objectUser). */
  grantWrite(principal: IPrincipal): void;
  /** The Storage Transfer Service agent may read this bucket as a transfer source (objectViewer + legacyBucketReader). */
  grantTransferSource(agent?: IPrincipal): void;
  /** The Storage Transfer Service agent may write this bucket as a transfer sink (legacyBucketWriter). */
  grantTransferSink(agent?: IPrincipal): void;
}

/** Grant methods shared by ArtifactBucket and ExistingBucket. */
abstract class GrantableBucket extends Construct implements IGrantableBucket {
  abstract readonly bucketName: string;
  /** What the IAM binding's `bucket` refers to inside this construct's stack (a token keeps the dependency). */
  protected abstract bucketRef(): string;

  /** `gs://<name>` */
  get url(): string { return `gs://${this.bucketName}`; }

  grantRead(principal: IPrincipal): void { this.grant(principal, 'roles/storage.objectViewer'); }
  grantWrite(principal: IPrincipal): void { this.grant(principal, 'roles/storage.objectUser'); }
  grantTransferSource(agent: IPrincipal = StorageTransferAgent.of(this)): void {
    this.grant(agent, 'roles/storage.objectViewer');
    this.grant(agent, 'roles/storage.legacyBucketReader');
  }
  grantTransferSink(agent: IPrincipal = StorageTransferAgent.of(this)): void {
    this.grant(agent, 'roles/storage.legacyBucketWriter');
  }
  /**
   * @internal Grants `role`. Construct id `<role-slug>-<principalId>` under the bucket; when the principal is a
   * construct of a stack that depends on this one, `<role-slug>-<bucket name>` under the principal (see placeGrant).
   */
  grant(principal: IPrincipal, role: string): StorageBucketIamMember {
    const slug = ROLE_SLUGS[role] ?? role.replace(/^roles\//, '').replace(/\./g, '-');
    const placement = placeGrant(this, principal);
    const id = placement.inPrincipalStack ? `${slug}-${this.bucketName}` : `${slug}-${principal.principalId}`;
    const existing = placement.scope.node.tryFindChild(id) as StorageBucketIamMember | undefined;
    return existing ?? new StorageBucketIamMember(placement.scope, id, {
      bucket: placement.inPrincipalStack ? this.bucketName : this.bucketRef(),
      role,
      member: principal.iamMember,
    });
  }
}

/** One bucket of the store with its grant methods. */
export class ArtifactBucket extends GrantableBucket {
  readonly bucket: StorageBucket;
  /** Bucket name (literal). */
  readonly bucketName: string;

  constructor(scope: Construct, id: string, bucket: (scope: Construct) => StorageBucket, bucketName: string) {
    super(scope, id);
    this.bucket = bucket(this);
    this.bucketName = bucketName;
  }

  protected bucketRef(): string { return this.bucket.name; }
}

/**
 * A bucket this code does not manage (another team's landing bucket, a partner's export), by name, so transfers and
 * workloads can be granted on it with the same methods. Grants are created under this construct, in its stack.
 */
export class ExistingBucket extends GrantableBucket {
  /** An existing bucket by name. */
  static fromName(scope: Construct, id: string, bucketName: string): ExistingBucket {
    return new ExistingBucket(scope, id, bucketName);
  }
  readonly bucketName: string;
  private constructor(scope: Construct, id: string, bucketName: string) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucketName)) {
      throw new ConstructValidationError('ExistingBucket', this, `bucket name '${bucketName}' is not a Cloud Storage bucket name; use 3-222 lowercase letters, digits, '-', '_' or '.'.`);
    }
    this.bucketName = bucketName;
  }
  protected bucketRef(): string { return this.bucketName; }
}

/** Predefined dual-region locations (turbo replication applies to them without custom placement). */
const PREDEFINED_DUAL_REGIONS = ['NAM4', 'EUR4', 'EUR5', 'EUR7', 'EUR8', 'ASIA1'];
/** Region names each multi-region's configurable dual-regions may combine. */
const MULTI_REGION_PREFIXES: { readonly [multiRegion: string]: RegExp } = { US: /^(US|NORTHAMERICA)-[A-Z]+\d+$/, EU: /^EUROPE-[A-Z]+\d+$/, ASIA: /^ASIA-[A-Z]+\d+$/ };

/** The two uppercase regions of a configurable dual-region, or an error naming what to change. */
function validateDualRegion(location: string, regions: readonly string[], fail: (msg: string) => Error): string[] {
  const multi = location.toUpperCase();
  const pattern = MULTI_REGION_PREFIXES[multi];
  if (!pattern) throw fail(`dualRegion needs location to be the multi-region US, EU or ASIA (it names the continent of the two regions), not '${location}'.`);
  const upper = regions.map((r) => r.toUpperCase());
  if (upper.length !== 2 || upper[0] === upper[1]) throw fail(`dualRegion must name exactly two different regions, got ${JSON.stringify(regions)}.`);
  const foreign = upper.find((r) => !pattern.test(r));
  if (foreign) throw fail(`dualRegion region '${foreign}' is not a region of the ${multi} multi-region; use two regions like ${multi === 'US' ? 'US-CENTRAL1 and US-EAST1' : multi === 'EU' ? 'EUROPE-WEST1 and EUROPE-WEST4' : 'ASIA-EAST1 and ASIA-SOUTHEAST1'}.`);
  return upper;
}

export interface ArtifactStoreProps {
  /** Globally unique bucket name prefix; buckets are `<prefix>-raw-data`, `-pipeline-root`, `-models`, `-staging`, `-access-logs`. */
  readonly bucketPrefix: string;
  /** Bucket location, e.g. `US-CENTRAL1` or `US`. */
  readonly location: string;
  /**
   * Project of the buckets.
   * @default - the provider's project
   */
  readonly project?: string;
  /**
   * Days after which staging objects and `tmp/` objects under the pipeline root are deleted.
   * @default 7
   */
  readonly tempArtifactTtlDays?: number;
  /**
   * Days after which raw data moves to Nearline.
   * @default 30
   */
  readonly rawDataNearlineAfterDays?: number;
  /**
   * Days after which raw data moves to Coldline.
   * @default 90
   */
  readonly rawDataColdlineAfterDays?: number;
  /**
   * Days a noncurrent (overwritten/deleted) object version is kept.
   * @default 30
   */
  readonly noncurrentVersionTtlDays?: number;
  /**
   * Soft delete retention in days (0 turns soft delete off; max 90).
   * @default 7
   */
  readonly softDeleteRetentionDays?: number;
  /**
   * Cloud KMS key for CMEK (`projects/.../cryptoKeys/...`), the default key of every bucket. The key must be in the
   * buckets' location (a dual-region bucket takes a key of its multi-region, e.g. `us`).
   * @default - Google-managed encryption keys
   */
  readonly kmsKeyName?: string;
  /**
   * Grant the project's Cloud Storage service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on `kmsKeyName` (without
   * it every write to a CMEK bucket fails). Turn off when the key's owners grant it themselves.
   * @default true
   */
  readonly grantKmsKeyToStorageAgent?: boolean;
  /**
   * Retention policy on raw data in days (objects cannot be deleted or overwritten before). Cloud Storage does not
   * allow a retention policy and Object Versioning on one bucket, so this needs `rawDataVersioning: false`.
   * @default - no retention policy
   */
  readonly rawDataRetentionDays?: number;
  /**
   * Object Versioning on the raw-data bucket (overwritten and deleted objects stay noncurrent for
   * noncurrentVersionTtlDays). Must be false with rawDataRetentionDays.
   * @default true
   */
  readonly rawDataVersioning?: boolean;
  /**
   * Autoclass on the long-lived buckets (raw data, pipeline root, models): each object moves between Standard and
   * colder classes by its own access pattern, and back to Standard when read. Replaces the raw-data Nearline/Coldline
   * lifecycle rules (Autoclass buckets take no SetStorageClass rules), so rawDataNearlineAfterDays and
   * rawDataColdlineAfterDays must then be unset.
   * @default false
   */
  readonly autoclass?: boolean;
  /**
   * Coldest class Autoclass moves objects to.
   * @default 'NEARLINE'
   */
  readonly autoclassTerminalStorageClass?: 'NEARLINE' | 'ARCHIVE';
  /**
   * Hierarchical namespace on the pipeline-root bucket: real folders, atomic folder renames and a higher initial QPS
   * for checkpoint and artifact writes. Only settable when the bucket is created (changing it replaces the bucket).
   * Cloud Storage requires uniform bucket-level access (always on here) and allows neither Object Versioning nor a
   * retention policy with it, so this needs `pipelineRootVersioning: false`.
   * @default false
   */
  readonly pipelineRootHierarchicalNamespace?: boolean;
  /**
   * Object Versioning on the pipeline-root bucket. Must be false with pipelineRootHierarchicalNamespace.
   * @default true
   */
  readonly pipelineRootVersioning?: boolean;
  /**
   * Dual-region placement: the two regions of `location`'s continent that hold every bucket's data, e.g. location `US`
   * with `['US-CENTRAL1', 'US-EAST1']` (`location` must then be the multi-region `US`, `EU` or `ASIA`).
   * @default - the single location `location`
   */
  readonly dualRegion?: readonly string[];
  /**
   * Turbo replication (15-minute RPO) for a dual-region placement (`dualRegion`, or a predefined dual-region
   * `location` such as `NAM4`).
   * @default false
   */
  readonly turboReplication?: boolean;
  /**
   * Days access logs are kept.
   * @default 365
   */
  readonly accessLogTtlDays?: number;
  /**
   * Let `terraform destroy` delete non-empty buckets.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /**
   * Labels on every bucket.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/**
 * The platform's buckets. Construct ids: `raw-data`, `pipeline-root`, `models`, `staging`, `access-logs`, each holding `bucket`
 * (with kmsKeyName also `storage-agent` and `kms-storage-agent`).
 * Every bucket: uniform bucket-level access, public access prevention enforced, versioning (unless turned off for a
 * retention policy or hierarchical namespace), soft delete; data buckets log access to `access-logs`.
 */
export class ArtifactStore extends Construct {
  readonly rawData: ArtifactBucket;
  readonly pipelineRoot: ArtifactBucket;
  readonly models: ArtifactBucket;
  readonly staging: ArtifactBucket;
  readonly accessLogs: ArtifactBucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('ArtifactStore', this, msg);
    if (!/^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/.test(props.bucketPrefix)) {
      throw fail(`bucketPrefix '${props.bucketPrefix}' is invalid; use 3-50 lowercase letters, digits or '-' (bucket names add up to 14 characters).`);
    }
    if (props.bucketPrefix.startsWith('goog') || props.bucketPrefix.includes('google')) throw fail(`bucketPrefix '${props.bucketPrefix}' may not start with 'goog' or contain 'google'.`);
    const ttl = props.tempArtifactTtlDays ?? 7;
    const nearline = props.rawDataNearlineAfterDays ?? 30;
    const coldline = props.rawDataColdlineAfterDays ?? 90;
    const noncurrent = props.noncurrentVersionTtlDays ?? 30;
    const softDelete = props.softDeleteRetentionDays ?? 7;
    const logTtl = props.accessLogTtlDays ?? 365;
    for (const [field, v] of [['tempArtifactTtlDays', ttl], ['rawDataNearlineAfterDays', nearline], ['rawDataColdlineAfterDays', coldline], ['noncurrentVersionTtlDays', noncurrent], ['accessLogTtlDays', logTtl]] as const) {
      if (!Number.isInteger(v) || v < 1) throw fail(`${field} ${v} must be a positive integer number of days.`);
    }
    if (coldline <= nearline) throw fail(`rawDataColdlineAfterDays (${coldline}) must be greater than rawDataNearlineAfterDays (${nearline}).`);
    if (!Number.isInteger(softDelete) || softDelete < 0 || softDelete > 90 || (softDelete > 0 && softDelete < 7)) {
      throw fail(`softDeleteRetentionDays ${softDelete} must be 0 (off) or between 7 and 90.`);
    }
    if (props.kmsKeyName !== undefined && !/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.test(props.kmsKeyName)) {
      throw fail(`kmsKeyName '${props.kmsKeyName}' must look like projects/P/locations/L/keyRings/R/cryptoKeys/K.`);
    }
    if (props.rawDataRetentionDays !== undefined && (!Number.isInteger(props.rawDataRetentionDays) || props.rawDataRetentionDays < 1)) {
      throw fail(`rawDataRetentionDays ${props.rawDataRetentionDays} must be a positive integer.`);
    }
    const rawVersioning = props.rawDataVersioning ?? true;
    if (props.rawDataRetentionDays !== undefined && rawVersioning) {
      throw fail(`rawDataRetentionDays (${props.rawDataRetentionDays}) needs rawDataVersioning: false: Cloud Storage does not allow a retention policy and Object Versioning on the same bucket (the retention policy already keeps every object ${props.rawDataRetentionDays} days); set rawDataVersioning to false or remove rawDataRetentionDays.`);
    }
    const hns = props.pipelineRootHierarchicalNamespace ?? false;
    const rootVersioning = props.pipelineRootVersioning ?? true;
    if (hns && rootVersioning) {
      throw fail('pipelineRootHierarchicalNamespace needs pipelineRootVersioning: false: Cloud Storage does not allow Object Versioning on a bucket with hierarchical namespace; set pipelineRootVersioning to false or remove pipelineRootHierarchicalNamespace.');
    }
    const autoclass = props.autoclass ?? false;
    if (autoclass && (props.rawDataNearlineAfterDays !== undefined || props.rawDataColdlineAfterDays !== undefined)) {
      throw fail('autoclass replaces the raw-data Nearline/Coldline lifecycle rules (Autoclass buckets take no SetStorageClass rules); remove rawDataNearlineAfterDays and rawDataColdlineAfterDays or turn autoclass off.');
    }
    if (props.autoclassTerminalStorageClass !== undefined && !autoclass) {
      throw fail(`autoclassTerminalStorageClass '${props.autoclassTerminalStorageClass}' has no effect without autoclass; set autoclass to true or remove it.`);
    }
    if (props.autoclassTerminalStorageClass !== undefined && !['NEARLINE', 'ARCHIVE'].includes(props.autoclassTerminalStorageClass)) {
      throw fail(`autoclassTerminalStorageClass '${props.autoclassTerminalStorageClass}' must be NEARLINE or ARCHIVE.`);
    }
    const dataLocations = props.dualRegion ? validateDualRegion(props.location, props.dualRegion, fail) : undefined;
    if (props.turboReplication && !dataLocations && !PREDEFINED_DUAL_REGIONS.includes(props.location.toUpperCase())) {
      throw fail(`turboReplication needs a dual-region placement; set dualRegion (with a multi-region location) or a dual-region location like ${PREDEFINED_DUAL_REGIONS.join(', ')} (location is '${props.location}').`);
    }
    validateGcpLabels('ArtifactStore', this, props.labels);

    const prefix = props.bucketPrefix;
    // Buckets encrypt with the key only once the storage agent may use it.
    const keyGrant = props.kmsKeyName && (props.grantKmsKeyToStorageAgent ?? true)
      ? grantKeyToAgent(this, 'kms-storage-agent', props.kmsKeyName,
        new DataGoogleStorageProjectServiceAccount(this, 'storage-agent', { project: props.project }).emailAddress)
      : undefined;
    const terminalClass = props.autoclassTerminalStorageClass ?? 'NEARLINE';
    interface BucketOptions { logs?: string; retentionDays?: number; versioning?: boolean; autoclass?: boolean; hierarchicalNamespace?: boolean }
    const make = (name: string, lifecycle: StorageBucketLifecycleRule[], extra: BucketOptions) =>
      (s: Construct) => new StorageBucket(s, 'bucket', {
        name,
        project: props.project,
        location: props.location,
        customPlacementConfig: dataLocations ? { dataLocations } : undefined,
        rpo: props.turboReplication ? 'ASYNC_TURBO' : undefined,
        storageClass: 'STANDARD',
        autoclass: extra.autoclass ? { enabled: true, terminalStorageClass: terminalClass } : undefined,
        hierarchicalNamespace: extra.hierarchicalNamespace ? { enabled: true } : undefined,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        forceDestroy: props.forceDestroy ?? false,
        versioning: { enabled: extra.versioning ?? true },
        softDeletePolicy: { retentionDurationSeconds: softDelete * 86400 },
        encryption: props.kmsKeyName ? { defaultKmsKeyName: props.kmsKeyName } : undefined,
        retentionPolicy: extra.retentionDays ? { retentionPeriod: extra.retentionDays * 86400 } : undefined,
        logging: extra.logs ? { logBucket: extra.logs, logObjectPrefix: name } : undefined,
        labels: props.labels ? { ...props.labels } : undefined,
        lifecycleRule: [
          ...lifecycle,
          // Noncurrent versions exist only where versioning is on.
          ...(extra.versioning ?? true ? [{ action: { type: 'Delete' }, condition: { daysSinceNoncurrentTime: noncurrent, withState: 'ARCHIVED' } }] : []),
        ],
        dependsOn: keyGrant ? [keyGrant] : undefined,
      });

    const logsName = `${prefix}-access-logs`;
    this.accessLogs = new ArtifactBucket(this, 'access-logs',
      make(logsName, [{ action: { type: 'Delete' }, condition: { age: logTtl } }], {}), logsName);
    // Cloud Storage usage/access logs are written by this Google group (uniform access: IAM, not ACLs).
    this.accessLogs.grant({ principalId: 'storage-analytics', iamMember: 'group:cloud-storage-analytics@google.com' }, 'roles/storage.objectCreator');
    const logs = this.accessLogs.bucket.name;

    const raw = `${prefix}-raw-data`;
    this.rawData = new ArtifactBucket(this, 'raw-data', make(raw, autoclass ? [] : [
      { action: { type: 'SetStorageClass', storageClass: 'NEARLINE' }, condition: { age: nearline, matchesStorageClass: ['STANDARD'] } },
      { action: { type: 'SetStorageClass', storageClass: 'COLDLINE' }, condition: { age: coldline, matchesStorageClass: ['STANDARD', 'NEARLINE'] } },
    ], { logs, retentionDays: props.rawDataRetentionDays, versioning: rawVersioning, autoclass }), raw);
    if (!rawVersioning) {
      PolicyPack.suppress(this.rawData, 'CKV_GCP_78', props.rawDataRetentionDays !== undefined
        ? `Raw data has a ${props.rawDataRetentionDays}-day retention policy, which Cloud Storage does not allow together with Object Versioning; the policy keeps every object instead.`
        : 'Versioning on raw data was turned off in the configuration (rawDataVersioning: false).');
    }
    const root = `${prefix}-pipeline-root`;
    this.pipelineRoot = new ArtifactBucket(this, 'pipeline-root', make(root, [
      { action: { type: 'Delete' }, condition: { age: ttl, matchesPrefix: ['tmp/'] } },
    ], { logs, versioning: rootVersioning, autoclass, hierarchicalNamespace: hns }), root);
    if (!rootVersioning) {
      PolicyPack.suppress(this.pipelineRoot, 'CKV_GCP_78', hns
        ? 'The pipeline root has hierarchical namespace (checkpoint throughput), which Cloud Storage does not allow together with Object Versioning; published artifacts are never overwritten (claim + commit marker).'
        : 'Versioning on the pipeline root was turned off in the configuration (pipelineRootVersioning: false).');
    }
    const models = `${prefix}-models`;
    this.models = new ArtifactBucket(this, 'models', make(models, [], { logs, autoclass }), models);
    const staging = `${prefix}-staging`;
    this.staging = new ArtifactBucket(this, 'staging', make(staging, [
      { action: { type: 'Delete' }, condition: { age: ttl } },
    ], { logs }), staging);
  }

  /** The data buckets (everything except access logs). */
  get dataBuckets(): ArtifactBucket[] {
    return [this.rawData, this.pipelineRoot, this.models, this.staging];
  }

  /** Read access to every data bucket. */
  grantRead(principal: IPrincipal): void { this.dataBuckets.forEach((b) => b.grantRead(principal)); }
  /** Read/write access to every data bucket. */
  grantWrite(principal: IPrincipal): void { this.dataBuckets.forEach((b) => b.grantWrite(principal)); }
  /** Transfer agent may read raw data (e.g. to copy it out). */
  grantTransferSource(agent?: IPrincipal): void { this.rawData.grantTransferSource(agent); }
  /** Transfer agent may write raw data (ingest from S3, Azure, other buckets or on-prem). */
  grantTransferSink(agent?: IPrincipal): void { this.rawData.grantTransferSink(agent); }
}
