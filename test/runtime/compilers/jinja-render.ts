// Airflow's rendering of a KubernetesPodOperator's templated fields (cmds, arguments, env_vars), with real Jinja2
// (the test venv's; Airflow renders with jinja2's SandboxedEnvironment and the DAG's template_undefined,
// StrictUndefined by default): `params`, `run_id`, `ds` and `ti.xcom_pull(task_ids=...)` as a DAG run has them, for
// tests that run a compiled pod's command line here. Each field is rendered once: what a value renders to is not
// rendered again.

import { execFileSync } from 'child_process';
import { testPython } from '../../support/python';

export interface AirflowContext {
  params: Record<string, unknown>;
  runId: string;
  /** What each task returned as its XCom. */
  xcom?: Record<string, unknown>;
}

const RENDER = `
import json, sys
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
data = json.load(sys.stdin)
class TaskInstance:
    def xcom_pull(self, task_ids):
        return data["xcom"][task_ids]
env = SandboxedEnvironment(undefined=StrictUndefined)
context = {"params": data["params"], "run_id": data["runId"], "ds": data["ds"], "ti": TaskInstance()}
print(json.dumps([env.from_string(t).render(**context) for t in data["templates"]]))
`;

/** The run's logical date as `{{ ds }}` renders it. */
export const RUN_DATE = '2026-12-08';

/** Each template rendered as Airflow renders a templated field. */
export function renderJinja(templates: string[], context: AirflowContext): string[] {
  const out = execFileSync(testPython(['jinja2']), ['-c', RENDER], { input: JSON.stringify({ xcom: {}, ds: RUN_DATE, ...context, templates }), encoding: 'utf8' });
  return JSON.parse(out) as string[];
}
