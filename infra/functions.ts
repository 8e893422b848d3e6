/**
 * The settings both Lambda functions share: Node.js on arm64 in the private subnets, bundled
 * locally by esbuild (no Docker), with a log group of their own.
 */
import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { OPTIONAL_NATIVE_MODULES, RUNTIME_PROVIDED_MODULES } from './constants';

/** The runtime of both functions: the latest Node.js Lambda offers (cdk-nag L1 checks it). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The esbuild target matching FUNCTION_RUNTIME. */
export const BUNDLE_TARGET = 'node24';

/** Variables every function gets beside its own (the stack's size check counts them too). */
export const RUNTIME_ENVIRONMENT: Readonly<Record<string, string>> = {
  // Stack traces point into the TypeScript sources through the bundled source map.
  NODE_OPTIONS: '--enable-source-maps',
};

/** What differs between the two functions. */
export interface TransferFunctionProps {
  /** Absolute path of the TypeScript entry point (exports `handler`). */
  entry: string;
  /** The project root: holds package-lock.json and tsconfig.json. */
  projectRoot: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  /** Reserved concurrency: both the cap and the guarantee. */
  reservedConcurrentExecutions: number;
  environment: Record<string, string>;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  /** Retries of an asynchronous invocation that failed. Default: Lambda's (2). */
  retryAttempts?: number;
  /** How long an asynchronous invocation may wait (throttled) before it is dropped. */
  maxEventAge?: Duration;
}

/** A NodejsFunction with the shared settings. */
export function transferFunction(
  scope: Construct,
  id: string,
  props: TransferFunctionProps,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.SIX_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  return new nodejs.NodejsFunction(scope, id, {
    entry: props.entry,
    handler: 'handler',
    projectRoot: props.projectRoot,
    depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
    description: props.description,
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    retryAttempts: props.retryAttempts,
    maxEventAge: props.maxEventAge,
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [props.securityGroup],
    logGroup,
    environment: { ...props.environment, ...RUNTIME_ENVIRONMENT },
    bundling: {
      forceDockerBundling: false,
      minify: true,
      sourceMap: true,
      // A linked map: index.js.map beside the code, found by --enable-source-maps.
      sourceMapMode: nodejs.SourceMapMode.DEFAULT,
      // The map points at the sources without carrying them: half the size.
      sourcesContent: false,
      target: BUNDLE_TARGET,
      format: nodejs.OutputFormat.CJS,
      externalModules: [...RUNTIME_PROVIDED_MODULES, ...OPTIONAL_NATIVE_MODULES],
      // Packages' ES module builds first: esbuild tree-shakes them (pkijs, the AWS SDK), where
      // their CommonJS builds come whole. It keeps each bundle under the 2 MB budget.
      mainFields: ['module', 'main'],
    },
  });
}
