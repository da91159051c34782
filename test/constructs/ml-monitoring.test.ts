// MlMonitoring: log-based metrics on the runtime's structured log fields and the alert policies over them (serving
// error rate and p99 latency, failed runs, anomalies, skew), the notification channel, validation errors.
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
    expect(policies.map((p) => p.user_labels['mlp-alert']).sort()).toEqual(['anomalies', 'failed-runs', 'serving-error-rate', 'serving-latency', 'skew']);
    for (const p of policies) expect(p.notification_channels).toEqual([expect.stringMatching(/^\$\{google_monitoring_notification_channel\.monitoring_channel_[0-9A-F]+\.name\}$/)]);
    const errorRate = policy(json, 'serving-error-rate').conditions[0].condition_threshold;
    expect(errorRate).toMatchObject({
      filter: expect.stringMatching(/^metric\.type="logging\.googleapis\.com\/user\/\$\{google_logging_metric\.monitoring_metric-serving-errors_[0-9A-F]+\.name\}" AND resource\.type="k8s_container"$/),
      denominator_filter: expect.stringMatching(/metric-serving-requests_/),
      comparison: 'COMPARISON_GT', threshold_value: 0.02, duration: '300s',
      aggregations: [{ alignment_period: '300s', per_series_aligner: 'ALIGN_RATE', cross_series_reducer: 'REDUCE_SUM', group_by_fields: ['metric.label.model'] }],
    });
    expect(policy(json, 'serving-latency').conditions[0].condition_threshold).toMatchObject({
      threshold_value: 750, aggregations: [{ per_series_aligner: 'ALIGN_PERCENTILE_99' }],
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
});
