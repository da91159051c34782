// Argo's template substitution of the tags our Argo compiler writes, for tests that run a compiled step here:
// simple tags (`{{workflow.uid}}`) from a table, expression tags (`{{=...}}`) evaluated for the few functions the
// compiler uses, as Argo's docs define them (docs/variables.md: toJson, jsonpath, and Sprig's functions under
// `sprig.`; sprig.replace(old, new, src) is Go's strings.Replace(src, old, new, -1)). Any other tag or function is an
// error, so a test cannot pass over text it does not understand. Tags are found as fasttemplate finds them
// (argoproj/argo-workflows util/template/template.go): from `{{` to the next `}}`, a `{{` without one being an
// error ("Cannot find end tag"). Argo substitutes a pod's text in more than one pass, each over the previous pass's
// output (workflow/common/util.go SubstituteParams: globals, then inputs; then the pod spec), so argoSubstitute
// runs two passes: text escaped right leaves the second nothing to do.

type Value = unknown;

export interface ArgoVariables {
  /** Simple tags and the values of `workflow.parameters[...]` / `inputs.parameters[...]`, by their dotted name. */
  [name: string]: string;
}

/** What a pod's text becomes after Argo's passes. */
export function argoSubstitute(text: string, vars: ArgoVariables): string {
  return onePass(onePass(text, vars), vars);
}

/** `text` with every `{{...}}` tag replaced as one pass of Argo's replaces it. */
function onePass(text: string, vars: ArgoVariables): string {
  let out = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf('{{', at);
    if (start < 0) return out + text.slice(at);
    const end = text.indexOf('}}', start + 2);
    if (end < 0) throw new Error(`argoSubstitute: "{{" without "}}" in ${text}`);
    out += text.slice(at, start) + substituteTag(text.slice(start + 2, end), vars);
    at = end + 2;
  }
}

function substituteTag(body: string, vars: ArgoVariables): string {
  if (!body.startsWith('=')) {
    const name = body.trim();
    if (!(name in vars)) throw new Error(`argoSubstitute: no value for {{${body}}}`);
    return vars[name];
  }
  const value = new ExpressionParser(body.slice(1), vars).parseAll();
  if (typeof value !== 'string') throw new Error(`argoSubstitute: {{${body}}} is not text: ${JSON.stringify(value)}`);
  return value;
}

const TOKEN = /\s*(?:('(?:[^'\\]|\\.)*')|(\.?[A-Za-z_][\w.]*)|(==|[()[\],?:]))/y;

class ExpressionParser {
  private tokens: string[] = [];
  private at = 0;

  constructor(private readonly source: string, private readonly vars: ArgoVariables) {
    TOKEN.lastIndex = 0;
    while (TOKEN.lastIndex < source.trimEnd().length) {
      const m = TOKEN.exec(source);
      if (!m) throw new Error(`argoSubstitute: cannot read expression ${source} at ${TOKEN.lastIndex}`);
      this.tokens.push(m[1] ?? m[2] ?? m[3]);
    }
  }

  parseAll(): Value {
    const value = this.expression();
    if (this.at !== this.tokens.length) throw new Error(`argoSubstitute: unexpected ${this.tokens[this.at]} in ${this.source}`);
    return value;
  }

  private next(expected?: string): string {
    const t = this.tokens[this.at++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw new Error(`argoSubstitute: expected ${expected ?? 'more'} in ${this.source}, got ${t}`);
    return t;
  }

  private expression(): Value {
    const left = this.primary();
    if (this.tokens[this.at] !== '==') return left;
    this.next('==');
    const right = this.primary();
    this.next('?');
    const then = this.expression();
    this.next(':');
    const otherwise = this.expression();
    return left === right ? then : otherwise;
  }

  private primary(): Value {
    const t = this.next();
    // expr-lang's escapes (expr-lang/expr parser/lexer/utils.go) of the characters the compiler escapes; any other is refused here.
    if (t.startsWith("'")) {
      return t.slice(1, -1).replace(/\\(.)/g, (_, c: string) => {
        if (!"\\'\"".includes(c)) throw new Error(`argoSubstitute: escape \\${c} in ${this.source} is not one the compiler writes`);
        return c;
      });
    }
    if (this.tokens[this.at] === '(') {
      this.next('(');
      const args = [this.expression()];
      while (this.tokens[this.at] === ',') {
        this.next(',');
        args.push(this.expression());
      }
      this.next(')');
      return call(t, args);
    }
    // A variable: dotted names and ['key'] lookups, chained (tasks['a-b'].outputs.parameters['x']).
    let name = t;
    for (;;) {
      const next = this.tokens[this.at];
      if (next === '[') {
        this.next('[');
        name += `.${String(this.primary())}`;
        this.next(']');
      } else if (next?.startsWith('.')) name += this.next();
      else break;
    }
    if (!(name in this.vars)) throw new Error(`argoSubstitute: no value for ${name} in ${this.source}`);
    return this.vars[name];
  }
}

function call(name: string, args: Value[]): Value {
  const text = (v: Value) => {
    if (typeof v !== 'string') throw new Error(`argoSubstitute: ${name} needs text, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (name) {
    case 'toJson':
      return JSON.stringify(args[0]);
    case 'sprig.replace':
      return text(args[2]).split(text(args[0])).join(text(args[1]));
    case 'jsonpath': {
      const path = /^\$((?:\.\w+|\[\d+\])*)$/.exec(text(args[1]));
      if (!path) throw new Error(`argoSubstitute: jsonpath ${String(args[1])} is not a plain path`);
      let value: Value = JSON.parse(text(args[0]));
      for (const [, key, index] of path[1].matchAll(/\.(\w+)|\[(\d+)\]/g)) value = (value as Record<string, Value>)[key ?? Number(index)];
      return value;
    }
    default:
      throw new Error(`argoSubstitute: function ${name} is not one the compiler uses`);
  }
}
