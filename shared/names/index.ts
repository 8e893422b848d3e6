/**
 * Public API of the name rules: the grammar of declaration and response file names, the
 * reception rules the transfer point applies to them, and the set and size rules. The field
 * checks shared between the parsers are internal and not listed here.
 */
export {
  DECLARATION_FIELD_COUNT,
  DECLARATION_PREFIXES,
  DEFAULT_MAX_AGE_DAYS,
  ENVIRONMENTS,
  FORM_IDENTIFICATION,
  KNOWN_APPLICATIONS,
  KNOWN_RESPONSE_TYPES,
  MALFORMED_NAME_ACRF,
  MAX_FILE_BYTES,
  MAX_PARTS,
  NAME_PROJECT_CODES,
  RESPONSE_PREFIXES,
  TRANSFER_POINT_TIME_ZONE,
} from './constants';
export type { KnownApplication, KnownResponseType } from './constants';
export type {
  DeclarationKey,
  DeclarationName,
  DeclarationPrefix,
  Environment,
  NameCheck,
  NameRules,
  ResponseFolder,
  ResponseName,
  ResponseParts,
  ResponsePrefix,
  UploadFolder,
} from './types';
export {
  FileRuleError,
  NameRuleError,
  printableName,
  RuleOptionsError,
  SetRuleError,
} from './errors';
export type { NameField } from './errors';
export { BRUSSELS_DAY_OPTIONS, daysBetween, isRealDate, todayInBrussels } from './calendar';
export {
  buildDeclarationName,
  checkDeclarationName,
  declarationKeyOf,
  formatDeclarationKey,
  parseDeclarationName,
} from './declaration-name';
export { resolveNameRules } from './name-rules';
export {
  buildResponseName,
  checkResponseName,
  parseAnsweredFileName,
  parseResponseName,
} from './response-name';
export { checkDeclarationSet, checkFileSize, signatureRequired } from './set-rules';
export type { DeclarationSetOptions } from './set-rules';
