/**
 * What the functions' environment variables may weigh: Lambda refuses a function whose
 * variables take more than 4 KB, and ONSS_CHANNELS grows with every channel. The stack checks
 * its estimate at synth, so that a deployment with too many channels fails `cdk synth` with the
 * reason instead of `cdk deploy` half-way.
 */
import { Tokenization } from 'aws-cdk-lib';

/** Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * The length counted for each value not known at synth (a CDK token): an ARN, a queue URL or a
 * generated name resolves to about this many characters or fewer. A secret's ARN, the longest,
 * is `arn:aws:secretsmanager:<region>:<account>:secret:<stack>-<id><hash>-<suffix>`, about 100.
 */
export const TOKEN_STAND_IN_LENGTH = 100;

/** The length of `text` once deployed, each token in it counted as TOKEN_STAND_IN_LENGTH. */
export function estimatedLength(text: string): number {
  const fragments = Tokenization.reverseString(text);
  if (fragments.length === 0) return 0;
  const standIn = 'x'.repeat(TOKEN_STAND_IN_LENGTH);
  const joined: unknown = fragments
    .mapTokens({ mapToken: () => standIn })
    .join({ join: (left: unknown, right: unknown) => `${String(left)}${String(right)}` });
  return Buffer.byteLength(String(joined));
}

/**
 * The estimated size of a set of variables, in bytes: their JSON (names, values, quotes and
 * escapes), each token counted as TOKEN_STAND_IN_LENGTH. A little more than what Lambda counts,
 * on purpose. `variables` must hold text (with token markers), not a token standing for the
 * whole value: give ONSS_CHANNELS as JSON.stringify of its entries, not as toJsonString.
 */
export function estimatedEnvironmentBytes(variables: Readonly<Record<string, string>>): number {
  return estimatedLength(JSON.stringify(variables));
}

/**
 * The problem with one function's variables, naming the context key to change, or none when
 * they fit within LAMBDA_ENVIRONMENT_LIMIT_BYTES.
 */
export function environmentProblems(
  key: string,
  functionName: string,
  variables: Readonly<Record<string, string>>,
): string[] {
  const bytes = estimatedEnvironmentBytes(variables);
  if (bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return [];
  return [
    `${key}: the ${functionName} function's environment variables would take about ${bytes} ` +
      `bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} (each ARN the stack creates ` +
      `counted as ${TOKEN_STAND_IN_LENGTH} characters): split the channels over two ` +
      'deployments, or give fewer answer fingerprints',
  ];
}
