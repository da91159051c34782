// MlMonitoring: log-based metrics and alert policies over the structured JSON lines the runtime writes (pino, one
// object per line, parsed by Cloud Logging into jsonPayload): serving error rate, failed pipeline runs, data anomalies
// and training/serving skew; the serving p99 latency on the server's Prometheus histogram (Managed Service for
// Prometheus; the log-based distribution as a fallback); idle GPUs (DCGM) and TPUs (GKE's accelerator duty cycle).
// Each alert goes to a notification channel from config. The log fields are a contract with the runtime, listed in
// LOG_CONTRACT and docs/infrastructure.md.
import { Construct } from 'constructs';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy, MonitoringAlertPolicyConditionsConditionThreshold } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { ConstructValidationError } from './errors';
import { ProjectServices } from './project-services';

/** The structured log lines the alerts match (jsonPayload fields); the runtime must write exactly these. */
export const LOG_CONTRACT = {
  /** `mlp serve`, one line per answered request. */
  request: { event: 'request', fields: ['status (HTTP status, number)', 'ms (latency, number)', 'model', 'version', 'api'] },
  /** The pipeline runner, once per run. */
  runFinished: { event: 'run_finished', fields: ['pipeline', 'runId', 'state ("COMPLETE" | "FAILED" | "CANCELED")', 'durationMs'] },
  /** Data validation, when a split has anomalies. */
  anomalies: { event: 'anomalies', fields: ['pipeline', 'node', 'split', 'count (number > 0)', 'types (anomaly type names)'] },
  /** Skew/drift comparators, when a feature exceeds its threshold. */
  skew: { event: 'skew', fields: ['pipeline', 'node', 'feature', 'comparator ("skew" | "drift")', 'statistic', 'value', 'threshold'] },
} as const;

/** Where alerts go. */
export type NotificationTarget =
  /** An e-mail channel created here. */
  | { readonly kind: 'email'; readonly address: string }
  /** An existing channel (PagerDuty, Slack, ...) by resource name `projects/<p>/notificationChannels/<id>`. */
  | { readonly kind: 'existing'; readonly name: string };

/** Resource types pipeline steps log from: GKE pods (Argo, Composer) or Vertex AI custom jobs. */
export type PipelineLogResource = 'k8s_container' | 'ml_job';

/**
 * Where the serving latency alert reads latencies: `histogram`, the server's `mlp_serving_request_duration_seconds`
 * scraped by Managed Service for Prometheus (ModelServing's PodMonitoring); `log`, the log-based distribution of the
 * access log's `ms` field.
 */
export type ServingLatencySource = 'histogram' | 'log';

/** Cloud Monitoring types of the series the Prometheus-based alerts read. */
export const SERVING_LATENCY_HISTOGRAM = 'prometheus.googleapis.com/mlp_serving_request_duration_seconds/histogram';
/** DCGM's GPU utilization (percent), from GKE's managed DCGM metrics through Managed Service for Prometheus. */
export const GPU_UTILIZATION_METRIC = 'prometheus.googleapis.com/DCGM_FI_DEV_GPU_UTIL/gauge';
/** GKE system metric: percent of time a node's accelerators (TPU chips) were busy. */
export const TPU_DUTY_CYCLE_METRIC = 'kubernetes.io/node/accelerator/duty_cycle';

export interface MlMonitoringProps {
  /** Project of the metrics and policies. */
  readonly project: string;
  /** Prefix of metric names (`<prefix>_serving_requests`, ...), e.g. `mlp_dev`: letters, digits and '_'. */
  readonly metricPrefix: string;
  readonly notification: NotificationTarget;
  /**
   * Namespace of the model servers (restricts the serving metrics to it).
   * @default - any namespace
   */
  readonly servingNamespace?: string;
  /**
   * Where pipeline steps log from.
   * @default 'k8s_container'
   */
  readonly pipelineLogResource?: PipelineLogResource;
  /**
   * Alert when more than this fraction of requests fail with 5xx over the window (0-1).
   * @default 0.05
   */
  readonly servingErrorRate?: number;
  /**
   * Alert when the 99th percentile request latency exceeds this many milliseconds over the window.
   * @default 1000
   */
  readonly servingLatencyP99Ms?: number;
  /**
   * Window of the serving alerts in seconds (60-3600).
   * @default 300
   */
  readonly windowSeconds?: number;
  /**
   * Series the serving latency alert reads.
   * @default 'histogram'
   */
  readonly servingLatencySource?: ServingLatencySource;
  /**
   * Alert when a GPU's mean utilization (DCGM_FI_DEV_GPU_UTIL) stays below this percent over acceleratorWindowSeconds:
   * a node pays for GPUs its pods do not use. 0 turns the alert off.
   * @default 10
   */
  readonly gpuIdleBelowPercent?: number;
  /**
   * Alert when a TPU node's mean accelerator duty cycle stays below this percent over acceleratorWindowSeconds. 0
   * turns the alert off.
   * @default 10
   */
  readonly tpuIdleBelowPercent?: number;
  /**
   * Window of the accelerator alerts in seconds (300-86400).
   * @default 3600
   */
  readonly acceleratorWindowSeconds?: number;
  /**
   * Labels on the alert policies.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/**
 * Construct ids: `api`, `channel` (email), metrics `metric-serving-requests`, `metric-serving-errors`,
 * `metric-serving-latency`, `metric-failed-runs`, `metric-anomalies`, `metric-skew`, and policies
 * `alert-serving-error-rate`, `alert-serving-latency`, `alert-failed-runs`, `alert-anomalies`, `alert-skew`,
 * `alert-gpu-idle`, `alert-tpu-idle`.
 */
export class MlMonitoring extends Construct {
  readonly metrics: { readonly [name: string]: LoggingMetric };
  readonly alerts: { readonly [name: string]: MonitoringAlertPolicy };
  /** Resource name of the channel alerts notify. */
  readonly notificationChannel: string;

  constructor(scope: Construct, id: string, props: MlMonitoringProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('MlMonitoring', this, msg);
    if (!/^[a-z][a-z0-9_]{0,40}$/.test(props.metricPrefix)) throw fail(`metricPrefix '${props.metricPrefix}' must be lowercase letters, digits and '_', starting with a letter (max 41).`);
    const errorRate = props.servingErrorRate ?? 0.05;
    if (!(errorRate > 0 && errorRate < 1)) throw fail(`servingErrorRate ${errorRate} must be a fraction between 0 and 1 (e.g. 0.05 for 5%).`);
    const latency = props.servingLatencyP99Ms ?? 1000;
    if (!(latency > 0)) throw fail(`servingLatencyP99Ms ${latency} must be positive.`);
    const window = props.windowSeconds ?? 300;
    if (!Number.isInteger(window) || window < 60 || window > 3600) throw fail(`windowSeconds ${window} must be an integer between 60 and 3600.`);
    const latencySource = props.servingLatencySource ?? 'histogram';
    if (latencySource !== 'histogram' && latencySource !== 'log') throw fail(`servingLatencySource '${latencySource}' must be 'histogram' or 'log'.`);
    const gpuIdle = props.gpuIdleBelowPercent ?? 10;
    const tpuIdle = props.tpuIdleBelowPercent ?? 10;
    for (const [field, v] of [['gpuIdleBelowPercent', gpuIdle], ['tpuIdleBelowPercent', tpuIdle]] as const) {
      if (!(v >= 0 && v < 100)) throw fail(`${field} ${v} must be a percentage from 0 (alert off) to below 100.`);
    }
    const accelWindow = props.acceleratorWindowSeconds ?? 3600;
    if (!Number.isInteger(accelWindow) || accelWindow < 300 || accelWindow > 86400) throw fail(`acceleratorWindowSeconds ${accelWindow} must be an integer between 300 and 86400.`);
    const n = props.notification;
    if (n.kind === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(n.address)) throw fail(`notification address '${n.address}' is not an e-mail address.`);
    if (n.kind === 'existing' && !/^projects\/[^/]+\/notificationChannels\/\d+$/.test(n.name)) {
      throw fail(`notification channel '${n.name}' must be a resource name like projects/acme-ml-prod/notificationChannels/123.`);
    }

    const services = ProjectServices.of(this);
    const apis = [services.enable('logging.googleapis.com', props.project), services.enable('monitoring.googleapis.com', props.project)];
    this.notificationChannel = n.kind === 'existing'
      ? n.name
      : new MonitoringNotificationChannel(this, 'channel', {
        project: props.project,
        displayName: `ML platform alerts (${props.metricPrefix})`,
        type: 'email',
        labels: { email_address: n.address },
        dependsOn: apis,
      }).name;

    const p = props.metricPrefix;
    const ns = props.servingNamespace ? ` AND resource.labels.namespace_name="${props.servingNamespace}"` : '';
    const serving = `resource.type="k8s_container"${ns} AND jsonPayload.event="${LOG_CONTRACT.request.event}"`;
    const pipelineResource = props.pipelineLogResource ?? 'k8s_container';
    const stringLabel = (key: string, description: string) => ({ key, valueType: 'STRING', description });

    const metrics: { [name: string]: LoggingMetric } = {};
    const counter = (cid: string, name: string, description: string, filter: string, labels: [string, string, string][]) => {
      metrics[cid] = new LoggingMetric(this, `metric-${cid}`, {
        project: props.project,
        name: `${p}_${name}`,
        description,
        filter,
        metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1', labels: labels.map(([k, , d]) => stringLabel(k, d)) },
        labelExtractors: Object.fromEntries(labels.map(([k, field]) => [k, `EXTRACT(jsonPayload.${field})`])),
        dependsOn: apis,
      });
      return metrics[cid];
    };
    const requests = counter('serving-requests', 'serving_requests', 'Requests answered by mlp serve', serving, [['model', 'model', 'served model']]);
    const errors = counter('serving-errors', 'serving_errors', 'Requests mlp serve answered with a 5xx status', `${serving} AND jsonPayload.status>=500`, [['model', 'model', 'served model']]);
    metrics['serving-latency'] = new LoggingMetric(this, 'metric-serving-latency', {
      project: props.project,
      name: `${p}_serving_latency`,
      description: 'Request latency of mlp serve in milliseconds',
      filter: serving,
      valueExtractor: 'EXTRACT(jsonPayload.ms)',
      bucketOptions: { exponentialBuckets: { numFiniteBuckets: 40, growthFactor: 1.4, scale: 0.5 } },
      metricDescriptor: { metricKind: 'DELTA', valueType: 'DISTRIBUTION', unit: 'ms', labels: [stringLabel('model', 'served model')] },
      labelExtractors: { model: 'EXTRACT(jsonPayload.model)' },
      dependsOn: apis,
    });
    const failedRuns = counter('failed-runs', 'failed_runs', 'Pipeline runs that finished FAILED or CANCELED',
      `resource.type="${pipelineResource}" AND jsonPayload.event="${LOG_CONTRACT.runFinished.event}" AND (jsonPayload.state="FAILED" OR jsonPayload.state="CANCELED")`, [['pipeline', 'pipeline', 'pipeline name']]);
    const anomalies = counter('anomalies', 'data_anomalies', 'Splits with data validation anomalies',
      `resource.type="${pipelineResource}" AND jsonPayload.event="${LOG_CONTRACT.anomalies.event}" AND jsonPayload.count>0`, [['pipeline', 'pipeline', 'pipeline name'], ['split', 'split', 'split']]);
    const skew = counter('skew', 'data_skew', 'Features whose skew or drift exceeded its threshold',
      `resource.type="${pipelineResource}" AND jsonPayload.event="${LOG_CONTRACT.skew.event}"`, [['pipeline', 'pipeline', 'pipeline name'], ['comparator', 'comparator', 'skew or drift']]);
    this.metrics = metrics;

    const type = (m: LoggingMetric) => `metric.type="logging.googleapis.com/user/${m.name}"`;
    const alerts: { [name: string]: MonitoringAlertPolicy } = {};
    const alert = (cid: string, displayName: string, severity: 'CRITICAL' | 'ERROR' | 'WARNING', condition: MonitoringAlertPolicyConditionsConditionThreshold, doc: string) => {
      alerts[cid] = new MonitoringAlertPolicy(this, `alert-${cid}`, {
        project: props.project,
        displayName: `[${p}] ${displayName}`,
        combiner: 'OR',
        severity,
        enabled: true,
        notificationChannels: [this.notificationChannel],
        userLabels: { ...(props.labels ?? {}), 'mlp-alert': cid },
        alertStrategy: { autoClose: '86400s' },
        documentation: { mimeType: 'text/markdown', content: doc },
        conditions: [{ displayName, conditionThreshold: condition }],
        dependsOn: [...apis, ...Object.values(metrics)],
      });
    };
    const windowS = `${window}s`;
    const rate = { alignmentPeriod: windowS, perSeriesAligner: 'ALIGN_RATE', crossSeriesReducer: 'REDUCE_SUM', groupByFields: ['metric.label.model'] };
    const any = (m: LoggingMetric, groupBy: string) => ({
      filter: `${type(m)} AND resource.type="${pipelineResource}"`,
      aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM', groupByFields: [groupBy] }],
      comparison: 'COMPARISON_GT',
      thresholdValue: 0,
      duration: '0s',
      trigger: { count: 1 },
    });
    alert('serving-error-rate', 'Model serving error rate', 'ERROR', {
      filter: `${type(errors)} AND resource.type="k8s_container"`,
      aggregations: [rate],
      denominatorFilter: `${type(requests)} AND resource.type="k8s_container"`,
      denominatorAggregations: [rate],
      comparison: 'COMPARISON_GT',
      thresholdValue: errorRate,
      duration: windowS,
      trigger: { count: 1 },
    }, `More than ${errorRate * 100}% of requests to a model failed with a 5xx status for ${window / 60} minutes. Logs: \`${serving} AND jsonPayload.status>=500\`. Check the server's logs for load errors and \`/v2/health/ready\`; roll back the image or model version if the errors started with a rollout.`);
    // The histogram's buckets merge across pods before the percentile (REDUCE_PERCENTILE_99 of the per-pod deltas);
    // the log distribution takes each series' p99 and the worst of them.
    const latencyCondition: MonitoringAlertPolicyConditionsConditionThreshold = latencySource === 'histogram'
      ? {
        filter: `metric.type="${SERVING_LATENCY_HISTOGRAM}" AND resource.type="prometheus_target"${props.servingNamespace ? ` AND resource.label.namespace="${props.servingNamespace}"` : ''}`,
        aggregations: [{ alignmentPeriod: windowS, perSeriesAligner: 'ALIGN_DELTA', crossSeriesReducer: 'REDUCE_PERCENTILE_99', groupByFields: ['metric.label.model'] }],
        comparison: 'COMPARISON_GT',
        thresholdValue: latency / 1000,
        duration: windowS,
        trigger: { count: 1 },
      }
      : {
        filter: `${type(metrics['serving-latency'])} AND resource.type="k8s_container"`,
        aggregations: [{ alignmentPeriod: windowS, perSeriesAligner: 'ALIGN_PERCENTILE_99', crossSeriesReducer: 'REDUCE_MAX', groupByFields: ['metric.label.model'] }],
        comparison: 'COMPARISON_GT',
        thresholdValue: latency,
        duration: windowS,
        trigger: { count: 1 },
      };
    alert('serving-latency', 'Model serving p99 latency', 'WARNING', latencyCondition,
      `The 99th percentile latency of a model exceeded ${latency} ms for ${window / 60} minutes (${latencySource === 'histogram' ? `the server's ${SERVING_LATENCY_HISTOGRAM.split('/')[1]} histogram` : 'the access log\'s ms field'}). Check the HPA (is it at maxReplicas?), batching settings and node pressure.`);
    const accelS = `${accelWindow}s`;
    const idle = (filter: string, groupBy: string[], below: number): MonitoringAlertPolicyConditionsConditionThreshold => ({
      filter,
      aggregations: [{ alignmentPeriod: accelS, perSeriesAligner: 'ALIGN_MEAN', crossSeriesReducer: 'REDUCE_MEAN', groupByFields: groupBy }],
      comparison: 'COMPARISON_LT',
      thresholdValue: below,
      duration: accelS,
      trigger: { count: 1 },
    });
    if (gpuIdle > 0) {
      alert('gpu-idle', 'GPU idle', 'WARNING', idle(`metric.type="${GPU_UTILIZATION_METRIC}" AND resource.type="prometheus_target"`, ['resource.label.cluster', 'resource.label.instance', 'metric.label.gpu'], gpuIdle),
        `A GPU's mean utilization (DCGM_FI_DEV_GPU_UTIL) stayed below ${gpuIdle}% for ${accelWindow / 60} minutes while its node ran: the pool pays for GPUs nothing uses. Check for pods holding GPUs while waiting on input, a pool minimum above 0, or serving replicas that could share a GPU (gpuSharing). Needs GKE's DCGM metrics (Managed Service for Prometheus).`);
    }
    if (tpuIdle > 0) {
      alert('tpu-idle', 'TPU idle', 'WARNING', idle(`metric.type="${TPU_DUTY_CYCLE_METRIC}" AND resource.type="k8s_node"`, ['resource.label.cluster_name', 'resource.label.node_name'], tpuIdle),
        `A TPU node's mean accelerator duty cycle stayed below ${tpuIdle}% for ${accelWindow / 60} minutes: the slice is reserved but idle. Check for a job stuck before its first step (input pipeline, compilation, a waiting host of a multi-host slice) or a pool that does not scale to zero.`);
    }
    alert('failed-runs', 'Pipeline run failed', 'ERROR', any(failedRuns, 'metric.label.pipeline'),
      `A pipeline run finished FAILED or CANCELED (stopped before it completed). Logs: \`jsonPayload.event="${LOG_CONTRACT.runFinished.event}" AND (jsonPayload.state="FAILED" OR jsonPayload.state="CANCELED")\`; the failed or canceled node's own log names the error.`);
    alert('anomalies', 'Data anomalies', 'WARNING', any(anomalies, 'metric.label.pipeline'),
      `Data validation found anomalies in a split (the run does not bless the data). Logs: \`jsonPayload.event="${LOG_CONTRACT.anomalies.event}"\`; see the ExampleAnomalies artifact of the run.`);
    alert('skew', 'Training/serving skew or drift', 'WARNING', any(skew, 'metric.label.pipeline'),
      `A feature's skew or drift comparator exceeded its threshold. Logs: \`jsonPayload.event="${LOG_CONTRACT.skew.event}"\` (feature, statistic, value, threshold).`);
    this.alerts = alerts;
  }
}
