// The step wrapper of container components on Argo and Airflow, as KFP's launcher is copied into a user's
// container: an init container from the runtime image copies Node and the runtime into a shared emptyDir,
// and the main container runs in the component's own image as `/mlp/bin/node /mlp/app/runtime/cli/mlp.js
// component run NAME --executor-input ... --container-spec ...` with MLP_LOCAL_EXEC=subprocess. So the
// component's executor resolves the KFP placeholders from the ExecutorInput and runs the image's command as a
// process, and the shared launcher publishes atomically and records to the metadata store (cache, lineage,
// commit marker) exactly as for a bundled step. The user's image must be glibc-based (glibc ≥ 2.28, with
// libstdc++) on x86_64, as the runtime image's Node binary is.

import { UserError } from '../core/errors';
import { isContainerComponent } from '../components/container/spec';
import { containerStepSpec } from '../components/container/step-spec';
import { IMAGE_APP_DIR, PASSWORD_ENV, type CompiledNode } from './common';
import { k8sLiteral } from './k8s-args';

/** The shared emptyDir: the init container writes it, the main container runs from it. */
export const WRAPPER_VOLUME = 'mlp-runtime';
export const WRAPPER_ROOT = '/mlp';
const NODE = `${WRAPPER_ROOT}/bin/node`;
const APP = `${WRAPPER_ROOT}/app`;

/**
 * The init container's command (in the runtime image, where Node is on PATH and the package at IMAGE_APP_DIR), as pod
 * text (k8s-args.ts).
 * `cp -R` keeps node_modules' symlinks as links and does not try to keep root's ownership.
 */
export const WRAPPER_COPY_COMMAND = ['sh', '-c', k8sLiteral(`set -e; mkdir -p ${WRAPPER_ROOT}/bin; cp "$(command -v node)" ${NODE}; cp -R ${IMAGE_APP_DIR} ${APP}`)];

/** What the main container needs besides the component's own env: the runtime's modules, and run the command as a process. */
const WRAPPER_ENV: Readonly<Record<string, string>> = { NODE_PATH: `${APP}/node_modules`, NODE_ENV: 'production', MLP_LOCAL_EXEC: 'subprocess' };
/** Variables the step sets itself (besides WRAPPER_ENV), which a component's env must not name. */
const STEP_ENV = ['MLP_PIPELINE_ROOT', 'MLP_METADATA', PASSWORD_ENV];

export interface ContainerStep {
  /** The component's image: the main container runs there. */
  image: string;
  /** `mlp component run NAME --executor-input` through the copied Node and runtime; the ExecutorInput follows. */
  command: string[];
  /**
   * The step spec, right after the ExecutorInput: base64 so the engine's own templating (Argo's `{{…}}`,
   * Airflow's Jinja) never touches the component's KFP placeholders or anything else in its command line.
   */
  specArgs: string[];
  /** The component's env, then the wrapper's. */
  env: Record<string, string>;
}

/**
 * The wrapper step of a container component node (`target` names the compiler in errors); undefined for any other
 * node, which runs in one pod (distributed steps are refused by the Airflow compiler and given to argo-jobset.ts by the
 * Argo compiler before this is reached). Refused: a TASK_FINAL_STATUS parameter (only an exit task is given one, and
 * nodes are not exit tasks).
 */
export function containerStep(node: CompiledNode, target: string): ContainerStep | undefined {
  const c = node.component;
  if (!isContainerComponent(c)) return undefined;
  const where = `node ${node.id}`;
  const finalStatus = Object.entries(c.container.parameterTypes).find(([, type]) => type === 'TASK_FINAL_STATUS');
  if (finalStatus) throw new UserError(`${where}: parameter "${finalStatus[0]}" of container component ${c.name} is a TASK_FINAL_STATUS, which only an exit task takes; the ${target} compiler does not make nodes exit tasks`);
  const clash = Object.keys(c.container.env).find((k) => k in WRAPPER_ENV || STEP_ENV.includes(k));
  if (clash) throw new UserError(`${where}: container component ${c.name} sets env ${clash}, which its step wrapper sets itself (${[...Object.keys(WRAPPER_ENV), ...STEP_ENV].join(', ')}); rename it`);
  const spec = containerStepSpec(c, where);
  return {
    image: c.container.image,
    command: [NODE, `${APP}/runtime/cli/mlp.js`, 'component', 'run', c.name, '--executor-input'],
    specArgs: ['--container-spec', `base64:${Buffer.from(JSON.stringify(spec)).toString('base64')}`],
    env: { ...c.container.env, ...WRAPPER_ENV },
  };
}
