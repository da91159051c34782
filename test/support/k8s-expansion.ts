// Kubernetes' `$(VAR)` expansion of a container's command, args and env values, ported line for line from
// kubernetes/kubernetes third_party/forked/golang/expansion/expand.go at commit
// fde22c3f9aacfd260225a9741de123a41157b7c0 (Apache-2.0; the file itself is forked from Go's os.Expand), so tests can
// check what a step receives after the kubelet has rewritten its compiled command line. Go indexes bytes and
// decodes one rune after the operator; this indexes UTF-16 code units and reads one code point there, which is the
// same for every string (the operator and the brackets are ASCII and never part of a multi-unit character).

const OPERATOR = '$';
const REFERENCE_OPENER = '(';
const REFERENCE_CLOSER = ')';

/** syntaxWrap: the input wrapped in the expansion syntax. */
const syntaxWrap = (input: string): string => OPERATOR + REFERENCE_OPENER + input + REFERENCE_CLOSER;

/**
 * MappingFuncFor: the value of `input` in the first context that defines it, else the reference unchanged (an
 * undefined variable passes through).
 */
export function mappingFuncFor(...context: Record<string, string>[]): (input: string) => string {
  return (input) => {
    for (const vars of context) if (Object.prototype.hasOwnProperty.call(vars, input)) return vars[input];
    return syntaxWrap(input);
  };
}

/** Expand: replaces variable references in `input` with `mapping`'s values. */
export function expand(input: string, mapping: (name: string) => string): string {
  let buf = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] === OPERATOR && cursor + 1 < input.length) {
      // Copy the input since the last checkpoint, then try to read a variable name after the operator.
      buf += input.slice(checkpoint, cursor);
      const [read, isVar, advance] = tryReadVariableName(input.slice(cursor + 1));
      buf += isVar ? mapping(read) : read;
      // Advance past the bytes the name expression consumed.
      cursor += advance;
      checkpoint = cursor + 1;
    }
  }
  return buf + input.slice(checkpoint);
}

/** tryReadVariableName: what was read, whether it is a name to map, and how much input it consumed (without the operator). */
function tryReadVariableName(input: string): [read: string, isVar: boolean, advance: number] {
  const r = String.fromCodePoint(input.codePointAt(0)!);
  switch (r) {
    case OPERATOR:
      // Escaped operator.
      return [input.slice(0, r.length), false, r.length];
    case REFERENCE_OPENER:
      // Scan to the expression closer.
      for (let i = 1; i < input.length; i++) {
        if (input[i] === REFERENCE_CLOSER) return [input.slice(1, i), true, i + 1];
      }
      // Incomplete reference.
      return [OPERATOR + REFERENCE_OPENER, false, 1];
    default:
      // An operator that does not begin an expression: the operator and the first character.
      return [OPERATOR + r, false, r.length];
  }
}

/**
 * A container's env as the kubelet builds it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables): in order,
 * each value expanded against the variables defined before it and the service variables, then `$(VAR)` in the
 * command and args expanded against the result. `fromSource` gives the value of an env entry without `value`
 * (downward API, Secret); `service` stands for the service environment variables.
 */
export function containerEnv(env: { name: string; value?: string }[], fromSource: (name: string) => string, service: Record<string, string> = {}): Record<string, string> {
  const defined: Record<string, string> = {};
  const mapping = mappingFuncFor(defined, service);
  for (const e of env) defined[e.name] = e.value === undefined ? fromSource(e.name) : expand(e.value, mapping);
  return { ...service, ...defined };
}
