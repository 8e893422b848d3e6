/** The response parser's limits: their defaults and the check of the options a caller gives. */
import { defined } from './drafts';
import { ResponseParserOptionsError } from './errors';
import type { ResponseParserOptions } from './types';

/** Defaults of ResponseParserOptions. */
export const RESPONSE_PARSER_DEFAULTS: Readonly<ResponseParserOptions> = {
  maxAnomalies: 1000,
  maxTextChars: 1024,
  maxForms: 10_000,
  maxMarkupChars: 1024 * 1024,
  maxDepth: 256,
};

/** Merges `options` over the defaults; throws ResponseParserOptionsError for an unusable one. */
export function resolveParserOptions(
  options: Partial<ResponseParserOptions> | undefined,
): ResponseParserOptions {
  const resolved = { ...RESPONSE_PARSER_DEFAULTS, ...defined(options ?? {}) };
  const minimum: Readonly<Record<keyof ResponseParserOptions, number>> = {
    maxAnomalies: 0,
    maxTextChars: 1,
    maxForms: 0,
    // A tag must fit, with its attributes: the answers' root tags are about 150 characters.
    maxMarkupChars: 1024,
    // ACRF, Form, ReceptionResult, ErrorID and a NOTIFICATION's AnomalyReport/Path fields.
    maxDepth: 8,
  };
  for (const key of Object.keys(minimum) as (keyof ResponseParserOptions)[]) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < minimum[key]) {
      throw new ResponseParserOptionsError(
        `response parser option ${key} must be an integer of at least ${minimum[key]}, got ${String(value)}`,
      );
    }
  }
  return resolved;
}
