// Our status extension, next to TF Serving's API: what TF Serving's status endpoints cannot say — every
// version label of a model and how requests that name no version or label are spread (a split's weights and
// actual shares, or a bandit's tallies). Under /mlp/v1/ so it can never collide with TF Serving's
// /v1/models/... grammar, and a plain TF Serving server answers it 404 (how `mlp ui` tells the two apart).
//   GET /mlp/v1/models               {"models": [<model>, ...]}
//   GET /mlp/v1/models/{name}/serving <model> = {"model", "versions": [{"version", "state", "error"?}],
//                                     "labels": {label: version}, "traffic": null | split | bandit}

import { decodePathSegment, ROUTING_KEY_HEADER, type Route, type Router } from './http-server';
import type { ModelRegistry, ServedModel } from './model-registry';
import { notFound } from './request-error';

const STATUS_PATH = /^\/mlp\/v1\/models(?:\/([^/]+)\/serving)?$/;

function modelStatus(model: ServedModel) {
  const { versions, labels, traffic } = model.servingStatus();
  return {
    model: model.name,
    // Version numbers as strings, like TF Serving's status API.
    versions: versions.map((s) => ({ version: String(s.version), state: s.state, ...(s.error !== undefined ? { error: s.error } : {}) })),
    labels,
    traffic: !traffic
      ? null
      : traffic.kind === 'split'
        ? { kind: 'split', sticky_header: ROUTING_KEY_HEADER, arms: traffic.arms }
        : {
            kind: 'bandit',
            algorithm: traffic.algorithm,
            arms: traffic.arms.map((a) => ({
              arm: a.arm,
              version: a.version,
              pulls: a.pulls,
              rewards: a.rewards,
              reward_sum: a.rewardSum,
              mean_reward: a.rewards > 0 ? a.rewardSum / a.rewards : null,
            })),
          },
  };
}

export function servingStatusRouter(registry: ModelRegistry): Router {
  return (path) => {
    const m = STATUS_PATH.exec(path);
    if (!m) return undefined;
    if (m[1] === undefined) {
      return { method: 'GET', api: 'serving_status', handle: async () => ({ body: { models: registry.all().map(modelStatus) } }) } satisfies Route;
    }
    const name = decodePathSegment(m[1]);
    if (name === undefined) return undefined;
    return {
      method: 'GET',
      api: 'serving_status',
      model: registry.get(name) ? name : undefined,
      handle: async () => {
        const model = registry.get(name);
        if (!model) throw notFound(`model ${JSON.stringify(name)} is not served here`);
        return { body: modelStatus(model) };
      },
    } satisfies Route;
  };
}
