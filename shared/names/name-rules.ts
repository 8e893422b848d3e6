/** The reception rules a name is checked against (NameRules): their defaults and validation. */
import { isRealDate, todayInBrussels } from './calendar';
import { DEFAULT_MAX_AGE_DAYS, ENVIRONMENTS, MAX_PARTS } from './constants';
import { RuleOptionsError } from './errors';
import { CODE_FIELD, SENDER_FIELD } from './field-checks';
import type { NameRules, UploadFolder } from './types';

const UPLOAD_FOLDERS: readonly UploadFolder[] = Object.values(ENVIRONMENTS).map(
  (environment) => environment.uploadFolder,
);

const RULE_KEYS: ReadonlySet<string> = new Set<keyof NameRules>([
  'today',
  'maxAgeDays',
  'extraApplications',
  'folder',
  'sender',
  'maxParts',
]);

/**
 * Merges `rules` over the defaults (today in Brussels, 90 days, no extra application, no
 * folder or sender check, 9 parts) and validates the result, throwing a RuleOptionsError
 * that says what to fix. Call it once at start-up to fail fast on a bad configuration; the
 * parse functions call it again, which is cheap. `today` defaults to the day of the call,
 * never of module load, so a long-running process does not keep yesterday.
 */
export function resolveNameRules(rules: Partial<NameRules> = {}): Readonly<NameRules> {
  if (typeof rules !== 'object' || rules === null) {
    throw new RuleOptionsError('rules', 'must be an object');
  }
  for (const key of Object.keys(rules)) {
    if (!RULE_KEYS.has(key)) throw new RuleOptionsError(`rules.${key}`, 'is not a known rule');
  }
  const today = rules.today ?? todayInBrussels();
  if (typeof today !== 'string' || !isRealDate(today)) {
    throw new RuleOptionsError('rules.today', 'must be a real date written YYYYMMDD');
  }
  const maxAgeDays = rules.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  if (!Number.isSafeInteger(maxAgeDays) || maxAgeDays < 0) {
    throw new RuleOptionsError('rules.maxAgeDays', 'must be a whole number of days, 0 or more');
  }
  const extraApplications = rules.extraApplications ?? [];
  if (
    !Array.isArray(extraApplications) ||
    !extraApplications.every((app) => typeof app === 'string' && CODE_FIELD.test(app))
  ) {
    throw new RuleOptionsError(
      'rules.extraApplications',
      'must be a list of codes of 4 upper-case letters or digits',
    );
  }
  const { folder, sender } = rules;
  if (folder !== undefined && !UPLOAD_FOLDERS.includes(folder)) {
    throw new RuleOptionsError('rules.folder', `must be one of ${UPLOAD_FOLDERS.join(', ')}`);
  }
  if (sender !== undefined && (typeof sender !== 'string' || !SENDER_FIELD.test(sender))) {
    throw new RuleOptionsError('rules.sender', 'must be a sender number of 6 digits');
  }
  const maxParts = rules.maxParts ?? MAX_PARTS;
  if (!Number.isSafeInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
    throw new RuleOptionsError('rules.maxParts', `must be a whole number from 1 to ${MAX_PARTS}`);
  }
  return Object.freeze({
    today,
    maxAgeDays,
    extraApplications: Object.freeze([...extraApplications]),
    ...(folder === undefined ? {} : { folder }),
    ...(sender === undefined ? {} : { sender }),
    maxParts,
  });
}
