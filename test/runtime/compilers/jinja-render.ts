// Airflow's rendering of a KubernetesPodOperator's templated arguments, with real Jinja2 (the test venv's; Airflow
// renders with jinja2's SandboxedEnvironment): `params`, `run_id` and `ti.xcom_pull(task_ids=...)` as a DAG run
// has them, for tests that run a compiled pod's command line here.

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
from jinja2.sandbox import SandboxedEnvironment
data = json.load(sys.stdin)
class TaskInstance:
    def xcom_pull(self, task_ids):
        return data["xcom"][task_ids]
env = SandboxedEnvironment()
context = {"params": data["params"], "run_id": data["runId"], "ti": TaskInstance()}
print(json.dumps([env.from_string(t).render(**context) for t in data["templates"]]))
`;

/** Each template rendered as Airflow renders a templated field. */
export function renderJinja(templates: string[], context: AirflowContext): string[] {
  const out = execFileSync(testPython(['jinja2']), ['-c', RENDER], { input: JSON.stringify({ xcom: {}, ...context, templates }), encoding: 'utf8' });
  return JSON.parse(out) as string[];
}
