// MlMonitoring: log-based metrics on the runtime's structured log fields and the alert policies over them (serving
// error rate, failed runs, anomalies, skew), the p99 latency on the server's Prometheus histogram (or the log
// distribution), idle GPU and TPU alerts, the notification channel, validation errors.
import { TerraformStack, Testing } from 'cdktf';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { LOG_CONTRACT, MlMonitoring, MlMonitoringProps } from '../../constructs/ml-monitoring';
import { Json, errorOf, onlyResource, resourcesOf, synthJson } from './helpers';

function monitoring(props: Partial<MlMonitoringProps> = {}) {
  const stack = new TerraformStack(Testing.app(), 'test');
  const m = new MlMonitoring(stack, 'monitoring', {
    project: 'acme-ml-test', metricPrefix: 'mlp_test', notification: { kind: 'email', address: 'ml-alerts@acme.com' }, servingNamespace: 'ml-platform', ...props,
  });
  return { stack, m };
}
const metric = (json: Json, name: string) => resourcesOf(json, 'google_logging_metric').find((m) => m.name === name)!;
const policy = (json: Json, cid: string) => resourcesOf(json, 'google_monitoring_alert_policy').find((p) => p.user_labels['mlp-alert'] === cid)!;

describe('MlMonitoring', () => {
  test('log-based metrics match the documented structured fields', () => {
    const { stack } = monitoring();
    const json = synthJson(stack);
    const serving = 'resource.type="k8s_container" AND resource.labels.namespace_name="ml-platform" AND jsonPayload.event="request"';
    expect(metric(json, 'mlp_test_serving_requests')).toMatchObject({ filter: serving, label_extractors: { model: 'EXTRACT(jsonPayload.model)' }, metric_descriptor: { metric_kind: 'DELTA', value_type: 'INT64' } });
    expect(metric(json, 'mlp_test_serving_errors').filter).toBe(`${serving} AND jsonPayload.status>=500`);
    expect(metric(json, 'mlp_test_serving_latency')).toMatchObject({ filter: serving, value_extractor: 'EXTRACT(jsonPayload.ms)', metric_descriptor: { value_type: 'DISTRIBUTION', unit: 'ms' } });
    expect(metric(json, 'mlp_test_failed_runs').filter).toBe('resource.type="k8s_container" AND jsonPayload.event="run_finished" AND (jsonPayload.state="FAILED" OR jsonPayload.state="CANCELED")');
    expect(metric(json, 'mlp_test_data_anomalies').filter).toBe('resource.type="k8s_container" AND jsonPayload.event="anomalies" AND jsonPayload.count>0');
    expect(metric(json, 'mlp_test_data_skew')).toMatchObject({ filter: 'resource.type="k8s_container" AND jsonPayload.event="skew"', label_extractors: { pipeline: 'EXTRACT(jsonPayload.pipeline)', comparator: 'EXTRACT(jsonPayload.comparator)' } });
    expect(Object.values(LOG_CONTRACT).map((c) => c.event)).toEqual(['request', 'run_finished', 'anomalies', 'skew']);
  });

  test('alert policies: serving error rate as a ratio, p99 latency, any failed run, anomalies and skew; all notify the channel', () => {
    const { stack } = monitoring({ servingErrorRate: 0.02, servingLatencyP99Ms: 750 });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(MonitoringAlertPolicy, { display_name: '[mlp_test] Model serving error rate', combiner: 'OR', severity: 'ERROR' });
    const json = synthJson(stack);
    const channel = onlyResource(json, 'google_monitoring_notification_channel');
    expect(channel).toMatchObject({ type: 'email', labels: { email_address: 'ml-alerts@acme.com' } });
    const policies = resourcesOf(json, 'google_monitoring_alert_policy');
    expect(policies.map((p) => p.user_labels['mlp-alert']).sort()).toEqual(['anomalies', 'failed-runs', 'gpu-idle', 'serving-error-rate', 'serving-latency', 'skew', 'tpu-idle']);
    for (const p of policies) expect(p.notification_channels).toEqual([expect.stringMatching(/^\$\{google_monitoring_notification_channel\.monitoring_channel_[0-9A-F]+\.name\}$/)]);
    const errorRate = policy(json, 'serving-error-rate').conditions[0].condition_threshold;
    expect(errorRate).toMatchObject({
      filter: expect.stringMatching(/^metric\.type="logging\.googleapis\.com\/user\/\$\{google_logging_metric\.monitoring_metric-serving-errors_[0-9A-F]+\.name\}" AND resource\.type="k8s_container"$/),
      denominator_filter: expect.stringMatching(/metric-serving-requests_/),
      comparison: 'COMPARISON_GT', threshold_value: 0.02, duration: '300s',
      aggregations: [{ alignment_period: '300s', per_series_aligner: 'ALIGN_RATE', cross_series_reducer: 'REDUCE_SUM', group_by_fields: ['metric.label.model'] }],
    });
    // On the server's histogram (seconds): buckets merged across pods, then the 99th percentile per model.
    expect(policy(json, 'serving-latency').conditions[0].condition_threshold).toEqual({
      filter: 'metric.type="prometheus.googleapis.com/mlp_serving_request_duration_seconds/histogram" AND resource.type="prometheus_target" AND resource.label.namespace="ml-platform"',
      aggregations: [{ alignment_period: '300s', per_series_aligner: 'ALIGN_DELTA', cross_series_reducer: 'REDUCE_PERCENTILE_99', group_by_fields: ['metric.label.model'] }],
      comparison: 'COMPARISON_GT', threshold_value: 0.75, duration: '300s', trigger: { count: 1 },
    });
    expect(policy(json, 'failed-runs').conditions[0].condition_threshold).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 0, duration: '0s' });
    expect(policy(json, 'failed-runs').documentation.content).toContain('jsonPayload.event="run_finished" AND (jsonPayload.state="FAILED" OR jsonPayload.state="CANCELED")');
  });

  test('Vertex steps log as ml_job; an existing channel is used as is', () => {
    const { stack } = monitoring({ pipelineLogResource: 'ml_job', notification: { kind: 'existing', name: 'projects/acme-ml-test/notificationChannels/42' } });
    const json = synthJson(stack);
    expect(metric(json, 'mlp_test_failed_runs').filter).toMatch(/^resource\.type="ml_job" AND /);
    expect(resourcesOf(json, 'google_monitoring_notification_channel')).toEqual([]);
    expect(policy(json, 'skew').notification_channels).toEqual(['projects/acme-ml-test/notificationChannels/42']);
  });

  test('refuses thresholds and channels that cannot work', () => {
    expect(errorOf(() => monitoring({ servingErrorRate: 5 }))).toBe("MlMonitoring 'test/monitoring': servingErrorRate 5 must be a fraction between 0 and 1 (e.g. 0.05 for 5%).");
    expect(errorOf(() => monitoring({ notification: { kind: 'existing', name: 'pagerduty' } }))).toBe(
      "MlMonitoring 'test/monitoring': notification channel 'pagerduty' must be a resource name like projects/acme-ml-prod/notificationChannels/123.");
    expect(errorOf(() => monitoring({ metricPrefix: 'mlp-dev' }))).toBe("MlMonitoring 'test/monitoring': metricPrefix 'mlp-dev' must be lowercase letters, digits and '_', starting with a letter (max 41).");
  });

  test('servingLatencySource log: the alert reads the log-based distribution in milliseconds', () => {
    const json = synthJson(monitoring({ servingLatencySource: 'log', servingLatencyP99Ms: 750 }).stack);
    expect(policy(json, 'serving-latency').conditions[0].condition_threshold).toMatchObject({
      filter: expect.stringMatching(/^metric\.type="logging\.googleapis\.com\/user\/\$\{google_logging_metric\.monitoring_metric-serving-latency_/),
      threshold_value: 750, aggregations: [{ per_series_aligner: 'ALIGN_PERCENTILE_99', cross_series_reducer: 'REDUCE_MAX' }],
    });
  });

  test('idle accelerators: GPU utilization (DCGM) and TPU duty cycle below a percentage over an hour, per device or node', () => {
    const json = synthJson(monitoring({ gpuIdleBelowPercent: 15, tpuIdleBelowPercent: 5, acceleratorWindowSeconds: 7200 }).stack);
    expect(policy(json, 'gpu-idle')).toMatchObject({ display_name: '[mlp_test] GPU idle', severity: 'WARNING' });
    expect(policy(json, 'gpu-idle').conditions[0].condition_threshold).toEqual({
      filter: 'metric.type="prometheus.googleapis.com/DCGM_FI_DEV_GPU_UTIL/gauge" AND resource.type="prometheus_target"',
      aggregations: [{ alignment_period: '7200s', per_series_aligner: 'ALIGN_MEAN', cross_series_reducer: 'REDUCE_MEAN', group_by_fields: ['resource.label.cluster', 'resource.label.instance', 'metric.label.gpu'] }],
      comparison: 'COMPARISON_LT', threshold_value: 15, duration: '7200s', trigger: { count: 1 },
    });
    expect(policy(json, 'tpu-idle').conditions[0].condition_threshold).toEqual({
      filter: 'metric.type="kubernetes.io/node/accelerator/duty_cycle" AND resource.type="k8s_node"',
      aggregations: [{ alignment_period: '7200s', per_series_aligner: 'ALIGN_MEAN', cross_series_reducer: 'REDUCE_MEAN', group_by_fields: ['resource.label.cluster_name', 'resource.label.node_name'] }],
      comparison: 'COMPARISON_LT', threshold_value: 5, duration: '7200s', trigger: { count: 1 },
    });
    const off = synthJson(monitoring({ gpuIdleBelowPercent: 0, tpuIdleBelowPercent: 0 }).stack);
    expect(resourcesOf(off, 'google_monitoring_alert_policy').map((p) => p.user_labels['mlp-alert'])).not.toEqual(expect.arrayContaining(['gpu-idle']));
    expect(resourcesOf(off, 'google_monitoring_alert_policy').map((p) => p.user_labels['mlp-alert'])).not.toEqual(expect.arrayContaining(['tpu-idle']));
  });

  test('refuses accelerator thresholds, windows and latency sources that cannot work', () => {
    expect(errorOf(() => monitoring({ gpuIdleBelowPercent: 100 }))).toBe("MlMonitoring 'test/monitoring': gpuIdleBelowPercent 100 must be a percentage from 0 (alert off) to below 100.");
    expect(errorOf(() => monitoring({ tpuIdleBelowPercent: -1 }))).toBe("MlMonitoring 'test/monitoring': tpuIdleBelowPercent -1 must be a percentage from 0 (alert off) to below 100.");
    expect(errorOf(() => monitoring({ acceleratorWindowSeconds: 60 }))).toBe("MlMonitoring 'test/monitoring': acceleratorWindowSeconds 60 must be an integer between 300 and 86400.");
    expect(errorOf(() => monitoring({ servingLatencySource: 'logs' as never }))).toBe("MlMonitoring 'test/monitoring': servingLatencySource 'logs' must be 'histogram' or 'log'.");
  });
});
