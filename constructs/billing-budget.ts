// BillingBudget: a monthly Cloud Billing budget on one project (google_billing_budget), alerting the environment's
// monitoring notification channels when actual spend crosses each threshold (50/90/100% by default). The billing
// account comes from configuration and is checked at construction.
import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { BillingBudget as BillingBudgetResource } from '@cdktf/provider-google/lib/billing-budget';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ConstructValidationError } from './errors';
import { ProjectServices } from './project-services';

/** Alert thresholds used unless `thresholds` says otherwise (fractions of the amount). */
export const DEFAULT_BUDGET_THRESHOLDS: readonly number[] = [0.5, 0.9, 1.0];

export interface BillingBudgetProps {
  /** Billing account id paying for the project, `XXXXXX-XXXXXX-XXXXXX` (hex digits). */
  readonly billingAccount: string;
  /** Project whose spend the budget counts (also where the Billing Budget API is enabled). */
  readonly project: string;
  /** Budget name shown in the billing console. */
  readonly displayName: string;
  /** Monthly amount in `currencyCode`, e.g. the environment's cost ceiling (rounded up to whole units). */
  readonly amount: number;
  /**
   * Currency of the amount; must be the billing account's currency.
   * @default 'USD'
   */
  readonly currencyCode?: string;
  /**
   * Fractions of the amount that alert when actual spend crosses them (ascending, each above 0, at most 10).
   * @default DEFAULT_BUDGET_THRESHOLDS (0.5, 0.9, 1.0)
   */
  readonly thresholds?: readonly number[];
  /** Monitoring notification channel resource names the alerts go to (1-5), e.g. MlMonitoring's notificationChannel. */
  readonly notificationChannels: readonly string[];
}

/** Construct ids: `api` is ProjectServices', `project` (data source for the project number), `budget`. */
export class BillingBudget extends Construct {
  readonly budget: BillingBudgetResource;

  constructor(scope: Construct, id: string, props: BillingBudgetProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('BillingBudget', this, msg);
    if (!/^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/.test(props.billingAccount)) {
      throw fail(`billingAccount '${props.billingAccount}' is not a billing account id; use the form 012345-6789AB-CDEF01 (Billing > Account management).`);
    }
    if (!Number.isFinite(props.amount) || props.amount <= 0) throw fail(`amount ${props.amount} must be a positive monthly amount.`);
    const currency = props.currencyCode ?? 'USD';
    if (!/^[A-Z]{3}$/.test(currency)) throw fail(`currencyCode '${currency}' must be an ISO 4217 code like USD.`);
    const thresholds = props.thresholds ?? DEFAULT_BUDGET_THRESHOLDS;
    if (thresholds.length === 0) throw fail('thresholds is empty; give at least one fraction like 0.9, or leave it unset for 0.5, 0.9, 1.0.');
    thresholds.forEach((t, i) => {
      if (!(Number.isFinite(t) && t > 0 && t <= 10)) throw fail(`thresholds[${i}] ${t} must be a fraction of the amount above 0 and at most 10 (e.g. 0.9 for 90%).`);
      if (i > 0 && t <= thresholds[i - 1]) throw fail(`thresholds must be ascending without repeats; ${t} follows ${thresholds[i - 1]}.`);
    });
    const channels = props.notificationChannels;
    if (channels.length < 1 || channels.length > 5) throw fail(`notificationChannels has ${channels.length} channels; a budget alerts 1 to 5.`);
    for (const c of channels) {
      if (!Token.isUnresolved(c) && !/^projects\/[^/]+\/notificationChannels\/\d+$/.test(c)) {
        throw fail(`notification channel '${c}' must be a resource name like projects/acme-ml-prod/notificationChannels/123.`);
      }
    }

    const api = ProjectServices.of(this).enable('billingbudgets.googleapis.com', props.project);
    // Budget filters name projects by number.
    const project = new DataGoogleProject(this, 'project', { projectId: props.project });
    this.budget = new BillingBudgetResource(this, 'budget', {
      billingAccount: props.billingAccount,
      displayName: props.displayName,
      budgetFilter: { projects: [`projects/${project.number}`], calendarPeriod: 'MONTH', creditTypesTreatment: 'INCLUDE_ALL_CREDITS' },
      amount: { specifiedAmount: { currencyCode: currency, units: String(Math.ceil(props.amount)) } },
      thresholdRules: thresholds.map((t) => ({ thresholdPercent: t, spendBasis: 'CURRENT_SPEND' })),
      allUpdatesRule: { monitoringNotificationChannels: [...channels], disableDefaultIamRecipients: false },
      dependsOn: [api],
    });
  }
}
