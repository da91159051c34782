// The monthly cost ceiling of an environment: what it costs at most if every node pool runs at its maximum all month
// (spot pools at the highest spot price), plus the GKE cluster fee, Cloud SQL tier (doubled for HA), Composer at its
// size's maximum DCUs, and a stated storage and egress assumption - priced from PRICES. A machine, tier or TPU version
// the table has no price for is an error naming what to add, never a guess.
import { GPU_CATALOGUE, GpuAcceleratorType, resolveGpu } from '../accelerators';
import { TpuVersion, resolveTpuSlice } from '../tpu';
import type { MlPlatformProps } from '../ml-platform';
import { Price, PRICES, PriceTable } from './price-table';

/** An item the price table cannot price; the message says what to add where. */
export class CostCeilingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostCeilingError';
  }
}

/** A node pool at its autoscaling maximum. */
export interface NodePoolCost {
  readonly name: string;
  readonly machineType: string;
  /** Most nodes (the pool's total_max_node_count). */
  readonly maxNodes: number;
  /**
   * Spot VMs (priced at the highest spot price, PriceTable.spotMaxFraction of on-demand).
   * @default false
   */
  readonly spot?: boolean;
  /**
   * GPUs on the nodes: accelerator-optimized machines (g2, a2, a3, a4) include them in the machine price, N1 machines
   * pay per attached GPU.
   * @default - none
   */
  readonly gpu?: { readonly type: GpuAcceleratorType; readonly perNode?: number };
}

/** A TPU slice pool at its full size. */
export interface TpuPoolCost {
  readonly name: string;
  readonly version: TpuVersion;
  readonly topology: string;
  /**
   * Spot TPUs.
   * @default false
   */
  readonly spot?: boolean;
}

export interface CostCeilingInput {
  /**
   * GKE clusters (each pays the cluster management fee).
   * @default 1
   */
  readonly clusters?: number;
  readonly nodePools: readonly NodePoolCost[];
  /**
   * TPU slice pools.
   * @default - none
   */
  readonly tpuPools?: readonly TpuPoolCost[];
  /**
   * The Cloud SQL instance.
   * @default - none
   */
  readonly database?: { readonly tier: string; readonly highAvailability?: boolean; readonly diskSizeGb?: number; readonly edition?: 'ENTERPRISE' | 'ENTERPRISE_PLUS' };
  /**
   * A Cloud Composer 3 environment.
   * @default - none
   */
  readonly composer?: { readonly environmentSize?: 'SMALL' | 'MEDIUM' | 'LARGE'; readonly highResilience?: boolean };
  /** Assumed GB stored in Cloud Storage (Standard class) all month. */
  readonly storageGb: number;
  /** Assumed GB sent to the internet in the month. */
  readonly egressGb: number;
}

/** One priced item. */
export interface CostLine {
  readonly item: string;
  /** How the amount was computed. */
  readonly detail: string;
  readonly monthlyUsd: number;
}

export interface CostCeiling {
  readonly lines: readonly CostLine[];
  /** Sum of the lines. */
  readonly monthlyUsd: number;
  readonly region: string;
  readonly readOn: string;
  /** Prices used that were not seen on a page when read (see price-table.ts). */
  readonly unverifiedPrices: number;
  /** What the ceiling leaves out. */
  readonly excluded: readonly string[];
}

/** Items the ceiling does not price (said wherever the ceiling is shown). */
export const EXCLUDED_FROM_CEILING = [
  'node boot disks and local SSDs', 'Vertex AI Pipelines and Cloud Build runs', 'Cloud Logging and Monitoring beyond free allotments',
  'Cloud SQL backups', 'inter-zone and inter-region traffic', 'taxes, credits and committed-use discounts',
] as const;

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/** The ceiling of `input` at `prices`. */
export function costCeiling(input: CostCeilingInput, prices: PriceTable = PRICES): CostCeiling {
  const h = prices.hoursPerMonth;
  const used = new Set<Price>();
  const use = (p: Price) => { used.add(p); return p.usd; };
  const lines: CostLine[] = [];
  const add = (item: string, detail: string, monthlyUsd: number) => lines.push({ item, detail, monthlyUsd });
  const nonNegative = (what: string, v: number) => {
    if (!Number.isFinite(v) || v < 0) throw new CostCeilingError(`${what} ${v} must be a number of at least 0.`);
  };

  const clusters = input.clusters ?? 1;
  nonNegative('clusters', clusters);
  if (clusters > 0) add('GKE cluster fee', `${clusters} × ${usd(use(prices.gkeClusterPerHour))}/h × ${h} h`, clusters * prices.gkeClusterPerHour.usd * h);

  const spotFactor = (spot: boolean | undefined) => (spot ? use(prices.spotMaxFraction) : 1);
  for (const pool of input.nodePools) {
    nonNegative(`node pool '${pool.name}' maxNodes`, pool.maxNodes);
    const machine = prices.machinePerHour[pool.machineType];
    if (!machine) {
      throw new CostCeilingError(`node pool '${pool.name}': no price for machine type ${pool.machineType} in constructs/cost/price-table.ts (machinePerHour, ${prices.region}); add it with its price page.`);
    }
    let perNode = use(machine);
    let detail = `${pool.maxNodes} × ${pool.machineType} ${usd(machine.usd)}/h`;
    if (pool.gpu && GPU_CATALOGUE[pool.gpu.type]?.fixedMachines.length === 0) {
      const gpus = resolveGpu(pool.gpu.type, pool.machineType, pool.gpu.perNode);
      if (!gpus.ok) throw new CostCeilingError(`node pool '${pool.name}': ${gpus.reason}`);
      const gpu = prices.attachedGpuPerHour[pool.gpu.type];
      if (!gpu) throw new CostCeilingError(`node pool '${pool.name}': no price for attached GPU ${pool.gpu.type} in constructs/cost/price-table.ts (attachedGpuPerHour); add it with its price page.`);
      perNode += gpus.gpusPerNode * use(gpu);
      detail += ` + ${gpus.gpusPerNode} × ${pool.gpu.type} ${usd(gpu.usd)}/h`;
    }
    const factor = spotFactor(pool.spot);
    add(`node pool ${pool.name}${pool.spot ? ' (spot)' : ''}`, `${detail}${pool.spot ? ` × ${factor} (spot at most)` : ''} × ${h} h`, pool.maxNodes * perNode * factor * h);
  }

  for (const pool of input.tpuPools ?? []) {
    const slice = resolveTpuSlice(pool.version, pool.topology);
    if (!slice.ok) throw new CostCeilingError(`TPU pool '${pool.name}': ${slice.reason}`);
    const chip = prices.tpuChipPerHour[pool.version];
    if (!chip) throw new CostCeilingError(`TPU pool '${pool.name}': no price for TPU ${pool.version} in constructs/cost/price-table.ts (tpuChipPerHour); add it with its price page.`);
    const chips = slice.chipsPerVm * slice.nodeCount;
    const factor = spotFactor(pool.spot);
    add(`TPU pool ${pool.name}${pool.spot ? ' (spot)' : ''}`, `${chips} ${pool.version} chips (${pool.topology}) × ${usd(use(chip))}/chip-h${pool.spot ? ` × ${factor} (spot at most)` : ''} × ${h} h`, chips * chip.usd * factor * h);
  }

  const db = input.database;
  if (db) {
    const ha = db.highAvailability ? 2 : 1;
    const haNote = db.highAvailability ? ' × 2 (HA)' : '';
    if ((db.edition ?? 'ENTERPRISE') !== 'ENTERPRISE') {
      throw new CostCeilingError(`Cloud SQL edition ${db.edition}: constructs/cost/price-table.ts has Enterprise prices only; add Enterprise Plus vCPU and memory prices with their page.`);
    }
    const shared = prices.cloudSqlSharedCorePerHour[db.tier];
    const custom = /^db-custom-(\d+)-(\d+)$/.exec(db.tier);
    let perHour: number;
    let detail: string;
    if (shared) {
      perHour = use(shared);
      detail = `${db.tier} ${usd(shared.usd)}/h`;
    } else if (custom) {
      const vcpus = Number(custom[1]);
      const memoryGb = Number(custom[2]) / 1024;
      perHour = vcpus * use(prices.cloudSqlVcpuPerHour) + memoryGb * use(prices.cloudSqlMemoryGbPerHour);
      detail = `${vcpus} vCPU × ${usd(prices.cloudSqlVcpuPerHour.usd)}/h + ${memoryGb} GB × ${usd(prices.cloudSqlMemoryGbPerHour.usd)}/h`;
    } else {
      throw new CostCeilingError(`Cloud SQL tier ${db.tier}: no price rule in constructs/cost/price-table.ts (db-custom-<vCPU>-<MB> or cloudSqlSharedCorePerHour); add the tier with its page.`);
    }
    add(`Cloud SQL ${db.tier}`, `(${detail})${haNote} × ${h} h`, perHour * ha * h);
    const disk = db.diskSizeGb ?? 10;
    add('Cloud SQL SSD storage', `${disk} GB × ${usd(use(prices.cloudSqlSsdGbPerMonth))}/GB-month${haNote}`, disk * prices.cloudSqlSsdGbPerMonth.usd * ha);
  }

  if (input.composer) {
    const size = input.composer.environmentSize ?? 'SMALL';
    const dcus = prices.composerMaxDcus[size] * (input.composer.highResilience ? 2 : 1);
    add(`Cloud Composer 3 ${size}${input.composer.highResilience ? ' (high resilience)' : ''}`, `${dcus} DCU (assumed maximum) × ${usd(use(prices.composerDcuPerHour))}/DCU-h × ${h} h`, dcus * prices.composerDcuPerHour.usd * h);
  }

  nonNegative('storageGb', input.storageGb);
  nonNegative('egressGb', input.egressGb);
  add('Cloud Storage (assumed)', `${input.storageGb} GB Standard × ${usd(use(prices.storageStandardGbPerMonth))}/GB-month`, input.storageGb * prices.storageStandardGbPerMonth.usd);
  add('Internet egress (assumed)', `${input.egressGb} GB × ${usd(use(prices.internetEgressPerGb))}/GB`, input.egressGb * prices.internetEgressPerGb.usd);

  return {
    lines,
    monthlyUsd: lines.reduce((sum, l) => sum + l.monthlyUsd, 0),
    region: prices.region,
    readOn: prices.readOn,
    unverifiedPrices: [...used].filter((p) => p.seen === 'unverified').length,
    excluded: EXCLUDED_FROM_CEILING,
  };
}

/** The ceiling of an MlPlatform's configuration: its pools at their maxima, its database, its Composer environment if any. */
export function platformCostCeiling(props: MlPlatformProps, assumptions: { readonly storageGb: number; readonly egressGb: number }, prices: PriceTable = PRICES): CostCeiling {
  if (props.region !== prices.region) {
    throw new CostCeilingError(`region ${props.region}: constructs/cost/price-table.ts has ${prices.region} prices; pass a price table for ${props.region}.`);
  }
  const orchestrator = props.workloads?.orchestrator;
  return costCeiling({
    nodePools: [
      { name: 'general', machineType: props.cpuPool.machineType, maxNodes: props.cpuPool.maxNodes, spot: props.cpuPool.spot },
      ...(props.gpuPools ?? []).map((p) => ({ name: p.name, machineType: p.machineType, maxNodes: p.maxNodes, spot: p.spot, gpu: { type: p.accelerator, perNode: p.gpusPerNode } })),
    ],
    tpuPools: (props.tpuPools ?? []).map((p) => ({ name: p.name, version: p.version, topology: p.topology, spot: p.spot })),
    database: { tier: props.database.tier, highAvailability: props.database.highAvailability, diskSizeGb: props.database.diskSizeGb, edition: props.database.edition },
    composer: orchestrator?.kind === 'composer' ? { environmentSize: orchestrator.environmentSize, highResilience: orchestrator.highResilience } : undefined,
    storageGb: assumptions.storageGb,
    egressGb: assumptions.egressGb,
  }, prices);
}

/** The ceiling as printed by `npm run synth`: a total line, one line per item, the exclusions. */
export function formatCostCeiling(name: string, ceiling: CostCeiling): string[] {
  const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return [
    `${name}: monthly cost ceiling ${money(ceiling.monthlyUsd)} (${ceiling.region} list prices read ${ceiling.readOn}, constructs/cost/price-table.ts; ${ceiling.unverifiedPrices} of them unverified)`,
    ...ceiling.lines.map((l) => `  ${l.item}: ${money(l.monthlyUsd)} = ${l.detail}`),
    `  not included: ${ceiling.excluded.join('; ')}`,
  ];
}
