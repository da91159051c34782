// PolicyPack: a cdktf Aspect that checks every resource of a stack against the rules in ./rules (Checkov-labelled plus
// our own) on the synthesized JSON, fails synthesis listing every violation with its fix, and honours suppressions that
// carry a written reason (listed as warnings at synth).
import { IConstruct } from 'constructs';
import { Annotations, DefaultTokenResolver, IAspect, StringConcat, TerraformResource, TerraformStack, Tokenization } from 'cdktf';
import { PolicyRule, RULES, RULE_IDS, ResourceJson } from './rules';

/** One rule broken by one resource. */
export interface PolicyFinding {
  readonly ruleId: string;
  readonly title: string;
  /** `<terraform type>.<logical id>` */
  readonly resource: string;
  /** Construct path. */
  readonly path: string;
  readonly problem: string;
  readonly fix: string;
}

/** A finding that was suppressed, with the reason given. */
export interface SuppressedFinding extends PolicyFinding {
  readonly reason: string;
}

export interface PolicyReport {
  readonly stack: string;
  readonly resourcesChecked: number;
  readonly violations: readonly PolicyFinding[];
  readonly suppressed: readonly SuppressedFinding[];
}

interface Suppression { readonly ruleId: string; readonly reason: string }
const SUPPRESSIONS = new WeakMap<IConstruct, Suppression[]>();

/** Thrown from synthesis when a stack breaks rules. */
export class PolicyViolationError extends Error {
  constructor(readonly report: PolicyReport) {
    super([
      `Policy pack: ${report.violations.length} violation(s) in stack '${report.stack}':`,
      ...report.violations.map((v) => `  [${v.ruleId}] ${v.resource} (${v.path}): ${v.problem}. Rule: ${v.title}. Fix: ${v.fix}.`),
      'Fix the resources, or suppress with PolicyPack.suppress(construct, ruleId, reason) and a written reason.',
    ].join('\n'));
    this.name = 'PolicyViolationError';
  }
}

export interface PolicyPackOptions {
  /**
   * Rules to evaluate.
   * @default - all of RULES
   */
  readonly rules?: readonly PolicyRule[];
  /**
   * Throw on violations (fail synthesis). When false, violations are only reported as annotations and in `reports`.
   * @default true
   */
  readonly failOnViolation?: boolean;
}

/** The security policy pack. Add with `Aspects.of(stack).add(new PolicyPack())`; it evaluates when it visits a stack. */
export class PolicyPack implements IAspect {
  /**
   * Suppresses `ruleId` for every resource at or below `scope`. `reason` must explain why (at least 20 characters);
   * suppressions are listed at synth.
   */
  static suppress(scope: IConstruct, ruleId: string, reason: string): void {
    if (!RULE_IDS.has(ruleId)) throw new Error(`PolicyPack.suppress: unknown rule '${ruleId}' at '${scope.node.path}'; use one of ${[...RULE_IDS].join(', ')}.`);
    if (reason.trim().length < 20) {
      throw new Error(`PolicyPack.suppress: suppressing ${ruleId} at '${scope.node.path}' needs a written reason (at least 20 characters) saying why the rule does not apply.`);
    }
    const list = SUPPRESSIONS.get(scope) ?? [];
    list.push({ ruleId, reason: reason.trim() });
    SUPPRESSIONS.set(scope, list);
  }

  /** Latest report per stack name (filled on each synthesis). */
  readonly reports = new Map<string, PolicyReport>();
  private readonly rules: readonly PolicyRule[];
  private readonly failOnViolation: boolean;

  constructor(options: PolicyPackOptions = {}) {
    this.rules = options.rules ?? RULES;
    this.failOnViolation = options.failOnViolation ?? true;
  }

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const report = this.evaluate(node);
    this.reports.set(node.node.id, report);
    for (const s of report.suppressed) {
      Annotations.of(node).addWarning(`Policy suppression [${s.ruleId}] ${s.resource} (${s.path}): ${s.problem}. Reason: ${s.reason}`);
    }
    if (report.violations.length > 0) {
      if (this.failOnViolation) throw new PolicyViolationError(report);
      for (const v of report.violations) Annotations.of(node).addError(`[${v.ruleId}] ${v.resource}: ${v.problem}. Fix: ${v.fix}.`);
    }
  }

  /** Checks every resource of `stack` without throwing. */
  evaluate(stack: TerraformStack): PolicyReport {
    const resolver = new DefaultTokenResolver(new StringConcat());
    const violations: PolicyFinding[] = [];
    const suppressed: SuppressedFinding[] = [];
    let checked = 0;
    for (const construct of stack.node.findAll()) {
      if (!TerraformResource.isTerraformResource(construct) || TerraformStack.of(construct) !== stack) continue;
      const resource = construct as TerraformResource;
      const type = resource.terraformResourceType;
      const rules = this.rules.filter((r) => r.resourceTypes.includes(type));
      if (rules.length === 0) continue;
      const fragment = Tokenization.resolve(resource.toTerraform(), { scope: stack, preparing: false, resolver }) as {
        resource?: { [type: string]: { [id: string]: ResourceJson } };
      };
      const byId = fragment.resource?.[type];
      if (!byId) continue;
      checked++;
      const [logicalId, json] = Object.entries(byId)[0];
      const suppressions = collectSuppressions(resource);
      for (const rule of rules) {
        const problem = rule.check(json, type);
        if (problem === undefined) continue;
        const finding: PolicyFinding = {
          ruleId: rule.id, title: rule.title, resource: `${type}.${logicalId}`, path: resource.node.path, problem, fix: rule.fix,
        };
        const s = suppressions.find((x) => x.ruleId === rule.id);
        if (s) suppressed.push({ ...finding, reason: s.reason });
        else violations.push(finding);
      }
    }
    return { stack: stack.node.id, resourcesChecked: checked, violations, suppressed };
  }
}

function collectSuppressions(construct: IConstruct): Suppression[] {
  return construct.node.scopes.flatMap((scope) => SUPPRESSIONS.get(scope) ?? []);
}
