// Text the compilers write into a pod's command, args and env values, which the kubelet rewrites before the
// container starts: `$(VAR)` becomes the value of the container's env var VAR and `$$` becomes `$` (Kubernetes'
// expansion, kubernetes/kubernetes third_party/forked/golang/expansion/expand.go; the EnvVar, Container command and
// args API docs). Without escaping, a parameter value "price$$" reached the step as "price$" and "$(HOME)" as the
// pod's HOME, silently. Literal text goes through k8sLiteral; a reference the compilers mean Kubernetes to expand
// is written with k8sEnvRef at its call site, never guessed from the text.

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
