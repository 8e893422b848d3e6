/**
 * Values the stack decides on its own (not deployment settings: those are in ./config).
 */

// The Powertools service name lives with the other names the functions share.
export { SERVICE_NAME } from '../functions/config/names';

/** How long the functions may reuse a fetched secret (ENV_NAMES.secretTtlSeconds). */
export const SECRET_TTL_SECONDS = 300;

/**
 * Packages left out of the bundles because the runtime provides them: none. The AWS SDK is
 * bundled too, at the versions of package-lock.json that the tests ran against, rather than
 * whatever the Lambda runtime ships that day (and the runtime's set of `@aws-sdk/lib-*`
 * packages is not documented). Each bundle is about 1.9 MB minified, under the 2 MB budget the
 * stack test enforces; `['@aws-sdk/*']` would bring them near 1 MB.
 */
export const RUNTIME_PROVIDED_MODULES: readonly string[] = [];

/**
 * Optional native code left out of the bundles: ssh2 loads `cpu-features` and its own
 * `sshcrypto.node` inside try/catch and works without them (pure JavaScript); their native
 * builds are not allowed by package.json (allowScripts), so they may not even exist.
 */
export const OPTIONAL_NATIVE_MODULES: readonly string[] = ['cpu-features', '*.node'];

/**
 * What a secret the stack creates holds until `onss-transfer import-key` (or an operator)
 * writes the real value. CloudFormation sets it once, at creation: later deploys leave the
 * imported value alone because the template does not change.
 */
export const SECRET_PLACEHOLDER = JSON.stringify({
  placeholder: 'empty: import the real value with onss-transfer import-key (see infra/README.md)',
});

/**
 * CDK feature flags the stack relies on, set by the app (and by the tests through the same
 * function) rather than cdk.json, so that a synth from tests and from the CLI agree.
 */
export const FEATURE_FLAGS = {
  // Server access logs are granted by a bucket policy: the log bucket keeps ACLs disabled.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  // Merge IAM statements that differ only by resource: shorter policies, same permissions.
  '@aws-cdk/aws-iam:minimizePolicies': true,
} as const;
