// The cost side of an environment: its monthly cost ceiling (printed by `npm run synth`, listed in
// docs/infrastructure.md) and its billing budget in the `<env>-workloads` stack, alerting the environment's
// notification channel (MlMonitoring's).
import { MlPlatform, MlPlatformProps } from '../constructs/ml-platform';
import { BillingBudget } from '../constructs/billing-budget';
import { CostCeiling, platformCostCeiling } from '../constructs/cost/cost-ceiling';
import { EnvironmentConfig } from './config';

/** The environment's ceiling: its platform props priced, with the config's storage and egress assumption. */
export function environmentCostCeiling(config: EnvironmentConfig, props: MlPlatformProps): CostCeiling {
  return platformCostCeiling(props, { storageGb: config.billing.assumedStorageGb, egressGb: config.billing.assumedEgressGb });
}

/**
 * The environment's budget (construct id `budget` in `<env>-workloads`): billing.monthlyBudgetUsd, else the cost
 * ceiling; thresholds billing.alertThresholds, else 50/90/100%.
 */
export function addEnvironmentBudget(platform: MlPlatform, config: EnvironmentConfig, ceiling: CostCeiling): BillingBudget {
  const workloads = platform.workloads;
  if (!workloads) throw new Error(`environment ${config.name} has no workloads stack to hold its budget (the notification channel lives there).`);
  return new BillingBudget(workloads, 'budget', {
    billingAccount: config.billing.account,
    project: config.project,
    displayName: `ML platform ${config.name}`,
    amount: config.billing.monthlyBudgetUsd ?? ceiling.monthlyUsd,
    thresholds: config.billing.alertThresholds,
    notificationChannels: [workloads.monitoring.notificationChannel],
  });
}
