/**
 * The CDK app: reads the context, builds the stack and checks it with cdk-nag's AWS Solutions
 * rules. Run by `npx cdk synth` (cdk.json: infra/run.js) or, after `npm run build`, by
 * `node dist/infra/app.js`.
 */
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from './config';
import type { ContextKey } from './config';
import { FEATURE_FLAGS } from './constants';
import { OnssTransferStack } from './stack';

/** The stack's name (and construct id). */
export const STACK_NAME = 'OnssTransfer';

/** The app and its one stack. */
export interface TransferApp {
  app: App;
  stack: OnssTransferStack;
}

/**
 * Builds the app. `props.context` adds to (and overrides) the feature flags; the CLI's `-c`
 * values override both. Throws ContextConfigError on an invalid context value.
 */
export function buildApp(props: AppProps = {}): TransferApp {
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
  const config = parseConfig((key: ContextKey) => app.node.tryGetContext(key));
  const stack = new OnssTransferStack(app, STACK_NAME, {
    config,
    description: 'onss-transfer: files declarations with the social security transfer point',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

/** Entry point of the CLI's app command: builds and synthesizes. */
export function main(): void {
  buildApp().app.synth();
}

if (require.main === module) {
  main();
}
