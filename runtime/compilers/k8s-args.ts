// Text the compilers write into a pod's command, args and env values, which is rewritten before the container starts.
// The kubelet: `$(VAR)` becomes the value of the container's env var VAR and `$$` becomes `$` (Kubernetes'
// expansion, kubernetes/kubernetes third_party/forked/golang/expansion/expand.go; the EnvVar, Container command and
// args API docs). Without escaping, a parameter value "price$$" reached the step as "price$" and "$(HOME)" as the
// pod's HOME, silently. Literal text goes through k8sLiteral; a reference the compilers mean Kubernetes to expand
// is written with k8sEnvRef at its call site, never guessed from the text.
// Before that, the engine's templating: Argo substitutes `{{...}}` tags and Airflow renders Jinja (`{{`, `{%`, `{#`)
// in the fields it templates, so "{{workflow.name}}" or "{{ ds }}" reached the step as the run's name or date and
// "{% if %}" or a lone "{{" failed the run. Literal JSON text goes through jsonWithoutTagStarts, other literal text
// through argoText (refused: Argo has no escape) or jinjaText.

import { UserError } from '../core/errors';

/**
 * Literal text as Kubernetes must be given it to pass it on unchanged: every `$` doubled. Pieces escaped this way
 * may be joined with each other, with k8sEnvRef references and with an engine's placeholders whose values are
 * escaped the same way at run time (Argo `{{=sprig.replace(...)}}`, Jinja `| replace(...)`): the kubelet reads
 * `$$` pairs left to right, so no piece's `$` can pair with its neighbour's.
 */
export function k8sLiteral(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

/** `$(name)`: a deliberate reference to the container's env var `name`, which Kubernetes replaces with its value. */
export function k8sEnvRef(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`k8sEnvRef: "${name}" is not an environment variable name`);
  return `$(${name})`;
}

/**
 * A whole command-line element or env value that reaches the kubelet as it is written and has its placeholders
 * resolved only after expansion (KFP's launcher resolves `{{$...}}` in the expanded args): only what expansion
 * changes is escaped, a `$` before `$` and the `$` of `$(NAME)` with NAME a C identifier (the names Kubernetes, KFP
 * and Vertex AI define; Vertex AI's EnvVar.name must be one). Anything else, e.g. a shell's `$(mktemp -d)` or
 * `$((i + 1))`, is left as written, so it is right whether or not the runtime expands (KFP on Kubernetes does;
 * Vertex AI documents it for env values only). Not for pieces joined afterwards: a `$` at a piece's end could pair
 * with the next piece's first character.
 */
export function k8sTemplateText(text: string): string {
  return text.replace(/\$(?=\$|\([A-Za-z_][A-Za-z0-9_]*\))/g, '$$$$');
}

/** A `{` that starts an engine tag: Argo's `{{` (fasttemplate), Jinja's `{{`, `{%` and `{#`. */
const TAG_START = /\{(?=[{%#])/g;

/**
 * JSON text (an ExecutorInput) in which no engine sees a tag: each `{` that would start one is written `\u007b`,
 * JSON's escape of `{`, so the step parses the same value. Valid JSON has such a `{` only inside strings (outside
 * them `{` is followed by `"`, `}` or white space), where the escape is allowed. Argo's engine-side counterpart for
 * values it splices in at run time is argoJsonValue.
 */
export function jsonWithoutTagStarts(json: string): string {
  return json.replace(TAG_START, '\\u007b');
}

/**
 * An Argo expression (text in an `{{=...}}` tag) whose JSON value has every `{{` written `{\u007b`, as
 * jsonWithoutTagStarts does (Go's strings.Replace, left to right, leaves no `{{`). Argo templates a template's text
 * in more than one pass over what the previous pass produced (util/template/replace.go, workflow/common/util.go
 * SubstituteParams: globals, then inputs; then the pod spec once more), so a value holding `{{workflow.name}}` would
 * be substituted by the next pass and a lone `{{` would fail it ("Cannot find end tag"). The string literal spells
 * the backslash twice: expr-lang unescapes its strings (expr-lang/expr parser/lexer/utils.go), `\u007b` included.
 */
export function argoJsonValue(expr: string): string {
  return `sprig.replace('{{', '{\\\\u007b', ${expr})`;
}

/**
 * Literal text Argo puts into a pod outside JSON (the pipeline root in paths and env, env values): Argo has no
 * escape for `{{` (argoproj/argo-workflows issues #8253 "You cannot escape `{{`", #1765, #12634), and splitting it
 * with an expression (`{{='{{'}}`) only lasts until the next pass, so text holding `{{` is refused, naming `where`.
 */
export function argoText(text: string, where: string): string {
  if (text.includes('{{')) throw new UserError(`${where} ${JSON.stringify(text)} holds "{{", which Argo would read as a template tag (Argo has no escape for it); remove it or compile for another target`);
  return text;
}

/**
 * Literal text Airflow renders with Jinja once (a KubernetesPodOperator's templated fields: cmds, arguments,
 * env_vars): each `{` that would start a tag is written `{{ '{' }}`, which Jinja renders as `{` (Jinja's
 * "Escaping" docs), so the rest no longer starts one. Not for values that reach a task through XCom or `expand`:
 * Airflow does not render those.
 */
export function jinjaText(text: string): string {
  return text.replace(TAG_START, "{{ '{' }}");
}
