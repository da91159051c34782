// MlCluster: a private, hardened GKE Standard cluster (regional or zonal) with Workload Identity, Dataplane V2,
// shielded nodes, Binary Authorization, GCS FUSE and a dedicated least-privilege node service account.
import { Construct } from 'constructs';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { BinaryAuthorizationPolicy } from '@cdktf/provider-google/lib/binary-authorization-policy';
import { GkeBackupBackupPlan } from '@cdktf/provider-google/lib/gke-backup-backup-plan';
import { GpuAcceleratorType } from './accelerators';
import { ConstructValidationError, cidrsOverlap, parseCidr, validateGcpLabels, zoneInRegion } from './errors';
import { MlNetwork } from './network';
import { PolicyPack } from './policy/policy-pack';
import { ProjectServices } from './project-services';
import { grantKeyToAgent, serviceAgentEmail } from './cmek';

/** A CIDR allowed to reach the control plane. */
export interface AuthorizedNetwork {
  /** IPv4 CIDR; `0.0.0.0/0` is refused. */
  readonly cidr: string;
  /** Shown in the console. */
  readonly displayName: string;
}

/** A period in which GKE does not upgrade the cluster. */
export interface MaintenanceExclusion {
  readonly name: string;
  /** RFC 3339, e.g. `2026-12-20T00:00:00Z`. */
  readonly startTime: string;
  /** RFC 3339. */
  readonly endTime: string;
  /** What is excluded. */
  readonly scope: 'NO_UPGRADES' | 'NO_MINOR_UPGRADES' | 'NO_MINOR_OR_NODE_UPGRADES';
}

export type ReleaseChannel = 'RAPID' | 'REGULAR' | 'STABLE';
export type AutoscalingProfile = 'OPTIMIZE_UTILIZATION' | 'BALANCED';
export type SecurityPostureMode = 'BASIC' | 'ENTERPRISE' | 'DISABLED';
export type VulnerabilityMode = 'VULNERABILITY_BASIC' | 'VULNERABILITY_ENTERPRISE' | 'VULNERABILITY_DISABLED';

/** Node auto-provisioning ceilings: the autoscaler may create pools up to these totals over the cluster. */
export interface AutoProvisioningLimits {
  /** Most vCPUs over all auto-provisioned and existing nodes. */
  readonly maxCpu: number;
  /** Most memory in GB over all nodes. */
  readonly maxMemoryGb: number;
  /**
   * Most GPUs per accelerator type.
   * @default - none: node auto-provisioning creates no GPU pools
   */
  readonly maxGpus?: { readonly [T in GpuAcceleratorType]?: number };
}
export type BinaryAuthorizationMode = 'AUDIT' | 'ENFORCE' | 'DISABLED';

export interface MlClusterProps {
  /** Cluster name; lowercase, 1-24 chars (the node service account id is `<name>-nodes`). */
  readonly name: string;
  /** Project id; used for the Workload Identity pool and the node service account's roles. */
  readonly project: string;
  /** The network the cluster runs in. */
  readonly network: MlNetwork;
  /** Region (regional cluster, control plane replicated across zones) or a zone in the network's region (zonal cluster). */
  readonly location: string;
  /** /28 for the control plane's private endpoint, not overlapping the network's ranges, e.g. `172.16.0.0/28`. */
  readonly masterIpv4CidrBlock: string;
  /** Networks allowed to reach the control plane. Required and non-empty; `0.0.0.0/0` is refused. */
  readonly masterAuthorizedNetworks: readonly AuthorizedNetwork[];
  /**
   * Zones for the node pools' default placement.
   * @default - all zones of a regional cluster chosen by GKE, or the cluster's zone
   */
  readonly nodeLocations?: readonly string[];
  /**
   * Make the control plane reachable only on its private endpoint.
   * @default false - public endpoint restricted to masterAuthorizedNetworks
   */
  readonly privateEndpoint?: boolean;
  /**
   * GKE release channel.
   * @default 'REGULAR'
   */
  readonly releaseChannel?: ReleaseChannel;
  /**
   * Binary Authorization: `AUDIT` logs images that would be denied, `ENFORCE` blocks them (needs attestors), `DISABLED` turns it off.
   * Creates the project's singleton Binary Authorization policy unless `DISABLED`.
   * @default 'AUDIT'
   */
  readonly binaryAuthorization?: BinaryAuthorizationMode;
  /**
   * Attestor resource names required by the Binary Authorization policy.
   * @default - none; images are evaluated as "deny" and, in AUDIT mode, only logged
   */
  readonly binaryAuthorizationAttestors?: readonly string[];
  /**
   * Start of the recurring maintenance window (RFC 3339, only the time-of-day and duration matter).
   * @default '2024-01-06T02:00:00Z' (with the default end: Saturdays and Sundays 02:00-08:00 UTC)
   */
  readonly maintenanceStartTime?: string;
  /**
   * End of the recurring maintenance window (RFC 3339).
   * @default '2024-01-06T08:00:00Z'
   */
  readonly maintenanceEndTime?: string;
  /**
   * RRULE of the maintenance window.
   * @default 'FREQ=WEEKLY;BYDAY=SA,SU'
   */
  readonly maintenanceRecurrence?: string;
  /**
   * Periods without upgrades (e.g. a release freeze).
   * @default - none
   */
  readonly maintenanceExclusions?: readonly MaintenanceExclusion[];
  /**
   * Terraform deletion protection for the cluster.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Resource labels on the cluster.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
  /**
   * Cluster autoscaler profile: OPTIMIZE_UTILIZATION removes idle (accelerator) nodes sooner and packs pods tighter.
   * @default 'OPTIMIZE_UTILIZATION'
   */
  readonly autoscalingProfile?: AutoscalingProfile;
  /**
   * Node auto-provisioning with these ceilings (auto-created pools use the node service account and the hardened defaults).
   * @default - off: only the pools declared here exist
   */
  readonly autoProvisioning?: AutoProvisioningLimits;
  /**
   * GKE cost allocation (namespace and label costs in the billing export).
   * @default true
   */
  readonly costAllocation?: boolean;
  /**
   * NVIDIA DCGM GPU metrics into Managed Service for Prometheus (needs GKE 1.30.1+ and GKE-installed drivers).
   * @default true
   */
  readonly dcgmMetrics?: boolean;
  /**
   * Image streaming (GCFS) on every pool: containers start before the whole (multi-GB ML) image is pulled.
   * @default true
   */
  readonly imageStreaming?: boolean;
  /**
   * Cloud KMS key (`projects/<p>/locations/<cluster region>/keyRings/<r>/cryptoKeys/<k>`) for application-layer
   * encryption of Kubernetes Secrets. The GKE service agent (`service-<project number>@container-engine-robot.iam.gserviceaccount.com`)
   * is granted roles/cloudkms.cryptoKeyEncrypterDecrypter on it (construct `kms-gke-agent`) before the cluster is created.
   * @default - Secrets encrypted at rest by Google-managed keys only
   */
  readonly secretsEncryptionKey?: string;
  /**
   * Backup for GKE: enables gkebackup.googleapis.com, the agent and a backup plan of every namespace (volume data and secrets included).
   * @default false
   */
  readonly backup?: boolean;
  /**
   * Cron schedule of the backup plan (UTC).
   * @default '0 3 * * *'
   */
  readonly backupCron?: string;
  /**
   * Days a backup is kept.
   * @default 14
   */
  readonly backupRetainDays?: number;
  /**
   * GKE security posture dashboard mode.
   * @default 'BASIC'
   */
  readonly securityPostureMode?: SecurityPostureMode;
  /**
   * Workload vulnerability scanning.
   * @default 'VULNERABILITY_BASIC'
   */
  readonly vulnerabilityScanning?: VulnerabilityMode;
  /**
   * Google Groups for RBAC: the Workspace group `gke-security-groups@<domain>` whose member groups RBAC bindings may name.
   * @default - none: RBAC names users and service accounts (CKV_GCP_65 is suppressed with that reason)
   */
  readonly rbacSecurityGroup?: string;
}

/**
 * The platform's GKE Standard cluster. Construct ids: `cluster`, `node-sa`, `node-sa-default-node-role`, `binauthz-policy`,
 * `backup-plan`; with secretsEncryptionKey also `project` (data source) and `kms-gke-agent`.
 */
export class MlCluster extends Construct {
  readonly cluster: ContainerCluster;
  /** Dedicated node service account (roles/container.defaultNodeServiceAccount only). */
  readonly nodeServiceAccount: ServiceAccount;
  readonly name: string;
  readonly project: string;
  /** Region or zone, as given. */
  readonly location: string;
  readonly region: string;
  readonly regional: boolean;
  /** `<project>.svc.id.goog`. */
  readonly workloadPool: string;
  /** Whether pools turn on image streaming (GCFS); secondary boot disk image caches need it. */
  readonly imageStreaming: boolean;
  /** The Backup for GKE plan, when `backup` is on. */
  readonly backupPlan?: GkeBackupBackupPlan;

  constructor(scope: Construct, id: string, props: MlClusterProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('MlCluster', this, msg);
    if (!/^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$/.test(props.name)) {
      throw fail(`name '${props.name}' is invalid; use 1-24 lowercase letters, digits or '-', starting with a letter.`);
    }
    const region = props.network.region;
    const regional = props.location === region;
    if (!regional && !zoneInRegion(props.location, region)) {
      throw fail(`location '${props.location}' is neither the network's region ${region} nor a zone in it; use ${region} (regional) or ${region}-a/b/c (zonal).`);
    }
    for (const zone of props.nodeLocations ?? []) {
      if (!zoneInRegion(zone, region)) throw fail(`nodeLocations zone '${zone}' is not in region ${region}.`);
    }
    if (props.masterAuthorizedNetworks.length === 0) {
      throw fail('masterAuthorizedNetworks is empty; list the CIDRs (VPN, CI runners, bastion) that may reach the control plane.');
    }
    for (const net of props.masterAuthorizedNetworks) {
      const parsed = parseCidr(net.cidr);
      if (!parsed) throw fail(`masterAuthorizedNetworks entry '${net.displayName}' has invalid CIDR '${net.cidr}'; use an IPv4 CIDR like 203.0.113.0/24.`);
      if (parsed.prefix === 0) {
        throw fail(`masterAuthorizedNetworks entry '${net.displayName}' is ${net.cidr}, which opens the control plane to the whole internet; list specific CIDRs (VPN, CI runners) instead.`);
      }
    }
    const master = parseCidr(props.masterIpv4CidrBlock);
    if (!master || master.prefix !== 28) throw fail(`masterIpv4CidrBlock '${props.masterIpv4CidrBlock}' must be a /28, e.g. 172.16.0.0/28.`);
    for (const [field, cidr] of Object.entries(props.network.cidrs)) {
      if (cidrsOverlap(cidr, props.masterIpv4CidrBlock)) throw fail(`masterIpv4CidrBlock ${props.masterIpv4CidrBlock} overlaps the network's ${field} range ${cidr}; pick an unused /28.`);
    }
    const binauthz = props.binaryAuthorization ?? 'AUDIT';
    const attestors = props.binaryAuthorizationAttestors ?? [];
    if (binauthz === 'ENFORCE' && attestors.length === 0) {
      throw fail("binaryAuthorization 'ENFORCE' without binaryAuthorizationAttestors would block every workload; add attestors or use 'AUDIT'.");
    }
    for (const attestor of attestors) {
      if (!/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/attestors\/[A-Za-z0-9_-]+$/.test(attestor)) {
        throw fail(`binaryAuthorizationAttestors entry '${attestor}' is not an attestor resource name; use projects/<project>/attestors/<name>.`);
      }
    }
    const exclusionNames = new Set<string>();
    for (const ex of props.maintenanceExclusions ?? []) {
      if (exclusionNames.has(ex.name)) throw fail(`maintenance exclusion '${ex.name}' is listed twice; names must be unique.`);
      exclusionNames.add(ex.name);
      if (!(Date.parse(ex.startTime) < Date.parse(ex.endTime))) throw fail(`maintenance exclusion '${ex.name}' must start (${ex.startTime}) before it ends (${ex.endTime}), both RFC 3339.`);
      // GKE refuses a NO_UPGRADES exclusion longer than 30 days (the minor/node scopes may run to end of support).
      if (ex.scope === 'NO_UPGRADES' && Date.parse(ex.endTime) - Date.parse(ex.startTime) > 30 * 86_400_000) {
        throw fail(`maintenance exclusion '${ex.name}' (NO_UPGRADES) is longer than the 30 days GKE allows; shorten it or use scope NO_MINOR_UPGRADES / NO_MINOR_OR_NODE_UPGRADES.`);
      }
    }
    validateGcpLabels('MlCluster', this, props.labels);
    const nap = props.autoProvisioning;
    if (nap) {
      if (!Number.isInteger(nap.maxCpu) || nap.maxCpu < 1) throw fail(`autoProvisioning.maxCpu ${nap.maxCpu} must be a positive integer.`);
      if (!Number.isInteger(nap.maxMemoryGb) || nap.maxMemoryGb < 1) throw fail(`autoProvisioning.maxMemoryGb ${nap.maxMemoryGb} must be a positive integer.`);
      for (const [type, max] of Object.entries(nap.maxGpus ?? {})) {
        if (!Number.isInteger(max) || (max as number) < 1) throw fail(`autoProvisioning.maxGpus['${type}'] ${max} must be a positive integer.`);
      }
    }
    if (props.secretsEncryptionKey !== undefined) {
      const key = /^projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.exec(props.secretsEncryptionKey);
      if (!key) throw fail(`secretsEncryptionKey '${props.secretsEncryptionKey}' is not a Cloud KMS key name; use projects/<project>/locations/${region}/keyRings/<ring>/cryptoKeys/<key>.`);
      if (key[1] !== region) throw fail(`secretsEncryptionKey is in location ${key[1]}, but GKE needs the key in the cluster's region ${region}; create the key ring in ${region}.`);
    }
    if (!props.backup && (props.backupCron !== undefined || props.backupRetainDays !== undefined)) throw fail('backupCron/backupRetainDays are set but backup is off; set backup: true or remove them.');
    const backupCron = props.backupCron ?? '0 3 * * *';
    const backupRetainDays = props.backupRetainDays ?? 14;
    if (!/^\S+(\s+\S+){4}$/.test(backupCron)) throw fail(`backupCron '${backupCron}' must be a five-field cron expression like '0 3 * * *'.`);
    if (!Number.isInteger(backupRetainDays) || backupRetainDays < 1 || backupRetainDays > 365) throw fail(`backupRetainDays ${backupRetainDays} must be an integer between 1 and 365.`);
    if (props.securityPostureMode === 'DISABLED' && props.vulnerabilityScanning !== undefined && props.vulnerabilityScanning !== 'VULNERABILITY_DISABLED') {
      throw fail(`vulnerabilityScanning ${props.vulnerabilityScanning} needs a security posture; set securityPostureMode to BASIC or remove vulnerabilityScanning.`);
    }

    this.name = props.name;
    this.project = props.project;
    this.location = props.location;
    this.region = region;
    this.regional = regional;
    this.workloadPool = `${props.project}.svc.id.goog`;
    this.imageStreaming = props.imageStreaming ?? true;
    const postureMode = props.securityPostureMode ?? 'BASIC';

    this.nodeServiceAccount = new ServiceAccount(this, 'node-sa', {
      accountId: `${props.name}-nodes`,
      project: props.project,
      displayName: `GKE nodes of ${props.name} (least privilege)`,
    });
    new ProjectIamMember(this, 'node-sa-default-node-role', {
      project: props.project,
      role: 'roles/container.defaultNodeServiceAccount',
      member: `serviceAccount:${this.nodeServiceAccount.email}`,
    });

    // GKE refuses to create a cluster with application-layer secrets encryption its service agent cannot use.
    const keyGrant = props.secretsEncryptionKey
      ? grantKeyToAgent(this, 'kms-gke-agent', props.secretsEncryptionKey, serviceAgentEmail(this, props.project, 'container-engine-robot.iam.gserviceaccount.com'))
      : undefined;

    this.cluster = new ContainerCluster(this, 'cluster', {
      dependsOn: keyGrant ? [keyGrant] : undefined,
      name: props.name,
      project: props.project,
      location: props.location,
      nodeLocations: props.nodeLocations ? [...props.nodeLocations] : undefined,
      network: props.network.network.id,
      subnetwork: props.network.subnetwork.id,
      networkingMode: 'VPC_NATIVE',
      ipAllocationPolicy: {
        clusterSecondaryRangeName: props.network.podsRangeName,
        servicesSecondaryRangeName: props.network.servicesRangeName,
      },
      // The default pool is created then removed; its config still follows the hardened baseline.
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      nodeConfig: {
        serviceAccount: this.nodeServiceAccount.email,
        oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
        imageType: 'COS_CONTAINERD',
        workloadMetadataConfig: { mode: 'GKE_METADATA' },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        metadata: { 'disable-legacy-endpoints': 'true' },
      },
      privateClusterConfig: {
        enablePrivateNodes: true,
        enablePrivateEndpoint: props.privateEndpoint ?? false,
        masterIpv4CidrBlock: props.masterIpv4CidrBlock,
        masterGlobalAccessConfig: { enabled: true },
      },
      masterAuthorizedNetworksConfig: {
        gcpPublicCidrsAccessEnabled: false,
        cidrBlocks: props.masterAuthorizedNetworks.map((n) => ({ cidrBlock: n.cidr, displayName: n.displayName })),
      },
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      authenticatorGroupsConfig: props.rbacSecurityGroup ? { securityGroup: props.rbacSecurityGroup } : undefined,
      workloadIdentityConfig: { workloadPool: this.workloadPool },
      releaseChannel: { channel: props.releaseChannel ?? 'REGULAR' },
      // Dataplane V2 enforces Kubernetes NetworkPolicy natively; the Calico add-on stays off, said explicitly because
      // Checkov's CKV_GCP_12 passes Dataplane V2 only beside network_policy { enabled = false }.
      datapathProvider: 'ADVANCED_DATAPATH',
      networkPolicy: { enabled: false },
      enableShieldedNodes: true,
      enableLegacyAbac: false,
      enableIntranodeVisibility: true,
      binaryAuthorization: { evaluationMode: binauthz === 'DISABLED' ? 'DISABLED' : 'PROJECT_SINGLETON_POLICY_ENFORCE' },
      loggingConfig: { enableComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS'] },
      monitoringConfig: {
        enableComponents: (props.dcgmMetrics ?? true) ? ['SYSTEM_COMPONENTS', 'DCGM'] : ['SYSTEM_COMPONENTS'],
        managedPrometheus: { enabled: true },
      },
      securityPostureConfig: {
        mode: postureMode,
        vulnerabilityMode: props.vulnerabilityScanning ?? (postureMode === 'DISABLED' ? 'VULNERABILITY_DISABLED' : 'VULNERABILITY_BASIC'),
      },
      clusterAutoscaling: {
        autoscalingProfile: props.autoscalingProfile ?? 'OPTIMIZE_UTILIZATION',
        enabled: nap ? true : undefined,
        resourceLimits: nap
          ? [
            { resourceType: 'cpu', maximum: nap.maxCpu },
            { resourceType: 'memory', maximum: nap.maxMemoryGb },
            ...Object.entries(nap.maxGpus ?? {}).map(([type, max]) => ({ resourceType: type, maximum: max as number })),
          ]
          : undefined,
        autoProvisioningDefaults: nap
          ? {
            serviceAccount: this.nodeServiceAccount.email,
            oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
            imageType: 'COS_CONTAINERD',
            diskType: 'pd-balanced',
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            management: { autoRepair: true, autoUpgrade: true },
          }
          : undefined,
      },
      costManagementConfig: { enabled: props.costAllocation ?? true },
      nodePoolDefaults: { nodeConfigDefaults: { gcfsConfig: { enabled: this.imageStreaming } } },
      databaseEncryption: props.secretsEncryptionKey ? { state: 'ENCRYPTED', keyName: props.secretsEncryptionKey } : undefined,
      addonsConfig: {
        gkeBackupAgentConfig: props.backup ? { enabled: true } : undefined,
        gcsFuseCsiDriverConfig: { enabled: true },
        gcePersistentDiskCsiDriverConfig: { enabled: true },
        httpLoadBalancing: { disabled: false },
        horizontalPodAutoscaling: { disabled: false },
      },
      maintenancePolicy: {
        recurringWindow: {
          startTime: props.maintenanceStartTime ?? '2024-01-06T02:00:00Z',
          endTime: props.maintenanceEndTime ?? '2024-01-06T08:00:00Z',
          recurrence: props.maintenanceRecurrence ?? 'FREQ=WEEKLY;BYDAY=SA,SU',
        },
        maintenanceExclusion: props.maintenanceExclusions?.map((ex) => ({
          exclusionName: ex.name,
          startTime: ex.startTime,
          endTime: ex.endTime,
          exclusionOptions: { scope: ex.scope },
        })),
      },
      deletionProtection: props.deletionProtection ?? true,
      resourceLabels: props.labels ? { ...props.labels } : undefined,
    });
    if (!props.rbacSecurityGroup) {
      PolicyPack.suppress(this.cluster, 'CKV_GCP_65',
        'Google Groups for RBAC needs a Google Workspace or Cloud Identity domain with a gke-security-groups group; without rbacSecurityGroup, RBAC binds users and Workload Identity service accounts directly.');
    }

    if (props.backup) {
      this.backupPlan = new GkeBackupBackupPlan(this, 'backup-plan', {
        name: `${props.name}-daily`,
        project: props.project,
        location: region,
        cluster: this.cluster.id,
        backupSchedule: { cronSchedule: backupCron },
        retentionPolicy: { backupRetainDays },
        backupConfig: { allNamespaces: true, includeVolumeData: true, includeSecrets: true },
        labels: props.labels ? { ...props.labels } : undefined,
        dependsOn: [ProjectServices.of(this).enable('gkebackup.googleapis.com', props.project)],
      });
    }

    if (binauthz !== 'DISABLED') {
      new BinaryAuthorizationPolicy(this, 'binauthz-policy', {
        project: props.project,
        description: `Platform policy (${binauthz}); managed by MlCluster ${props.name}`,
        globalPolicyEvaluationMode: 'ENABLE',
        defaultAdmissionRule: {
          evaluationMode: attestors.length > 0 ? 'REQUIRE_ATTESTATION' : 'ALWAYS_DENY',
          enforcementMode: binauthz === 'ENFORCE' ? 'ENFORCED_BLOCK_AND_AUDIT_LOG' : 'DRYRUN_AUDIT_LOG_ONLY',
          requireAttestationsBy: attestors.length > 0 ? [...attestors] : undefined,
        },
      });
    }
  }
}
