// MlNetwork: the VPC an ML platform runs in - custom-mode VPC, GKE subnet with pod/service ranges, Cloud NAT,
// and private service access (VPC peering) for Cloud SQL private IP.
import { Construct } from 'constructs';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat';
import { ComputeGlobalAddress } from '@cdktf/provider-google/lib/compute-global-address';
import { ServiceNetworkingConnection } from '@cdktf/provider-google/lib/service-networking-connection';
import { ConstructValidationError, cidrsOverlap, parseCidr } from './errors';

export interface MlNetworkProps {
  /** VPC name (also the prefix of the subnet, router and NAT names). Lowercase, 1-50 chars. */
  readonly name: string;
  /** Region of the subnet, router and NAT, e.g. `us-central1`. */
  readonly region: string;
  /** Primary range of the GKE subnet (nodes), e.g. `10.0.0.0/20`. */
  readonly subnetCidr: string;
  /** Secondary range for pods, e.g. `10.4.0.0/14`. */
  readonly podsCidr: string;
  /** Secondary range for services, e.g. `10.8.0.0/20`. */
  readonly servicesCidr: string;
  /** Range reserved for private service access (Cloud SQL private IP); /24 or larger, e.g. `10.10.0.0/16`. */
  readonly privateServiceAccessCidr: string;
  /**
   * Project of every resource.
   * @default - the provider's project
   */
  readonly project?: string;
  /**
   * Fraction of flows sampled by VPC flow logs (0 < x <= 1).
   * @default 0.5
   */
  readonly flowLogSampling?: number;
  /**
   * What Cloud NAT logs.
   * @default 'ERRORS_ONLY' - translation errors only, cheap
   */
  readonly natLogFilter?: 'ERRORS_ONLY' | 'TRANSLATIONS_ONLY' | 'ALL';
}

/**
 * Custom-mode VPC for the platform.
 *
 * Construct ids (a contract - renaming replaces resources): `vpc`, `subnet`, `router`, `nat`,
 * `private-service-range`, `private-service-connection`.
 *
 * Teardown: the service networking connection uses `deletion_policy = "ABANDON"`, because Google refuses to remove
 * the peering while Cloud SQL producer resources still exist. Terraform destroys in dependency order: the Cloud SQL
 * instance (which depends on `privateServiceConnection`) first, then the connection (abandoned), the reserved range,
 * NAT, router, subnet and finally the VPC.
 */
export class MlNetwork extends Construct {
  readonly network: ComputeNetwork;
  readonly subnetwork: ComputeSubnetwork;
  readonly router: ComputeRouter;
  readonly nat: ComputeRouterNat;
  readonly privateServiceRange: ComputeGlobalAddress;
  /** Cloud SQL instances must depend on this so they are created after (and destroyed before) the peering. */
  readonly privateServiceConnection: ServiceNetworkingConnection;
  readonly region: string;
  /** VPC name (literal). */
  readonly name: string;
  /** Name of the subnet's secondary range for pods. */
  readonly podsRangeName = 'pods';
  /** Name of the subnet's secondary range for services. */
  readonly servicesRangeName = 'services';
  /** The props as given (literal values, for validation by other constructs). */
  readonly cidrs: { readonly subnet: string; readonly pods: string; readonly services: string; readonly privateServiceAccess: string };

  constructor(scope: Construct, id: string, props: MlNetworkProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('MlNetwork', this, msg);
    if (!/^[a-z]([a-z0-9-]{0,48}[a-z0-9])?$/.test(props.name)) {
      throw fail(`name '${props.name}' is invalid; use 1-50 lowercase letters, digits or '-', starting with a letter.`);
    }
    if (!/^[a-z]+-[a-z]+\d+$/.test(props.region)) throw fail(`region '${props.region}' is not a region name like us-central1.`);
    const ranges: [string, string][] = [
      ['subnetCidr', props.subnetCidr], ['podsCidr', props.podsCidr], ['servicesCidr', props.servicesCidr], ['privateServiceAccessCidr', props.privateServiceAccessCidr],
    ];
    for (const [field, cidr] of ranges) {
      if (!parseCidr(cidr)) throw fail(`${field} '${cidr}' is not an IPv4 CIDR like 10.0.0.0/20.`);
    }
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        if (cidrsOverlap(ranges[i][1], ranges[j][1])) {
          throw fail(`${ranges[i][0]} ${ranges[i][1]} overlaps ${ranges[j][0]} ${ranges[j][1]}; give each range its own address space.`);
        }
      }
    }
    const psa = parseCidr(props.privateServiceAccessCidr)!;
    if (psa.prefix > 24) throw fail(`privateServiceAccessCidr ${props.privateServiceAccessCidr} is smaller than /24; private service access needs a /24 or larger range.`);
    const sampling = props.flowLogSampling ?? 0.5;
    if (!(sampling > 0 && sampling <= 1)) throw fail(`flowLogSampling ${sampling} must be in (0, 1].`);

    this.region = props.region;
    this.name = props.name;
    this.cidrs = { subnet: props.subnetCidr, pods: props.podsCidr, services: props.servicesCidr, privateServiceAccess: props.privateServiceAccessCidr };
    const project = props.project;

    this.network = new ComputeNetwork(this, 'vpc', {
      name: props.name,
      project,
      autoCreateSubnetworks: false,
      routingMode: 'REGIONAL',
      deleteDefaultRoutesOnCreate: false,
    });
    // GCP's implied deny-ingress rule, written out (CKV2_GCP_18 wants a firewall of the network's own). It sits at the
    // lowest priority but one, so GKE's own allow rules (priority 1000) and any the org adds still win.
    new ComputeFirewall(this, 'deny-all-ingress', {
      name: `${props.name}-deny-all-ingress`,
      project,
      network: this.network.id,
      direction: 'INGRESS',
      priority: 65534,
      sourceRanges: ['0.0.0.0/0'],
      deny: [{ protocol: 'all' }],
    });
    this.subnetwork = new ComputeSubnetwork(this, 'subnet', {
      name: `${props.name}-gke`,
      project,
      region: props.region,
      network: this.network.id,
      ipCidrRange: props.subnetCidr,
      privateIpGoogleAccess: true,
      secondaryIpRange: [
        { rangeName: this.podsRangeName, ipCidrRange: props.podsCidr },
        { rangeName: this.servicesRangeName, ipCidrRange: props.servicesCidr },
      ],
      logConfig: { aggregationInterval: 'INTERVAL_5_SEC', flowSampling: sampling, metadata: 'INCLUDE_ALL_METADATA' },
    });
    this.router = new ComputeRouter(this, 'router', {
      name: `${props.name}-router`,
      project,
      region: props.region,
      network: this.network.id,
    });
    this.nat = new ComputeRouterNat(this, 'nat', {
      name: `${props.name}-nat`,
      project,
      region: props.region,
      router: this.router.name,
      natIpAllocateOption: 'AUTO_ONLY',
      sourceSubnetworkIpRangesToNat: 'LIST_OF_SUBNETWORKS',
      subnetwork: [{ name: this.subnetwork.id, sourceIpRangesToNat: ['ALL_IP_RANGES'] }],
      logConfig: { enable: true, filter: props.natLogFilter ?? 'ERRORS_ONLY' },
    });
    this.privateServiceRange = new ComputeGlobalAddress(this, 'private-service-range', {
      name: `${props.name}-psa`,
      project,
      network: this.network.id,
      purpose: 'VPC_PEERING',
      addressType: 'INTERNAL',
      address: props.privateServiceAccessCidr.split('/')[0],
      prefixLength: psa.prefix,
    });
    this.privateServiceConnection = new ServiceNetworkingConnection(this, 'private-service-connection', {
      network: this.network.id,
      service: 'servicenetworking.googleapis.com',
      reservedPeeringRanges: [this.privateServiceRange.name],
      deletionPolicy: 'ABANDON',
    });
  }
}
