// PolicyPack: a cdktf Aspect that checks every resource of a stack against the rules in ./rules (Checkov-labelled plus
// our own) on the synthesized JSON, fails synthesis listing every violation with its fix, and honours suppressions that
// carry a written reason (listed as warnings at synth; one that matched no finding is reported as stale).
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

/** A suppression in the stack that matched no finding of an evaluated rule: a stale decision to remove. */
export interface UnusedSuppression {
  readonly ruleId: string;
  /** Construct path of the suppression's scope. */
  readonly path: string;
  readonly reason: string;
}

export interface PolicyReport {
  readonly stack: string;
  readonly resourcesChecked: number;
  readonly violations: readonly PolicyFinding[];
  readonly suppressed: readonly SuppressedFinding[];
  /** Suppressions that matched nothing (reported as warnings; the pack does not fail on them). */
  readonly unusedSuppressions?: readonly UnusedSuppression[];
}

interface Suppression { readonly ruleId: string; readonly reason: string; readonly scope: IConstruct }
const SUPPRESSIONS = new WeakMap<IConstruct, Suppression[]>();
/** Every suppression per construct tree (its root), so a stack's unused ones can be found; a WeakMap cannot be listed. */
const BY_ROOT = new WeakMap<IConstruct, Suppression[]>();

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
    const suppression = { ruleId, reason: reason.trim(), scope };
    list.push(suppression);
    SUPPRESSIONS.set(scope, list);
    BY_ROOT.set(scope.node.root, [...(BY_ROOT.get(scope.node.root) ?? []), suppression]);
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
    for (const u of report.unusedSuppressions ?? []) {
      Annotations.of(node).addWarning(`Policy suppression [${u.ruleId}] at ${u.path} matched no finding; remove it (reason given: ${u.reason})`);
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
    const used = new Set<Suppression>();
    const resolve = (resource: TerraformResource) => {
      const fragment = Tokenization.resolve(resource.toTerraform(), { scope: stack, preparing: false, resolver }) as {
        resource?: { [type: string]: { [id: string]: ResourceJson } };
      };
      const byId = fragment.resource?.[resource.terraformResourceType];
      return byId ? Object.entries(byId)[0] : undefined;
    };
    const resources = stack.node.findAll().filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c) && TerraformStack.of(c) === stack);
    // Resolved on demand, once per type: only connection checks (CKV2_*) look at other resources.
    const byType = new Map<string, ResourceJson[]>();
    const resourcesOf = (type: string) => {
      if (!byType.has(type)) byType.set(type, resources.filter((r) => r.terraformResourceType === type).map((r) => resolve(r)?.[1]).filter((j): j is ResourceJson => j !== undefined));
      return byType.get(type)!;
    };
    let checked = 0;
    for (const resource of resources) {
      const type = resource.terraformResourceType;
      const rules = this.rules.filter((r) => r.resourceTypes.includes(type));
      if (rules.length === 0) continue;
      const resolved = resolve(resource);
      if (!resolved) continue;
      checked++;
      const [logicalId, json] = resolved;
      const suppressions = collectSuppressions(resource);
      for (const rule of rules) {
        const problem = rule.check(json, type, { logicalId, resourcesOf });
        if (problem === undefined) continue;
        const finding: PolicyFinding = {
          ruleId: rule.id, title: rule.title, resource: `${type}.${logicalId}`, path: resource.node.path, problem, fix: rule.fix,
        };
        const s = suppressions.find((x) => x.ruleId === rule.id);
        if (s) {
          suppressed.push({ ...finding, reason: s.reason });
          used.add(s);
        } else violations.push(finding);
      }
    }
    const evaluated = new Set(this.rules.map((r) => r.id));
    const unusedSuppressions = (BY_ROOT.get(stack.node.root) ?? [])
      .filter((s) => !used.has(s) && evaluated.has(s.ruleId) && inStack(s.scope, stack))
      .map((s) => ({ ruleId: s.ruleId, path: s.scope.node.path, reason: s.reason }));
    return { stack: stack.node.id, resourcesChecked: checked, violations, suppressed, unusedSuppressions };
  }
}

/** Whether `scope` is `stack` or inside it (a suppression on an App or Stage scope covers several stacks). */
function inStack(scope: IConstruct, stack: TerraformStack): boolean {
  return scope === stack || scope.node.scopes.includes(stack);
}

function collectSuppressions(construct: IConstruct): Suppression[] {
  return construct.node.scopes.flatMap((scope) => SUPPRESSIONS.get(scope) ?? []);
}
