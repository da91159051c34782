// Policy pack entry point: the Aspect, its rules and report types.
export * from './policy-pack';
export * from './checkov-config';
export { RULES, RULE_IDS } from './rules';
export type { PolicyRule, ResourceJson } from './rules';
