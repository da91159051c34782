// The monthly cost ceiling (node-pool maxima × prices, spot bound, Cloud SQL with HA, Composer, storage/egress
// assumptions, errors for unpriced items) and the BillingBudget construct (resource, thresholds, channels, validation).
import { TerraformStack, Testing } from 'cdktf';
import { CostCeilingError, costCeiling, formatCostCeiling, platformCostCeiling } from '../../constructs/cost/cost-ceiling';
import { environmentPlatformProps } from '../../stacks/environment-platform';
import { environment } from '../../stacks/environments';
import { PRICES, Price, PriceTable } from '../../constructs/cost/price-table';
import { BillingBudget, BillingBudgetProps } from '../../constructs/billing-budget';
import { errorOf, onlyResource, synthJson } from './helpers';

const p = (usd: number): Price => ({ usd, page: 'https://example.test/pricing', seen: 'page' });
/** Round prices so every line can be checked by hand. */
const TABLE: PriceTable = {
  ...PRICES,
  hoursPerMonth: 100,
  machinePerHour: { 'e2-standard-4': p(0.1), 'g2-standard-8': p(1), 'n1-standard-8': p(0.4) },
  attachedGpuPerHour: { 'nvidia-tesla-t4': p(0.3) },
  tpuChipPerHour: { v5e: p(1), v5p: p(4) },
  spotMaxFraction: p(0.4),
  gkeClusterPerHour: p(0.1),
  cloudSqlVcpuPerHour: p(0.05),
  cloudSqlMemoryGbPerHour: p(0.01),
  cloudSqlSharedCorePerHour: { 'db-g1-small': p(0.03) },
  cloudSqlSsdGbPerMonth: p(0.2),
  composerDcuPerHour: p(0.06),
  composerMaxDcus: { SMALL: 8, MEDIUM: 16, LARGE: 32 },
  storageStandardGbPerMonth: p(0.02),
  internetEgressPerGb: p(0.1),
};
const byItem = (c: ReturnType<typeof costCeiling>) => Object.fromEntries(c.lines.map((l) => [l.item, Math.round(l.monthlyUsd * 100) / 100]));

describe('costCeiling', () => {
  test('pool maxima × machine prices (GPUs bundled on g2, attached on n1), spot at the highest spot price, TPU chips, HA doubles Cloud SQL', () => {
    const ceiling = costCeiling({
      nodePools: [
        { name: 'general', machineType: 'e2-standard-4', maxNodes: 3, spot: true },
        { name: 'l4', machineType: 'g2-standard-8', maxNodes: 2, gpu: { type: 'nvidia-l4' } },
        { name: 't4', machineType: 'n1-standard-8', maxNodes: 2, gpu: { type: 'nvidia-tesla-t4', perNode: 2 } },
      ],
      tpuPools: [{ name: 'v5e', version: 'v5e', topology: '2x4', spot: true }, { name: 'v5p', version: 'v5p', topology: '2x2x2' }],
      database: { tier: 'db-custom-2-7680', highAvailability: true, diskSizeGb: 100 },
      composer: { environmentSize: 'MEDIUM', highResilience: true },
      storageGb: 1000,
      egressGb: 50,
    }, TABLE);
    expect(byItem(ceiling)).toEqual({
      'GKE cluster fee': 10, // 0.1 × 100 h
      'node pool general (spot)': 12, // 3 × 0.1 × 0.4 × 100
      'node pool l4': 200, // 2 × 1 × 100 (the L4 is in the g2 price)
      'node pool t4': 200, // 2 × (0.4 + 2 × 0.3) × 100
      'TPU pool v5e (spot)': 320, // 8 chips × 1 × 0.4 × 100
      'TPU pool v5p': 3200, // 8 chips (2 hosts × 4) × 4 × 100
      'Cloud SQL db-custom-2-7680': 35, // (2 × 0.05 + 7.5 × 0.01) × 2 × 100
      'Cloud SQL SSD storage': 40, // 100 × 0.2 × 2
      'Cloud Composer 3 MEDIUM (high resilience)': 192, // 32 DCU × 0.06 × 100
      'Cloud Storage (assumed)': 20,
      'Internet egress (assumed)': 5,
    });
    expect(Math.round(ceiling.monthlyUsd * 100) / 100).toBe(4234);
    expect(ceiling.unverifiedPrices).toBe(0);
  });

  test('the printout names the total, the price table and its date, every line and what is left out', () => {
    const ceiling = costCeiling({ nodePools: [{ name: 'general', machineType: 'e2-standard-4', maxNodes: 1 }], database: { tier: 'db-g1-small' }, storageGb: 0, egressGb: 0 }, TABLE);
    const lines = formatCostCeiling('dev', ceiling);
    expect(lines[0]).toBe(`dev: monthly cost ceiling $25.00 (us-central1 list prices read ${PRICES.readOn}, constructs/cost/price-table.ts; 0 of them unverified)`);
    expect(lines).toContain('  node pool general: $10.00 = 1 × e2-standard-4 $0.1000/h × 100 h');
    expect(lines).toContain('  Cloud SQL db-g1-small: $3.00 = (db-g1-small $0.0300/h) × 100 h');
    expect(lines[lines.length - 1]).toMatch(/^ {2}not included: node boot disks and local SSDs; /);
  });

  test('every price in the shipped table names its page and how it was seen; unverified ones are counted', () => {
    const all: Price[] = [
      ...Object.values(PRICES.machinePerHour), ...Object.values(PRICES.attachedGpuPerHour), ...Object.values(PRICES.tpuChipPerHour),
      ...Object.values(PRICES.cloudSqlSharedCorePerHour), PRICES.spotMaxFraction, PRICES.gkeClusterPerHour, PRICES.cloudSqlVcpuPerHour,
      PRICES.cloudSqlMemoryGbPerHour, PRICES.cloudSqlSsdGbPerMonth, PRICES.composerDcuPerHour, PRICES.storageStandardGbPerMonth, PRICES.internetEgressPerGb,
    ];
    for (const price of all) {
      expect(price.page).toMatch(/^https:\/\/cloud\.google\.com\//);
      expect(['page', 'secondary', 'unverified']).toContain(price.seen);
      if (price.seen !== 'page') expect(price.note).toBeTruthy();
    }
    const ceiling = costCeiling({ nodePools: [{ name: 'general', machineType: 'e2-standard-4', maxNodes: 1 }], storageGb: 1, egressGb: 1 });
    // e2-standard-4, storage and egress are list prices not seen on a page when read; the GKE fee was.
    expect(ceiling.unverifiedPrices).toBe(3);
  });

  test('an item the table cannot price is an error naming it and where to add it, never a guess', () => {
    const err = (fn: () => unknown) => {
      try { fn(); } catch (e) { expect(e).toBeInstanceOf(CostCeilingError); return (e as Error).message; }
      throw new Error('expected a CostCeilingError');
    };
    expect(err(() => costCeiling({ nodePools: [{ name: 'big', machineType: 'c3-standard-88', maxNodes: 1 }], storageGb: 0, egressGb: 0 }, TABLE))).toBe(
      "node pool 'big': no price for machine type c3-standard-88 in constructs/cost/price-table.ts (machinePerHour, us-central1); add it with its price page.");
    expect(err(() => costCeiling({ nodePools: [], database: { tier: 'db-perf-optimized-N-8', edition: 'ENTERPRISE_PLUS' }, storageGb: 0, egressGb: 0 }, TABLE))).toBe(
      'Cloud SQL edition ENTERPRISE_PLUS: constructs/cost/price-table.ts has Enterprise prices only; add Enterprise Plus vCPU and memory prices with their page.');
    expect(err(() => costCeiling({ nodePools: [], database: { tier: 'db-n1-standard-2' }, storageGb: 0, egressGb: 0 }, TABLE))).toBe(
      'Cloud SQL tier db-n1-standard-2: no price rule in constructs/cost/price-table.ts (db-custom-<vCPU>-<MB> or cloudSqlSharedCorePerHour); add the tier with its page.');
    expect(err(() => costCeiling({ nodePools: [], tpuPools: [{ name: 'v6', version: 'v6e', topology: '2x4' }], storageGb: 0, egressGb: 0 }, TABLE))).toBe(
      "TPU pool 'v6': no price for TPU v6e in constructs/cost/price-table.ts (tpuChipPerHour); add it with its price page.");
    expect(err(() => costCeiling({ nodePools: [], storageGb: -1, egressGb: 0 }, TABLE))).toBe('storageGb -1 must be a number of at least 0.');
    const props = { ...environmentPlatformProps(environment('dev')), region: 'europe-west4' };
    expect(err(() => platformCostCeiling(props, { storageGb: 0, egressGb: 0 }))).toBe(
      'region europe-west4: constructs/cost/price-table.ts has us-central1 prices; pass a price table for europe-west4.');
  });
});

describe('BillingBudget', () => {
  const CHANNEL = 'projects/acme-ml-test/notificationChannels/42';
  function budget(props: Partial<BillingBudgetProps> = {}, id = 'budget') {
    const stack = new TerraformStack(Testing.app(), 'test');
    new BillingBudget(stack, id, { billingAccount: '012345-6789AB-CDEF01', project: 'acme-ml-test', displayName: 'mlp test', amount: 1234.2, notificationChannels: [CHANNEL], ...props });
    return stack;
  }

  test('a monthly budget on the project (by number) at the amount rounded up, alerting the channel at 50/90/100% of actual spend', () => {
    const json = synthJson(budget());
    const b = onlyResource(json, 'google_billing_budget');
    expect(b).toMatchObject({
      billing_account: '012345-6789AB-CDEF01',
      display_name: 'mlp test',
      amount: { specified_amount: { currency_code: 'USD', units: '1235' } },
      budget_filter: { projects: [expect.stringMatching(/^projects\/\$\{data\.google_project\.budget_project_[0-9A-F]+\.number\}$/)], calendar_period: 'MONTH' },
      threshold_rules: [{ threshold_percent: 0.5, spend_basis: 'CURRENT_SPEND' }, { threshold_percent: 0.9, spend_basis: 'CURRENT_SPEND' }, { threshold_percent: 1, spend_basis: 'CURRENT_SPEND' }],
      all_updates_rule: { monitoring_notification_channels: [CHANNEL] },
    });
    expect(b.depends_on).toEqual([expect.stringMatching(/^google_project_service\.project-services_billingbudgets-acme-ml-test_/)]);
  });

  test('custom thresholds and currency', () => {
    const b = onlyResource(synthJson(budget({ thresholds: [0.8, 1.2], currencyCode: 'EUR' })), 'google_billing_budget');
    expect(b.threshold_rules.map((r: { threshold_percent: number }) => r.threshold_percent)).toEqual([0.8, 1.2]);
    expect(b.amount.specified_amount.currency_code).toBe('EUR');
  });

  test('refuses a malformed billing account, a non-positive amount, bad thresholds and channels, saying what to change', () => {
    const cases: [Partial<BillingBudgetProps>, string][] = [
      [{ billingAccount: 'billingAccounts/012345-6789AB-CDEF01' }, "billingAccount 'billingAccounts/012345-6789AB-CDEF01' is not a billing account id; use the form 012345-6789AB-CDEF01 (Billing > Account management)."],
      [{ amount: 0 }, 'amount 0 must be a positive monthly amount.'],
      [{ thresholds: [0.9, 0.5] }, 'thresholds must be ascending without repeats; 0.5 follows 0.9.'],
      [{ thresholds: [50, 90] }, 'thresholds[0] 50 must be a fraction of the amount above 0 and at most 10 (e.g. 0.9 for 90%).'],
      [{ notificationChannels: [] }, 'notificationChannels has 0 channels; a budget alerts 1 to 5.'],
      [{ notificationChannels: ['ops@acme.com'] }, "notification channel 'ops@acme.com' must be a resource name like projects/acme-ml-prod/notificationChannels/123."],
    ];
    for (const [props, message] of cases) expect(errorOf(() => budget(props))).toBe(`BillingBudget 'test/budget': ${message}`);
  });
});
