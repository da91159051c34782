// Per-environment cost: each environment's ceiling from its pool maxima (printed by `npm run synth`), its billing
// budget in the workloads stack alerting the environment's notification channel, and the billing config checks.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvironmentConfigError, parseEnvironmentConfig } from '../../stacks/config';
import { ENVIRONMENT_NAMES, environment, rawEnvironment } from '../../stacks/environments';
import { environmentPlatformProps } from '../../stacks/environment-platform';
import { environmentCostCeiling } from '../../stacks/environment-cost';
import { PRICES } from '../../constructs/cost/price-table';
import { all, synthNamed } from './helpers';

describe('environment cost', () => {
  test('the ceiling prices each pool at its maximum: prod\'s queued H100 pool is 4 × a3-highgpu-8g all month, dev\'s pools at the spot bound', () => {
    const ceiling = (env: 'dev' | 'prod') => environmentCostCeiling(environment(env), environmentPlatformProps(environment(env)));
    const prod = Object.fromEntries(ceiling('prod').lines.map((l) => [l.item, l.monthlyUsd]));
    const h = PRICES.hoursPerMonth;
    expect(prod['node pool h100-queued']).toBeCloseTo(4 * PRICES.machinePerHour['a3-highgpu-8g'].usd * h, 6);
    expect(prod['node pool general']).toBeCloseTo(10 * PRICES.machinePerHour['n2-standard-8'].usd * h, 6);
    expect(prod['TPU pool v5p-2x2x2']).toBeCloseTo(8 * PRICES.tpuChipPerHour.v5p.usd * h, 6);
    expect(prod['Cloud SQL db-custom-4-16384']).toBeCloseTo((4 * PRICES.cloudSqlVcpuPerHour.usd + 16 * PRICES.cloudSqlMemoryGbPerHour.usd) * 2 * h, 6);
    expect(prod['Cloud Storage (assumed)']).toBeCloseTo(10000 * PRICES.storageStandardGbPerMonth.usd, 6);
    const dev = Object.fromEntries(ceiling('dev').lines.map((l) => [l.item, l.monthlyUsd]));
    expect(dev['node pool l4-spot (spot)']).toBeCloseTo(2 * PRICES.machinePerHour['g2-standard-8'].usd * PRICES.spotMaxFraction.usd * h, 6);
    expect(ceiling('dev').monthlyUsd).toBeLessThan(ceiling('prod').monthlyUsd);
  });

  test.each(ENVIRONMENT_NAMES)('%s-workloads has a monthly budget on its project at the ceiling, alerting its notification channel at 50/90/100%%', (env) => {
    const { workloadsJson } = synthNamed(env);
    const [budget] = all(workloadsJson, 'google_billing_budget');
    expect(all(workloadsJson, 'google_billing_budget')).toHaveLength(1);
    const config = environment(env);
    const ceiling = environmentCostCeiling(config, environmentPlatformProps(config));
    expect(budget).toMatchObject({
      billing_account: config.billing.account,
      amount: { specified_amount: { currency_code: 'USD', units: String(Math.ceil(ceiling.monthlyUsd)) } },
      threshold_rules: [0.5, 0.9, 1].map((t) => ({ threshold_percent: t, spend_basis: 'CURRENT_SPEND' })),
    });
    const channel = config.workloads.monitoring.notification;
    const channels = budget.all_updates_rule.monitoring_notification_channels;
    if (channel.kind === 'existing') expect(channels).toEqual([channel.name]);
    else expect(channels).toEqual([expect.stringMatching(/^\$\{google_monitoring_notification_channel\.monitoring_channel_[0-9A-F]+\.name\}$/)]);
  });

  test('the billing account must come from config and look like one', () => {
    const broken = (mutate: (cfg: { billing: Record<string, unknown> }) => void) => {
      const cfg = rawEnvironment('dev') as { billing: Record<string, unknown> };
      mutate(cfg);
      try { parseEnvironmentConfig(cfg); } catch (e) { expect(e).toBeInstanceOf(EnvironmentConfigError); return (e as Error).message; }
      throw new Error('expected the config to be rejected');
    };
    expect(broken((c) => { delete c.billing.account; })).toBe("Invalid environment config 'dev': billing.account: Invalid input: expected string, received undefined");
    expect(broken((c) => { c.billing.account = 'my-billing'; })).toBe("Invalid environment config 'dev': billing.account: must be a billing account id like 012345-6789AB-CDEF01");
  });

  test('`npm run synth` prints every environment\'s ceiling with its lines', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktf-cost-'));
    try {
      const root = path.join(__dirname, '..', '..');
      const out = execFileSync(process.execPath, ['-r', path.join(root, 'runtime', 'core', 'register-ts.js'), path.join(root, 'stacks', 'main.ts')], {
        env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', MLP_COMPILED_PIPELINES: '' },
        encoding: 'utf8',
      });
      for (const env of ENVIRONMENT_NAMES) {
        const config = environment(env);
        const total = environmentCostCeiling(config, environmentPlatformProps(config)).monthlyUsd;
        expect(out).toContain(`${env}: monthly cost ceiling $${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} (us-central1 list prices read ${PRICES.readOn}, constructs/cost/price-table.ts;`);
      }
      expect(out).toMatch(/^ {2}node pool h100-queued: \$[\d,.]+ = 4 × a3-highgpu-8g/m);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('docs/infrastructure.md', () => {
  test('lists each environment\'s current ceiling (update the Cost table when pools, tiers or prices change)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'infrastructure.md'), 'utf8');
    for (const env of ENVIRONMENT_NAMES) {
      const config = environment(env);
      const total = environmentCostCeiling(config, environmentPlatformProps(config)).monthlyUsd;
      expect(doc).toContain(`| ${env} | $${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} |`);
    }
  });
});
