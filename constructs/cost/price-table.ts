// The list prices the monthly cost ceiling multiplies (USD, us-central1, on-demand, no discounts), each with the public
// page it comes from, the day it was read and how it was seen. Prices change: re-read the pages, update the values and
// READ_ON together, and keep `seen` honest ('page': the number was on Google's page; 'secondary': a dated third-party
// page quoting Google's; 'unverified': a known list price whose page showed no number when read - check it first).

/** When the prices below were read. */
export const READ_ON = '2026-12-07';

/** How a price was obtained. */
export type PriceSeen = 'page' | 'secondary' | 'unverified';

/** One price and where it comes from. */
export interface Price {
  /** USD per unit (the unit is in the field name that holds it). */
  readonly usd: number;
  /** Google's public price page of the item. */
  readonly page: string;
  readonly seen: PriceSeen;
  /** The secondary page, or what was and was not visible. */
  readonly note?: string;
}

const VM_PAGE = 'https://cloud.google.com/compute/vm-instance-pricing';
const GPU_CATALOG_NOTE = 'Google\'s VM page renders its tables client-side (no numbers in the stored copy); value from a public GPU price catalog (us-central1, "early 2025") found by code search';
const unverifiedVm = (usd: number): Price => ({ usd, page: VM_PAGE, seen: 'unverified', note: 'list price; no number visible on the stored copy of the page' });
const catalogVm = (usd: number): Price => ({ usd, page: VM_PAGE, seen: 'secondary', note: GPU_CATALOG_NOTE });

export interface PriceTable {
  readonly region: string;
  readonly readOn: string;
  /** Hours in the billing month the ceiling assumes (Google's calculators use 730). */
  readonly hoursPerMonth: number;
  /** Machine types per node-hour; accelerator-optimized machines (a2, a3, a4, g2) include their GPUs. */
  readonly machinePerHour: { readonly [machineType: string]: Price };
  /** GPUs attached to N1 machines, per GPU-hour (on top of the machine). */
  readonly attachedGpuPerHour: { readonly [acceleratorType: string]: Price };
  /** TPU slices per chip-hour (the TPU VM hosts are included). */
  readonly tpuChipPerHour: { readonly [version: string]: Price };
  /**
   * Largest fraction of the on-demand price a Spot VM or Spot TPU costs: Spot discounts are 60-91%, so 0.40 bounds
   * the price from above.
   */
  readonly spotMaxFraction: Price;
  readonly gkeClusterPerHour: Price;
  /** Cloud SQL Enterprise edition: dedicated-core vCPU-hour and memory GB-hour; HA doubles both. */
  readonly cloudSqlVcpuPerHour: Price;
  readonly cloudSqlMemoryGbPerHour: Price;
  /** Shared-core tiers per instance-hour. */
  readonly cloudSqlSharedCorePerHour: { readonly [tier: string]: Price };
  /** SSD storage per GB-month; HA doubles it. */
  readonly cloudSqlSsdGbPerMonth: Price;
  /** Cloud Composer 3 per DCU-hour. */
  readonly composerDcuPerHour: Price;
  /**
   * DCUs a Composer 3 environment of each size holds at most (infrastructure plus autoscaled workers): an assumption,
   * not a price page figure; high resilience doubles it.
   */
  readonly composerMaxDcus: { readonly [size in 'SMALL' | 'MEDIUM' | 'LARGE']: number };
  readonly storageStandardGbPerMonth: Price;
  readonly internetEgressPerGb: Price;
}

/** us-central1 list prices read on READ_ON. */
export const PRICES: PriceTable = {
  region: 'us-central1',
  readOn: READ_ON,
  hoursPerMonth: 730,
  machinePerHour: {
    'e2-standard-4': unverifiedVm(0.134012),
    'e2-standard-8': unverifiedVm(0.268024),
    'n2-standard-8': unverifiedVm(0.388472),
    'g2-standard-4': catalogVm(0.7211),
    'g2-standard-8': catalogVm(0.8535),
    'g2-standard-24': catalogVm(2.3838),
    'g2-standard-48': catalogVm(4.7677),
    'a2-highgpu-1g': catalogVm(3.67),
    'a2-highgpu-2g': catalogVm(7.35),
    'a2-highgpu-4g': catalogVm(14.69),
    'a2-highgpu-8g': catalogVm(29.39),
    'a2-ultragpu-1g': catalogVm(5.07),
    'a3-highgpu-8g': catalogVm(101.22),
  },
  attachedGpuPerHour: {
    'nvidia-tesla-t4': { usd: 0.35, page: 'https://cloud.google.com/compute/gpus-pricing', seen: 'unverified', note: 'list price; no number visible on the stored copy of the page' },
  },
  tpuChipPerHour: {
    v5e: { usd: 1.2, page: 'https://cloud.google.com/tpu/pricing', seen: 'unverified', note: 'list price; the stored copies of the page show v2-v4 tables only' },
    v5p: { usd: 4.2, page: 'https://cloud.google.com/tpu/pricing', seen: 'unverified', note: 'list price; the stored copies of the page show v2-v4 tables only' },
  },
  spotMaxFraction: { usd: 0.4, page: 'https://cloud.google.com/kubernetes-engine/pricing', seen: 'page', note: '"Spot prices are dynamic ... but always provide discounts of 60-91%" (not a USD amount: a fraction)' },
  gkeClusterPerHour: { usd: 0.1, page: 'https://cloud.google.com/kubernetes-engine/pricing', seen: 'page', note: '$0.10 per cluster per hour; the $74.40 monthly free-tier credit is not subtracted (a ceiling)' },
  cloudSqlVcpuPerHour: { usd: 0.0413, page: 'https://cloud.google.com/sql/pricing', seen: 'secondary', note: 'https://www.usage.ai/blogs/gcp/cloud-sql/pricing/ (May 2026, quoting Google\'s page): Enterprise dedicated-core vCPU-hour' },
  cloudSqlMemoryGbPerHour: { usd: 0.007, page: 'https://cloud.google.com/sql/pricing', seen: 'secondary', note: 'https://www.usage.ai/blogs/gcp/cloud-sql/pricing/ (May 2026, quoting Google\'s page): Enterprise memory GB-hour' },
  cloudSqlSharedCorePerHour: {
    'db-f1-micro': { usd: 0.0105, page: 'https://cloud.google.com/sql/pricing', seen: 'unverified', note: 'list price; not shown by the pages read' },
    'db-g1-small': { usd: 0.035, page: 'https://cloud.google.com/sql/pricing', seen: 'unverified', note: 'list price; not shown by the pages read' },
  },
  cloudSqlSsdGbPerMonth: { usd: 0.17, page: 'https://cloud.google.com/sql/pricing', seen: 'unverified', note: 'list price; not shown by the pages read' },
  composerDcuPerHour: { usd: 0.06, page: 'https://cloud.google.com/composer/pricing', seen: 'page', note: 'Cloud Composer 3 standard milli DCU-hours: $0.06 / 1,000' },
  composerMaxDcus: { SMALL: 8, MEDIUM: 16, LARGE: 32 },
  storageStandardGbPerMonth: { usd: 0.02, page: 'https://cloud.google.com/storage/pricing', seen: 'unverified', note: 'Standard storage, regional us-central1; list price' },
  internetEgressPerGb: { usd: 0.12, page: 'https://cloud.google.com/vpc/network-pricing', seen: 'unverified', note: 'Premium Tier internet egress, first TiB; list price' },
};
