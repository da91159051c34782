// The policy pack's rules: checks over synthesized (snake_case, token-resolved) Terraform JSON of one resource. A rule
// labelled with a Checkov id implements that check's logic as Checkov 3.x's source does (checkov/terraform/checks/
// resource/{gcp,kubernetes}/*.py and graph_checks/gcp/*.yaml for CKV2_*: same resource types, same missing-attribute
// results), so the pack and an org's Checkov run agree;
// where we want more (or Checkov has no rule) the rule carries our own MLP_* id.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { unpinnedImageReason } from '../workload-common';

/** Synthesized Terraform JSON of one resource (snake_case keys, tokens resolved to `${...}` strings). */
export type ResourceJson = { readonly [key: string]: unknown };

/** A finding source: the rule, and which resource types it looks at. */
export interface PolicyRule {
  /** Checkov id (e.g. `CKV_GCP_29`) or our own `MLP_*` id. */
  readonly id: string;
  /** What must hold. */
  readonly title: string;
  /** Terraform resource types checked. */
  readonly resourceTypes: readonly string[];
  /** How to fix a violation. */
  readonly fix: string;
  /** Returns a description of the problem, or undefined when the resource complies. */
  check(resource: ResourceJson, type: string, context: RuleContext): string | undefined;
}

/** What a rule may see beyond its resource, for Checkov's graph (connection) checks. */
export interface RuleContext {
  /** Logical id of the resource checked (`${<type>.<logicalId>.id}` is how others reference it). */
  readonly logicalId: string;
  /** Synthesized JSON of the stack's resources of `type`. */
  resourcesOf(type: string): readonly ResourceJson[];
}

/** A single nested block: cdktf renders single blocks as objects, Terraform JSON also allows one-element lists. */
export function block(value: unknown): { [key: string]: any } | undefined {
  if (Array.isArray(value)) return value.length > 0 ? (value[0] as { [key: string]: any }) : undefined;
  if (value && typeof value === 'object') return value as { [key: string]: any };
  return undefined;
}
function list(value: unknown): { [key: string]: any }[] {
  if (Array.isArray(value)) return value as { [key: string]: any }[];
  return value && typeof value === 'object' ? [value as { [key: string]: any }] : [];
}
const isTrue = (v: unknown) => v === true || v === 'true';
const isFalse = (v: unknown) => v === false || v === 'false';

const CLUSTER = ['google_container_cluster'];
const POOL = ['google_container_node_pool'];
const NODE_CONFIG_HOLDERS = ['google_container_cluster', 'google_container_node_pool'];
const BUCKET = ['google_storage_bucket'];
const SQL = ['google_sql_database_instance'];
const IAM_MEMBER_TYPES = [
  'google_project_iam_member', 'google_project_iam_binding',
  'google_storage_bucket_iam_member', 'google_storage_bucket_iam_binding',
  'google_artifact_registry_repository_iam_member', 'google_artifact_registry_repository_iam_binding',
  'google_service_account_iam_member', 'google_service_account_iam_binding',
];
const PROJECT_IAM = ['google_project_iam_member', 'google_project_iam_binding'];
const BASIC_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'];
const IMPERSONATION_ROLES = [
  'roles/owner', 'roles/editor', 'roles/iam.securityAdmin', 'roles/iam.serviceAccountAdmin', 'roles/iam.serviceAccountKeyAdmin',
  'roles/iam.serviceAccountUser', 'roles/iam.serviceAccountTokenCreator', 'roles/iam.workloadIdentityUser', 'roles/dataproc.editor',
  'roles/dataproc.admin', 'roles/dataflow.developer', 'roles/resourcemanager.folderAdmin', 'roles/resourcemanager.folderIamAdmin',
  'roles/resourcemanager.projectIamAdmin', 'roles/resourcemanager.organizationAdmin', 'roles/serverless.serviceAgent', 'roles/dataproc.serviceAgent',
];
/** Checkov's CKV_GCP_79 list: the newest major version of each engine. */
const LATEST_SQL_VERSIONS = ['POSTGRES_17', 'MYSQL_8_0', 'SQLSERVER_2022_STANDARD', 'SQLSERVER_2022_WEB', 'SQLSERVER_2022_ENTERPRISE', 'SQLSERVER_2022_EXPRESS'];

function members(r: ResourceJson): string[] {
  if (typeof r.member === 'string') return [r.member];
  if (Array.isArray(r.members)) return r.members.filter((m): m is string => typeof m === 'string');
  return [];
}

function publicGrant(r: ResourceJson): string | undefined {
  const pub = members(r).find((m) => m === 'allUsers' || m === 'allAuthenticatedUsers');
  return pub ? `${pub} is granted ${r.role}` : undefined;
}

function isPostgres(r: ResourceJson): boolean {
  return typeof r.database_version === 'string' && r.database_version.startsWith('POSTGRES');
}
function flag(r: ResourceJson, name: string): string | undefined {
  const flags = list(block(r.settings)?.database_flags);
  const f = flags.find((x) => x.name === name);
  return f === undefined ? undefined : String(f.value);
}
/**
 * A PostgreSQL flag check in one of Checkov's two shapes: `required` (the flag must be set to an allowed value, as
 * AbsGooglePostgresqlDatabaseFlags) or `ifSet` (an unset flag passes; a set one must be allowed).
 */
function pgFlagRule(id: string, name: string, allowed: readonly string[], mode: 'required' | 'ifSet' = 'required'): PolicyRule {
  return {
    id, resourceTypes: SQL,
    title: `PostgreSQL flag ${name} is ${mode === 'ifSet' ? 'unset or ' : ''}${allowed.join(' or ')}`,
    fix: `add database flag ${name}=${allowed[0]} (MetadataDatabase sets it)`,
    check: (r) => {
      if (!isPostgres(r)) return undefined;
      const v = flag(r, name);
      if (v === undefined) return mode === 'ifSet' ? undefined : `database flag ${name} is not set`;
      return allowed.includes(v) ? undefined : `database flag ${name} is '${v}'`;
    },
  };
}
/** Subnet purposes Checkov exempts from flow-log and Private Google Access checks (the API refuses both there). */
const PROXY_SUBNET_PURPOSES = ['INTERNAL_HTTPS_LOAD_BALANCER', 'REGIONAL_MANAGED_PROXY', 'GLOBAL_MANAGED_PROXY'];
const isProxySubnet = (r: ResourceJson) => PROXY_SUBNET_PURPOSES.includes(String(r.purpose));
/** Checkov's CKV_GCP_42 patterns: a user-managed service account email; a role naming admin, editor or owner. */
const USER_MANAGED_SA = /^.*@.*\.iam\.gserviceaccount\.com$/;
const ADMIN_ROLE = /^.*(.*Admin|.*admin|editor|owner)/;
function isAcceleratorPool(r: ResourceJson): boolean {
  return list(block(r.node_config)?.guest_accelerator).length > 0;
}
function isTpuPool(r: ResourceJson): boolean {
  const mt = block(r.node_config)?.machine_type;
  return typeof mt === 'string' && /^ct\d/.test(mt);
}
function hasTaint(r: ResourceJson, key: string): boolean {
  return list(block(r.node_config)?.taint).some((t) => t.key === key && t.effect === 'NO_SCHEDULE');
}

const DEPLOYMENT = ['kubernetes_deployment_v1'];
/** The resource types Checkov's Terraform CKV_K8S_15/43 read. */
const K8S_WORKLOADS = ['kubernetes_pod', 'kubernetes_pod_v1', 'kubernetes_deployment', 'kubernetes_deployment_v1'];
/** As Checkov reads a pod or Deployment: the template's pod spec when there is one, else `spec` itself. */
function checkovPodSpec(r: ResourceJson): { [key: string]: any } | undefined {
  const spec = block(r.spec);
  return spec && (block(block(spec.template)?.spec) ?? spec);
}
/** Containers (and init containers) of a Deployment's pod template. */
function containers(r: ResourceJson): { [key: string]: any }[] {
  const pod = block(block(block(r.spec)?.template)?.spec);
  return [...list(pod?.container), ...list(pod?.init_container)];
}
/** Every string under an `image` key, anywhere in a Kubernetes manifest. */
function manifestImages(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => manifestImages(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'image' && typeof v === 'string') out.push(v);
      else manifestImages(v, out);
    }
  }
  return out;
}
/** Images of a Deployment or a manifest; values that are Terraform references or Argo placeholders are not judged. */
function images(r: ResourceJson, type: string): string[] {
  const all = type === 'kubernetes_manifest' ? manifestImages(r.manifest) : containers(r).map((c) => c.image).filter((i): i is string => typeof i === 'string');
  return all.filter((i) => !i.includes('${') && !i.includes('{{'));
}

export const RULES: readonly PolicyRule[] = [
  // ---- GKE cluster
  { id: 'CKV_GCP_1', resourceTypes: CLUSTER, title: 'GKE logging is enabled', fix: 'keep logging_service unset or logging.googleapis.com',
    check: (r) => (r.logging_service === 'none' ? "logging_service is 'none'" : undefined) },
  // Checkov reads logging_service only; an empty enable_components list turns logging off just as well.
  { id: 'MLP_GKE_LOGGING_COMPONENTS', resourceTypes: CLUSTER, title: 'GKE logging collects some components', fix: "list components in logging_config.enable_components (MlCluster logs SYSTEM_COMPONENTS and WORKLOADS)",
    check: (r) => { const lc = block(r.logging_config); return lc && Array.isArray(lc.enable_components) && lc.enable_components.length === 0 ? 'logging_config.enable_components is empty' : undefined; } },
  { id: 'CKV_GCP_7', resourceTypes: CLUSTER, title: 'legacy ABAC is disabled', fix: 'set enable_legacy_abac = false',
    check: (r) => (isTrue(r.enable_legacy_abac) ? 'legacy ABAC is enabled' : undefined) },
  { id: 'CKV_GCP_8', resourceTypes: CLUSTER, title: 'GKE monitoring is enabled', fix: 'keep monitoring_service unset or monitoring.googleapis.com',
    check: (r) => (r.monitoring_service === 'none' ? 'cluster monitoring is disabled' : undefined) },
  // Checkov (GKENetworkPolicyEnabled) needs a network_policy block: enabled, or disabled beside Dataplane V2.
  { id: 'CKV_GCP_12', resourceTypes: CLUSTER, title: 'network policy is enforced', fix: "set datapath_provider = 'ADVANCED_DATAPATH' with network_policy { enabled = false } (MlCluster does), or network_policy { enabled = true }",
    check: (r) => {
      const np = block(r.network_policy);
      if (np === undefined || !('enabled' in np)) return r.datapath_provider === 'ADVANCED_DATAPATH' ? 'Dataplane V2 without a network_policy block saying enabled = false' : 'no network_policy block';
      return isTrue(np.enabled) || r.datapath_provider === 'ADVANCED_DATAPATH' ? undefined : 'network_policy is disabled without Dataplane V2';
    } },
  { id: 'CKV_GCP_13', resourceTypes: CLUSTER, title: 'client certificate authentication is disabled', fix: 'set master_auth.client_certificate_config.issue_client_certificate = false',
    check: (r) => {
      const v = block(block(r.master_auth)?.client_certificate_config)?.issue_client_certificate;
      return isFalse(v) ? undefined : v === undefined ? 'issue_client_certificate is not set to false' : 'the cluster issues client certificates';
    } },
  { id: 'CKV_GCP_18', resourceTypes: CLUSTER, title: 'the control plane is not open to the internet', fix: 'list specific CIDRs in master_authorized_networks_config, never 0.0.0.0/0',
    check: (r) => {
      const open = list(block(r.master_authorized_networks_config)?.cidr_blocks).find((c) => typeof c.cidr_block === 'string' && c.cidr_block.includes('0.0.0.0/0'));
      return open ? `master authorized network ${open.cidr_block} allows the whole internet` : undefined;
    } },
  { id: 'CKV_GCP_20', resourceTypes: CLUSTER, title: 'master authorized networks are enabled', fix: 'add master_authorized_networks_config with your CIDRs (MlCluster requires masterAuthorizedNetworks)',
    check: (r) => (block(r.master_authorized_networks_config) ? undefined : 'master_authorized_networks_config is missing') },
  { id: 'CKV_GCP_21', resourceTypes: CLUSTER, title: 'the cluster carries resource labels', fix: 'set resource_labels (MlCluster labels prop)',
    check: (r) => (r.resource_labels && Object.keys(r.resource_labels as object).length > 0 ? undefined : 'resource_labels is empty') },
  { id: 'CKV_GCP_23', resourceTypes: CLUSTER, title: 'alias IP ranges (VPC-native) are used', fix: 'set ip_allocation_policy with secondary range names',
    check: (r) => (block(r.ip_allocation_policy) ? undefined : 'ip_allocation_policy is missing') },
  { id: 'CKV_GCP_25', resourceTypes: CLUSTER, title: 'the cluster is private', fix: 'add private_cluster_config',
    check: (r) => (block(r.private_cluster_config) ? undefined : 'private_cluster_config is missing') },
  { id: 'CKV_GCP_61', resourceTypes: CLUSTER, title: 'intranode visibility is enabled', fix: 'set enable_intranode_visibility = true',
    check: (r) => (isTrue(r.enable_intranode_visibility) ? undefined : 'enable_intranode_visibility is not true') },
  // Checkov's GKEPrivateNodes only asks for a private_cluster_config block (as CKV_GCP_25); MLP_GKE_PRIVATE_NODES asks for private nodes.
  { id: 'CKV_GCP_64', resourceTypes: CLUSTER, title: 'the cluster has a private cluster config', fix: 'add private_cluster_config with enable_private_nodes = true',
    check: (r) => (block(r.private_cluster_config) ? undefined : 'private_cluster_config is missing') },
  { id: 'MLP_GKE_PRIVATE_NODES', resourceTypes: CLUSTER, title: 'nodes have private IPs only', fix: 'set private_cluster_config.enable_private_nodes = true',
    check: (r) => (isTrue(block(r.private_cluster_config)?.enable_private_nodes) ? undefined : 'private nodes are not enabled') },
  { id: 'CKV_GCP_65', resourceTypes: CLUSTER, title: 'Kubernetes RBAC users are managed with Google Groups', fix: "set authenticator_groups_config.security_group = 'gke-security-groups@<your Workspace domain>'",
    check: (r) => (block(r.authenticator_groups_config)?.security_group !== undefined ? undefined : 'authenticator_groups_config.security_group is not set') },
  { id: 'CKV_GCP_66', resourceTypes: CLUSTER, title: 'Binary Authorization is enabled', fix: "set binary_authorization.evaluation_mode = 'PROJECT_SINGLETON_POLICY_ENFORCE'",
    check: (r) => {
      const mode = block(r.binary_authorization)?.evaluation_mode;
      return mode === 'PROJECT_SINGLETON_POLICY_ENFORCE' || isTrue(mode) || isTrue(r.enable_binary_authorization) ? undefined : 'Binary Authorization is not enforced';
    } },
  { id: 'CKV_GCP_70', resourceTypes: CLUSTER, title: 'the cluster is on a release channel', fix: "set release_channel.channel to 'REGULAR' or 'STABLE'",
    check: (r) => (block(r.release_channel)?.channel !== undefined ? undefined : 'no release channel') },
  { id: 'CKV_GCP_71', resourceTypes: CLUSTER, title: 'shielded GKE nodes are enabled', fix: 'set enable_shielded_nodes = true',
    check: (r) => (isTrue(r.enable_shielded_nodes) ? undefined : 'enable_shielded_nodes is not true') },
  { id: 'MLP_GKE_WORKLOAD_IDENTITY', resourceTypes: CLUSTER, title: 'Workload Identity is enabled', fix: "set workload_identity_config.workload_pool = '<project>.svc.id.goog'",
    check: (r) => (block(r.workload_identity_config)?.workload_pool ? undefined : 'workload_identity_config is missing') },
  // ---- node config (cluster default pool and node pools)
  { id: 'CKV_GCP_69', resourceTypes: NODE_CONFIG_HOLDERS, title: 'the GKE metadata server is enabled', fix: "set node_config.workload_metadata_config.mode = 'GKE_METADATA'",
    check: (r) => { const wmc = block(block(r.node_config)?.workload_metadata_config); return wmc?.mode === 'GKE_METADATA' || wmc?.node_metadata === 'GKE_METADATA_SERVER' ? undefined : 'workload_metadata_config.mode is not GKE_METADATA'; } },
  { id: 'CKV_GCP_68', resourceTypes: NODE_CONFIG_HOLDERS, title: 'shielded nodes boot securely', fix: 'set node_config.shielded_instance_config.enable_secure_boot = true',
    check: (r) => { const nc = block(r.node_config); if (!nc) return undefined; return isTrue(block(nc.shielded_instance_config)?.enable_secure_boot) ? undefined : 'secure boot is off'; } },
  { id: 'CKV_GCP_72', resourceTypes: NODE_CONFIG_HOLDERS, title: 'integrity monitoring is on', fix: 'set node_config.shielded_instance_config.enable_integrity_monitoring = true',
    check: (r) => { const sic = block(block(r.node_config)?.shielded_instance_config); return sic && !isTrue(sic.enable_integrity_monitoring) ? 'integrity monitoring is not true' : undefined; } },
  // Checkov checks node pools only (and fails one without node_config); MLP_CLUSTER_NODE_COS covers the cluster's own node_config.
  { id: 'CKV_GCP_22', resourceTypes: POOL, title: 'nodes run Container-Optimized OS', fix: "set node_config.image_type = 'COS_CONTAINERD'",
    check: (r) => { const it = block(r.node_config)?.image_type; return typeof it === 'string' && it.toLowerCase().startsWith('cos') ? undefined : `image_type is ${it ?? 'unset'}`; } },
  { id: 'MLP_CLUSTER_NODE_COS', resourceTypes: CLUSTER, title: "the cluster's node_config runs Container-Optimized OS", fix: "set node_config.image_type = 'COS_CONTAINERD'",
    check: (r) => { const nc = block(r.node_config); if (!nc) return undefined; return typeof nc.image_type === 'string' && nc.image_type.toLowerCase().startsWith('cos') ? undefined : `image_type is ${nc.image_type ?? 'unset'}`; } },
  { id: 'MLP_NODE_SERVICE_ACCOUNT', resourceTypes: NODE_CONFIG_HOLDERS, title: 'nodes use a dedicated service account, not the Compute Engine default', fix: 'set node_config.service_account to the cluster node service account (MlCluster.nodeServiceAccount)',
    check: (r) => { const nc = block(r.node_config); if (!nc) return undefined; return nc.service_account && nc.service_account !== 'default' ? undefined : 'node_config.service_account is the default compute service account'; } },
  { id: 'CKV_GCP_9', resourceTypes: POOL, title: 'node auto-repair is enabled', fix: 'set management.auto_repair = true (DWS queued/flex-start pools must turn it off: GpuNodePool suppresses this rule for them)',
    check: (r) => (isTrue(block(r.management)?.auto_repair) ? undefined : 'auto_repair is off') },
  { id: 'CKV_GCP_10', resourceTypes: POOL, title: 'node auto-upgrade is enabled', fix: 'set management.auto_upgrade = true',
    check: (r) => (isTrue(block(r.management)?.auto_upgrade) ? undefined : 'auto_upgrade is off') },
  { id: 'MLP_GPU_TAINT', resourceTypes: POOL, title: 'GPU pools carry the nvidia.com/gpu NoSchedule taint', fix: "add node_config.taint { key = 'nvidia.com/gpu', value = 'present', effect = 'NO_SCHEDULE' } (GpuNodePool always does)",
    check: (r) => (isAcceleratorPool(r) && !hasTaint(r, 'nvidia.com/gpu') ? 'GPU pool without the nvidia.com/gpu taint: CPU workloads will land on GPU nodes' : undefined) },
  { id: 'MLP_GPU_DRIVER', resourceTypes: POOL, title: 'GPU pools declare driver installation', fix: 'set guest_accelerator.gpu_driver_installation_config.gpu_driver_version',
    check: (r) => (isAcceleratorPool(r) && list(block(r.node_config)?.guest_accelerator).some((g) => !block(g.gpu_driver_installation_config)?.gpu_driver_version) ? 'guest_accelerator without gpu_driver_installation_config' : undefined) },
  { id: 'MLP_DWS_QUEUED', resourceTypes: POOL, title: 'queued provisioning pools use no reservation, scale from 0 and have no COMPACT placement', fix: 'set reservation_affinity NO_RESERVATION, total_min_node_count 0 and drop placement_policy',
    check: (r) => {
      if (!isTrue(block(r.queued_provisioning)?.enabled)) return undefined;
      const problems: string[] = [];
      const aff = block(block(r.node_config)?.reservation_affinity)?.consume_reservation_type;
      if (aff !== 'NO_RESERVATION') problems.push(`reservation affinity is ${aff ?? 'unset (defaults to ANY_RESERVATION)'}`);
      const as = block(r.autoscaling);
      const min = as?.total_min_node_count ?? as?.min_node_count ?? 0;
      if (min !== 0) problems.push(`autoscaling minimum is ${min}`);
      if (block(r.placement_policy)?.type === 'COMPACT') problems.push('placement is COMPACT');
      return problems.length ? problems.join('; ') : undefined;
    } },
  { id: 'MLP_DWS_FLEX_START', resourceTypes: POOL, title: 'flex-start pools have auto-repair off and no spot', fix: 'set management.auto_repair = false and node_config.spot = false',
    check: (r) => {
      if (!isTrue(block(r.node_config)?.flex_start)) return undefined;
      const problems: string[] = [];
      if (!isFalse(block(r.management)?.auto_repair)) problems.push('auto_repair is not false');
      if (isTrue(block(r.node_config)?.spot)) problems.push('spot is true');
      return problems.length ? problems.join('; ') : undefined;
    } },
  { id: 'MLP_COMPACT_SINGLE_ZONE', resourceTypes: POOL, title: 'COMPACT placement pools run in one zone', fix: 'set node_locations to exactly one zone',
    check: (r) => (block(r.placement_policy)?.type === 'COMPACT' && !(Array.isArray(r.node_locations) && r.node_locations.length === 1) ? `COMPACT placement with node_locations ${JSON.stringify(r.node_locations ?? 'unset')}` : undefined) },
  { id: 'MLP_TPU_PLACEMENT', resourceTypes: POOL, title: 'TPU pools have COMPACT placement with tpu_topology, one zone and the google.com/tpu taint', fix: 'use TpuNodePool, or set placement_policy { type = COMPACT, tpu_topology }, a single node location and the google.com/tpu taint',
    check: (r) => {
      if (!isTpuPool(r)) return undefined;
      const problems: string[] = [];
      const pp = block(r.placement_policy);
      if (pp?.type !== 'COMPACT') problems.push('placement_policy is not COMPACT');
      if (!pp?.tpu_topology) problems.push('tpu_topology is missing');
      if (!Array.isArray(r.node_locations) || r.node_locations.length !== 1) problems.push('node_locations is not a single zone');
      if (!hasTaint(r, 'google.com/tpu')) problems.push('google.com/tpu taint is missing');
      return problems.length ? problems.join('; ') : undefined;
    } },
  // ---- buckets
  { id: 'CKV_GCP_29', resourceTypes: BUCKET, title: 'uniform bucket-level access is enabled', fix: 'set uniform_bucket_level_access = true',
    check: (r) => (isTrue(r.uniform_bucket_level_access) ? undefined : 'uniform bucket-level access is off') },
  { id: 'CKV_GCP_114', resourceTypes: BUCKET, title: 'public access prevention is enforced', fix: "set public_access_prevention = 'enforced'",
    check: (r) => (r.public_access_prevention === 'enforced' ? undefined : `public_access_prevention is ${r.public_access_prevention ?? 'inherited'}`) },
  { id: 'CKV_GCP_62', resourceTypes: BUCKET, title: 'bucket access is logged', fix: 'set logging.log_bucket (ArtifactStore logs to its access-logs bucket)',
    check: (r) => (block(r.logging)?.log_bucket ? undefined : 'no access logging') },
  { id: 'CKV_GCP_78', resourceTypes: BUCKET, title: 'object versioning is enabled', fix: 'set versioning.enabled = true',
    check: (r) => (isTrue(block(r.versioning)?.enabled) ? undefined : 'versioning is off') },
  // ---- Cloud SQL
  // Checkov wants client certificates (ENCRYPTED_ONLY passes only on SQL Server); MLP_SQL_TLS is the looser rule the
  // platform keeps, since private-IP clients with IAM database login (Vertex jobs, the Auth Proxy) use TLS without one.
  { id: 'CKV_GCP_6', resourceTypes: SQL, title: 'connections require TLS with a trusted client certificate', fix: "set settings.ip_configuration.ssl_mode = 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED', or suppress with the reason ENCRYPTED_ONLY suffices",
    check: (r) => {
      const ip = block(block(r.settings)?.ip_configuration);
      if (ip?.ssl_mode !== undefined) {
        if (ip.ssl_mode === 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED') return undefined;
        return String(r.database_version).includes('SQLSERVER') && ip.ssl_mode === 'ENCRYPTED_ONLY' ? undefined : `ssl_mode is ${ip.ssl_mode}`;
      }
      return ip && isTrue(ip.require_ssl) ? undefined : 'neither ssl_mode nor require_ssl is set';
    } },
  { id: 'MLP_SQL_TLS', resourceTypes: SQL, title: 'connections require TLS', fix: "set settings.ip_configuration.ssl_mode = 'ENCRYPTED_ONLY' (MetadataDatabase does)",
    check: (r) => {
      const ip = block(block(r.settings)?.ip_configuration);
      return ip && (ip.ssl_mode === 'ENCRYPTED_ONLY' || ip.ssl_mode === 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED' || isTrue(ip.require_ssl)) ? undefined : `ssl_mode is ${ip?.ssl_mode ?? 'unset (unencrypted allowed)'}`;
    } },
  { id: 'CKV_GCP_11', resourceTypes: SQL, title: 'no authorized network opens the instance to the internet', fix: 'remove 0.0.0.0/0 from settings.ip_configuration.authorized_networks',
    check: (r) => (list(block(block(r.settings)?.ip_configuration)?.authorized_networks).some((n) => typeof n.value === 'string' && n.value.endsWith('/0')) ? 'authorized network 0.0.0.0/0' : undefined) },
  { id: 'CKV_GCP_14', resourceTypes: SQL, title: 'automated backups are enabled', fix: 'set settings.backup_configuration.enabled = true',
    check: (r) => (r.master_instance_name !== undefined || isTrue(block(block(r.settings)?.backup_configuration)?.enabled) ? undefined : 'backups are off') },
  // Checkov fails only an explicit ipv4_enabled = true; the API's default is a public IP, hence MLP_SQL_IPV4_OFF.
  { id: 'CKV_GCP_60', resourceTypes: SQL, title: 'Cloud SQL has no public IP', fix: 'set settings.ip_configuration.ipv4_enabled = false and use private IP through private service access (MetadataDatabase does)',
    check: (r) => (isTrue(block(block(r.settings)?.ip_configuration)?.ipv4_enabled) ? 'the instance has a public IPv4 address' : undefined) },
  { id: 'MLP_SQL_IPV4_OFF', resourceTypes: SQL, title: 'Cloud SQL says ipv4_enabled = false (unset means a public IP)', fix: 'set settings.ip_configuration.ipv4_enabled = false (MetadataDatabase does)',
    check: (r) => (isFalse(block(block(r.settings)?.ip_configuration)?.ipv4_enabled) ? undefined : 'ipv4_enabled is not false') },
  pgFlagRule('CKV_GCP_51', 'log_checkpoints', ['on']),
  pgFlagRule('CKV_GCP_52', 'log_connections', ['on'], 'ifSet'),
  pgFlagRule('CKV_GCP_53', 'log_disconnections', ['on'], 'ifSet'),
  pgFlagRule('CKV_GCP_54', 'log_lock_waits', ['on'], 'ifSet'),
  pgFlagRule('CKV_GCP_55', 'log_min_messages', ['warning', 'error', 'log', 'fatal', 'panic', 'notice', 'info', 'debug1', 'debug2', 'debug3', 'debug4', 'debug5'], 'ifSet'),
  pgFlagRule('CKV_GCP_56', 'log_temp_files', ['0'], 'ifSet'),
  pgFlagRule('CKV_GCP_57', 'log_min_duration_statement', ['-1'], 'ifSet'),
  pgFlagRule('CKV_GCP_108', 'log_hostname', ['on']),
  pgFlagRule('CKV_GCP_109', 'log_min_error_statement', ['error', 'warning', 'notice', 'info', 'debug1', 'debug2', 'debug3', 'debug4', 'debug5']),
  pgFlagRule('CKV_GCP_110', 'cloudsql.enable_pgaudit', ['on']),
  pgFlagRule('CKV_GCP_111', 'log_statement', ['ddl', 'mod', 'all']),
  // Checkov's graph check: database_version not containing POSTGRES passes; otherwise log_duration must be on.
  pgFlagRule('CKV2_GCP_13', 'log_duration', ['on']),
  { id: 'CKV_GCP_79', resourceTypes: SQL, title: "the instance runs its engine's latest major version", fix: "set database_version = 'POSTGRES_17' (MetadataDatabase databaseVersion)",
    check: (r) => (LATEST_SQL_VERSIONS.includes(String(r.database_version)) ? undefined : `database_version is ${r.database_version ?? 'unset'}`) },
  pgFlagRule('MLP_SQL_IAM_AUTH', 'cloudsql.iam_authentication', ['on']),
  { id: 'MLP_SQL_PITR', resourceTypes: SQL, title: 'point-in-time recovery is enabled', fix: 'set settings.backup_configuration.point_in_time_recovery_enabled = true',
    check: (r) => (isTrue(block(block(r.settings)?.backup_configuration)?.point_in_time_recovery_enabled) ? undefined : 'PITR is off') },
  // ---- IAM
  { id: 'CKV_GCP_117', resourceTypes: PROJECT_IAM, title: 'no basic roles (owner/editor/viewer) on the project', fix: 'grant a predefined least-privilege role instead',
    check: (r) => (BASIC_ROLES.includes(String(r.role)) ? `basic role ${r.role}` : undefined) },
  { id: 'MLP_BASIC_ROLES', resourceTypes: IAM_MEMBER_TYPES.filter((t) => !PROJECT_IAM.includes(t)), title: 'no basic roles (owner/editor/viewer) on buckets, repositories or service accounts', fix: 'grant a predefined least-privilege role instead',
    check: (r) => (BASIC_ROLES.includes(String(r.role)) ? `basic role ${r.role}` : undefined) },
  { id: 'CKV_GCP_41', resourceTypes: PROJECT_IAM, title: 'no project-wide Service Account User / Token Creator', fix: 'grant roles/iam.serviceAccountUser on the specific service account instead of the project',
    check: (r) => (r.role === undefined ? 'no role' : ['roles/iam.serviceAccountUser', 'roles/iam.serviceAccountTokenCreator'].includes(String(r.role)) ? `${r.role} at project level` : undefined) },
  // Checkov's AbsGoogleImpersonationRoles list: roles that can act as or manage every service account of the project.
  { id: 'CKV_GCP_49', resourceTypes: PROJECT_IAM, title: 'no project-level roles that impersonate or manage service accounts', fix: 'grant the role on the specific service account, or a narrower role',
    check: (r) => (IMPERSONATION_ROLES.includes(String(r.role)) ? `${r.role} at project level` : undefined) },
  // Checkov matches a literal user-managed service account email only; MLP_SA_ADMIN_ROLES also sees accounts this
  // stack creates (Terraform references) and bindings.
  { id: 'CKV_GCP_42', resourceTypes: ['google_project_iam_member'], title: 'service accounts have no admin roles at project level', fix: 'grant the specific non-admin roles the workload needs',
    check: (r) => (USER_MANAGED_SA.test(String(r.member)) && ADMIN_ROLE.test(String(r.role)) ? `service account granted ${r.role}` : undefined) },
  { id: 'MLP_SA_ADMIN_ROLES', resourceTypes: PROJECT_IAM, title: 'service accounts have no admin, editor or owner roles at project level', fix: 'grant the specific non-admin roles the workload needs',
    check: (r) => (members(r).some((m) => m.startsWith('serviceAccount:')) && ADMIN_ROLE.test(String(r.role)) ? `service account granted ${r.role}` : undefined) },
  { id: 'CKV_GCP_28', resourceTypes: ['google_storage_bucket_iam_member', 'google_storage_bucket_iam_binding'], title: 'buckets are not anonymously or publicly accessible', fix: 'grant named principals only',
    check: (r) => publicGrant(r) },
  { id: 'MLP_PUBLIC_IAM', resourceTypes: IAM_MEMBER_TYPES.filter((t) => !t.startsWith('google_storage_bucket_')), title: 'nothing else is granted to allUsers/allAuthenticatedUsers', fix: 'grant named principals only',
    check: (r) => publicGrant(r) },
  { id: 'MLP_TRANSFER_AGENT_LEAST_PRIVILEGE', resourceTypes: IAM_MEMBER_TYPES, title: 'the Storage Transfer agent gets objectViewer/legacyBucketReader/legacyBucketWriter, never storage.admin', fix: 'use ArtifactBucket.grantTransferSource/grantTransferSink',
    check: (r) => (members(r).some((m) => m.includes('storage_transfer_project_service_account')) && ['roles/storage.admin', 'roles/storage.objectAdmin', 'roles/owner', 'roles/editor'].includes(String(r.role)) ? `transfer agent granted ${r.role}` : undefined) },
  { id: 'MLP_NO_SA_KEYS', resourceTypes: ['google_service_account_key'], title: 'no service account keys', fix: 'use Workload Identity (WorkloadIdentity) or impersonation instead of keys',
    check: () => 'a service account key is created' },
  // ---- Kubernetes workloads, Helm, Cloud Build, Composer, Storage Transfer (no Checkov rules for these)
  { id: 'MLP_K8S_IMAGE_PINNED', resourceTypes: [...DEPLOYMENT, 'kubernetes_manifest'], title: 'container images are pinned to a tag other than latest, or a digest', fix: 'use the commit tag Cloud Build pushes (or @sha256:...) so a rollout is a change Terraform sees',
    check: (r, type) => { const bad = images(r, type).map((i) => unpinnedImageReason(i)).filter((x) => x !== undefined); return bad.length ? bad.join('; ') : undefined; } },
  // Checkov judges the first container only (a passing one ends its loop); init containers are not read, and a spec
  // without containers is not judged. An image naming 'latest' passes without a policy (Kubernetes then pulls Always).
  { id: 'CKV_K8S_15', resourceTypes: K8S_WORKLOADS, title: 'image pull policy is Always', fix: "set image_pull_policy = 'Always' (ModelServing does)",
    check: (r) => {
      const spec = checkovPodSpec(r);
      if (spec === undefined) return 'no spec';
      const first = list(spec.container)[0];
      if (first === undefined) return undefined;
      if (first.image_pull_policy) return first.image_pull_policy === 'Always' ? undefined : `${first.name} pulls ${first.image_pull_policy}`;
      return typeof first.image === 'string' && first.image.includes('latest') ? undefined : `${first.name} has no image_pull_policy`;
    } },
  // Checkov reads the literal string: an image that is a Terraform reference has no '@' and fails too.
  { id: 'CKV_K8S_43', resourceTypes: K8S_WORKLOADS, title: 'images are given by digest', fix: 'give the image as <name>@sha256:<digest> (ModelServing requireDigest refuses tags)',
    check: (r) => {
      const spec = checkovPodSpec(r);
      if (spec === undefined) return 'no spec';
      const tagged = list(spec.container).filter((c) => typeof c.image === 'string' && c.image !== '' && !c.image.includes('@'));
      return tagged.length ? tagged.map((c) => `${c.name} runs ${c.image} by tag`).join('; ') : undefined;
    } },
  { id: 'MLP_K8S_PROBES', resourceTypes: DEPLOYMENT, title: 'serving containers have liveness and readiness probes', fix: 'set liveness_probe and readiness_probe (ModelServing probes /v2/health/live and /v2/health/ready)',
    check: (r) => {
      const missing = list(block(block(block(r.spec)?.template)?.spec)?.container)
        .flatMap((c) => [block(c.liveness_probe) ? undefined : `${c.name} has no liveness probe`, block(c.readiness_probe) ? undefined : `${c.name} has no readiness probe`])
        .filter((x) => x !== undefined);
      return missing.length ? missing.join('; ') : undefined;
    } },
  { id: 'MLP_K8S_NON_ROOT', resourceTypes: DEPLOYMENT, title: 'containers run as non-root without privilege escalation', fix: 'set security_context { run_as_non_root = true, allow_privilege_escalation = false } on every container',
    check: (r) => {
      const podNonRoot = isTrue(block(block(block(block(r.spec)?.template)?.spec)?.security_context)?.run_as_non_root);
      const bad = containers(r).flatMap((c) => {
        const sc = block(c.security_context);
        return [
          podNonRoot || isTrue(sc?.run_as_non_root) ? undefined : `${c.name} may run as root`,
          isFalse(sc?.allow_privilege_escalation) ? undefined : `${c.name} allows privilege escalation`,
          isTrue(sc?.privileged) ? `${c.name} is privileged` : undefined,
        ];
      }).filter((x) => x !== undefined);
      return bad.length ? bad.join('; ') : undefined;
    } },
  { id: 'MLP_K8S_RESOURCES', resourceTypes: DEPLOYMENT, title: 'containers request CPU and memory and limit memory', fix: 'set resources.requests (cpu, memory) and resources.limits.memory',
    check: (r) => {
      const bad = containers(r).filter((c) => {
        const res = block(c.resources);
        return !(res?.requests?.cpu && res?.requests?.memory && res?.limits?.memory);
      }).map((c) => `${c.name} has no CPU/memory requests or memory limit`);
      return bad.length ? bad.join('; ') : undefined;
    } },
  { id: 'MLP_HELM_PINNED', resourceTypes: ['helm_release'], title: 'Helm charts are pinned to an exact version', fix: 'set version to an exact chart version (no ranges), e.g. 0.45.21',
    check: (r) => (typeof r.version === 'string' && /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(r.version) ? undefined : `chart ${r.chart} version is ${r.version === undefined ? 'not set (latest)' : `'${r.version}'`}`) },
  { id: 'MLP_BUILD_SERVICE_ACCOUNT', resourceTypes: ['google_cloudbuild_trigger'], title: 'build triggers run as a dedicated service account', fix: 'set service_account to a least-privilege account (BuildTriggers creates one per trigger kind)',
    check: (r) => (typeof r.service_account === 'string' && r.service_account.length > 0 ? undefined : 'the trigger runs as the legacy Cloud Build service account') },
  { id: 'MLP_COMPOSER_PRIVATE', resourceTypes: ['google_composer_environment'], title: 'Composer environments are private and run as a user-managed service account', fix: 'set config.enable_private_environment = true and config.node_config.service_account (ComposerOrchestrator does)',
    check: (r) => {
      const cfg = block(r.config);
      const problems = [
        isTrue(cfg?.enable_private_environment) ? undefined : 'the environment is not private',
        block(cfg?.node_config)?.service_account ? undefined : 'it runs as the default compute service account',
      ].filter((x) => x !== undefined);
      return problems.length ? problems.join('; ') : undefined;
    } },
  { id: 'MLP_TRANSFER_NO_KEYS', resourceTypes: ['google_storage_transfer_job'], title: 'transfers from S3 use a role (federated identity), not access keys', fix: 'set aws_s3_data_source.role_arn and drop aws_access_key',
    check: (r) => (block(block(block(r.transfer_spec)?.aws_s3_data_source)?.aws_access_key) ? 'the S3 source uses an AWS access key' : undefined) },
  // ---- network
  { id: 'CKV_GCP_26', resourceTypes: ['google_compute_subnetwork'], title: 'VPC flow logs are enabled (proxy-only subnets exempt)', fix: 'set log_config on the subnet',
    check: (r) => (isProxySubnet(r) || r.log_config !== undefined ? undefined : 'no flow logs') },
  { id: 'CKV_GCP_74', resourceTypes: ['google_compute_subnetwork'], title: 'Private Google Access is enabled (proxy-only subnets exempt)', fix: 'set private_ip_google_access = true',
    check: (r) => (isProxySubnet(r) || isTrue(r.private_ip_google_access) ? undefined : 'Private Google Access is off') },
  // Checkov's graph check: a network with no firewall referencing it fails (the implied rules are not Terraform's to see).
  { id: 'CKV2_GCP_18', resourceTypes: ['google_compute_network'], title: 'the network defines a firewall rule of its own', fix: 'add a google_compute_firewall on the network (MlNetwork adds an explicit deny-all ingress rule)',
    check: (_r, _type, ctx) => (ctx.resourcesOf('google_compute_firewall').some((f) => typeof f.network === 'string' && f.network.includes(`google_compute_network.${ctx.logicalId}.`)) ? undefined : 'no google_compute_firewall references this network') },
  // ---- encryption at rest with customer-managed keys (ContainerRegistry and the topics take kmsKeyName; without one
  // they suppress these with that reason, so the decision shows at synth and in the Checkov config)
  { id: 'CKV_GCP_83', resourceTypes: ['google_pubsub_topic'], title: 'Pub/Sub topics are encrypted with a customer-managed key', fix: 'set kms_key_name (the kmsKeyName prop)',
    check: (r) => (r.kms_key_name !== undefined ? undefined : 'kms_key_name is not set') },
  { id: 'CKV_GCP_84', resourceTypes: ['google_artifact_registry_repository'], title: 'Artifact Registry repositories are encrypted with a customer-managed key', fix: 'set kms_key_name (ContainerRegistry kmsKeyName)',
    check: (r) => (r.kms_key_name !== undefined ? undefined : 'kms_key_name is not set') },
];

export const RULE_IDS: ReadonlySet<string> = new Set(RULES.map((r) => r.id));
