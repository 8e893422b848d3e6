/**
 * The onss-transfer stack: a declaration written under the outbox prefix of the bucket is
 * queued and sent by the send function through the NAT gateway's fixed address; on a schedule
 * the pull function collects the answers into the bucket, the DynamoDB ledger, EventBridge
 * and SNS. See infra/README.md for the picture and the runbook.
 */
import { join } from 'node:path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventsources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { channelEntryProblems, type ChannelEntry } from '../functions/config/channels';
import {
  ANSWER_TRUST_ENV_NAMES,
  ENV_NAMES,
  EVENT_SOURCE,
  METRICS_NAMESPACE,
} from '../functions/config/names';
import { LEDGER_TABLE } from '../functions/aws/ledger-table';
import { EVENT_TYPES } from '../shared/notify/events';
import { CONTEXT_KEYS, ContextConfigError, channelIdPart } from './config';
import type { ChannelContext, TransferConfig } from './config';
import { SECRET_PLACEHOLDER, SECRET_TTL_SECONDS, SERVICE_NAME } from './constants';
import { environmentProblems } from './environment';
import { RUNTIME_ENVIRONMENT, transferFunction } from './functions';
import { TransferMonitoring } from './monitoring';
import { suppressFindings } from './nag';
import { TransferNetwork } from './network';
import { FUNCTION_ENTRIES, findProjectRoot } from './paths';

/** Timeout of the send function: the Lambda maximum, for a 1.8 GB declaration. */
export const SEND_TIMEOUT = Duration.minutes(15);
/** Timeout of the pull function. */
export const PULL_TIMEOUT = Duration.minutes(10);
/** Memory of the send function: 1769 MB is one full vCPU, for streaming, hashing and TLS. */
export const SEND_MEMORY_MB = 1769;
/** Memory of the pull function: answers are small XML files. */
export const PULL_MEMORY_MB = 1024;
/**
 * Sends at once, at least: the SQS event source's maxConcurrency cannot be under 2. Above it,
 * the sum of the channels' maxSends (see sendConcurrency).
 */
export const SEND_CONCURRENCY = 2;
/**
 * Pulls at once of a stack without `channels`: two pulls of the same folders would race. With
 * channels, one per channel (see pullConcurrency).
 */
export const PULL_CONCURRENCY = 1;
/** Receives of a message before it goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;
/** Days noncurrent object versions are kept before the lifecycle deletes them. */
export const NONCURRENT_VERSION_DAYS = 30;

/**
 * The send function's reserved concurrency and its event source's maxConcurrency: the sum of
 * the channels' send slots (maxSends), so that every channel can fill all of its slots at the
 * same time and no channel's send waits for an invocation busy with another's; never under
 * SEND_CONCURRENCY (the event source's minimum, and today's value for one channel). More would
 * only start invocations that find their channel's slots taken and put their message back.
 */
export function sendConcurrency(config: TransferConfig): number {
  const slots =
    config.channels === undefined
      ? config.maxSends
      : config.channels.reduce((sum, channel) => sum + channel.maxSends, 0);
  return Math.max(SEND_CONCURRENCY, slots);
}

/**
 * The pull function's reserved concurrency: one per channel, so that the channels' scheduled
 * pulls run side by side and a slow or failing channel never holds another's run; one without
 * `channels`.
 */
export function pullConcurrency(config: TransferConfig): number {
  return config.channels?.length ?? PULL_CONCURRENCY;
}

/** One channel's secrets, created by the stack or imported by ARN. */
export interface ChannelResources {
  /** The channel's name; undefined for the one unnamed channel of a stack without channels. */
  name?: string;
  signingSecret: secretsmanager.ISecret;
  serverSecret: secretsmanager.ISecret;
  /** The secret of the answers' CA bundle, when the channel names one (never created here). */
  answerCaSecret?: secretsmanager.ISecret;
}

/** Props of OnssTransferStack. */
export interface OnssTransferStackProps extends StackProps {
  /** The validated deployment settings (see ./config). */
  config: TransferConfig;
  /** The project root; default: found from this file (package-lock.json). */
  projectRoot?: string;
}

/** Every resource of the pipeline, with its outputs. */
export class OnssTransferStack extends Stack {
  /** The settings the stack was built from. */
  readonly config: TransferConfig;
  readonly network: TransferNetwork;
  readonly bucket: s3.Bucket;
  readonly sendQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly table: dynamodb.Table;
  readonly topic: sns.Topic;
  readonly eventBus: events.EventBus;
  /**
   * The channels' secrets: one unnamed channel without `channels` (the `SigningSecret` and
   * `ServerSecret` of a single-channel stack), else one per channel, in the order given.
   */
  readonly channels: readonly ChannelResources[];
  readonly sendFunction: lambda.Function;
  readonly pullFunction: lambda.Function;
  readonly monitoring: TransferMonitoring;

  constructor(scope: Construct, id: string, props: OnssTransferStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const projectRoot = props.projectRoot ?? findProjectRoot();
    for (const key of config.placeholders) {
      Annotations.of(this).addWarningV2(
        'onss-transfer:placeholder',
        `Context "${key}" is a placeholder: pass -c ${key}=... before deploying (infra/README.md).`,
      );
    }

    this.network = new TransferNetwork(this, 'Network', {
      eipAllocationId: config.eipAllocationId,
    });

    // Storage: one bucket; the outbox prefix feeds the queue, the responses prefix expires.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-responses',
          prefix: config.responsesPrefix,
          expiration: Duration.days(config.responseRetentionDays),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    this.deadLetterQueue = new sqs.Queue(this, 'SendDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.sendQueue = new sqs.Queue(this, 'SendQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for SQS -> Lambda: six times the function timeout.
      visibilityTimeout: Duration.minutes(SEND_TIMEOUT.toMinutes() * 6),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    this.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.SqsDestination(this.sendQueue),
      { prefix: config.outboxPrefix },
    );

    this.table = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of LEDGER_TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Notifications: SNS for people (and alarms), EventBridge for programs.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'onss-transfer: encrypts the notification topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic only if the key lets them.
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'ONSS transfer',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (config.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    this.eventBus = new events.EventBus(this, 'EventBus', {
      description: 'onss-transfer: one event per declaration state change or problem',
    });
    this.eventBus.archive('EventArchive', {
      description: 'onss-transfer events, for replay and audit',
      eventPattern: { source: [EVENT_SOURCE], detailType: Object.values(EVENT_TYPES) },
      retention: Duration.days(365),
    });

    this.channels =
      config.channels === undefined
        ? [this.singleChannel(config)]
        : config.channels.map((channel) => this.namedChannel(channel));

    const environment: Record<string, string> = {
      [ENV_NAMES.bucket]: this.bucket.bucketName,
      [ENV_NAMES.outboxPrefix]: config.outboxPrefix,
      [ENV_NAMES.responsesPrefix]: config.responsesPrefix,
      [ENV_NAMES.ledgerTable]: this.table.tableName,
      [ENV_NAMES.secretTtlSeconds]: String(SECRET_TTL_SECONDS),
      [ENV_NAMES.environments]: config.environments.join(','),
      [ENV_NAMES.eventBus]: this.eventBus.eventBusName,
      [ENV_NAMES.topicArn]: this.topic.topicArn,
      [ENV_NAMES.signTest]: String(config.signTest),
      // The watchdog's waits (the pull function's), written out even at their defaults so that
      // the deployed values can be read on the function.
      [ENV_NAMES.overdueAckMinutes]: String(config.overdue.acknowledgementMinutes),
      [ENV_NAMES.overdueNotificationHours]: String(config.overdue.notificationHours),
      [ENV_NAMES.overdueNotifyingApps]: config.overdue.notifyingApplications.join(','),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    // What the size check measures: ONSS_CHANNELS as text, its created ARNs as tokens in it.
    const measured: Record<string, string> = { ...RUNTIME_ENVIRONMENT };
    const pullOnly: Record<string, string> = {};
    const [single] = this.channels;
    if (config.channels === undefined && single !== undefined) {
      Object.assign(environment, {
        [ENV_NAMES.signingSecretId]: single.signingSecret.secretArn,
        [ENV_NAMES.serverSecretId]: single.serverSecret.secretArn,
        [ENV_NAMES.sender]: config.sender,
        [ENV_NAMES.host]: config.host,
        [ENV_NAMES.port]: String(config.port),
        [ENV_NAMES.protocol]: config.protocol,
        [ENV_NAMES.maxSends]: String(config.maxSends),
      });
      // Whose signatures the answers must carry: the pull function's alone, each only when given.
      if (config.answerFingerprints.length > 0) {
        pullOnly[ANSWER_TRUST_ENV_NAMES.fingerprints] = config.answerFingerprints.join(',');
      }
      if (single.answerCaSecret !== undefined) {
        pullOnly[ANSWER_TRUST_ENV_NAMES.caSecretId] = single.answerCaSecret.secretArn;
      }
    } else if (config.channels !== undefined) {
      const entries = this.channelEntries(config.channels);
      // The ARNs of the secrets created here are tokens: toJsonString renders them in the
      // template (an Fn::Join), where JSON.stringify would write the token's placeholder text.
      environment[ENV_NAMES.channels] = this.toJsonString(entries);
      measured[ENV_NAMES.channels] = JSON.stringify(entries);
    }
    const sendOnly: Record<string, string> = {
      // A message whose channel has no free send slot goes back to the queue, delayed.
      [ENV_NAMES.sendQueueUrl]: this.sendQueue.queueUrl,
    };
    const sizeKey = config.channels === undefined ? 'context' : CONTEXT_KEYS.channels;
    const tooLarge = [
      ...environmentProblems(sizeKey, 'send', { ...environment, ...sendOnly, ...measured }),
      ...environmentProblems(sizeKey, 'pull', { ...environment, ...pullOnly, ...measured }),
    ];
    if (tooLarge.length > 0) throw new ContextConfigError(tooLarge);

    const shared = {
      projectRoot,
      vpc: this.network.vpc,
      securityGroup: this.network.functionSecurityGroup,
    };

    const sends = sendConcurrency(config);
    this.sendFunction = transferFunction(this, 'SendFunction', {
      ...shared,
      environment: { ...environment, ...sendOnly },
      entry: join(projectRoot, FUNCTION_ENTRIES.send),
      description: 'onss-transfer: signs and sends one declaration of the outbox',
      memorySize: SEND_MEMORY_MB,
      timeout: SEND_TIMEOUT,
      reservedConcurrentExecutions: sends,
    });
    this.sendFunction.addEventSource(
      new eventsources.SqsEventSource(this.sendQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // Polls no faster than the reserved concurrency: no throttled receive counts as a try.
        maxConcurrency: sends,
      }),
    );

    this.pullFunction = transferFunction(this, 'PullFunction', {
      ...shared,
      environment: { ...environment, ...pullOnly },
      entry: join(projectRoot, FUNCTION_ENTRIES.pull),
      description: 'onss-transfer: pulls and files the answers of the transfer point',
      memorySize: PULL_MEMORY_MB,
      timeout: PULL_TIMEOUT,
      reservedConcurrentExecutions: pullConcurrency(config),
      // The next tick is the retry; a throttled tick waits no longer than one period (and
      // Lambda keeps an event 6 hours at most).
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.min(config.pullRateMinutes, 360)),
    });
    const schedule = events.Schedule.rate(Duration.minutes(config.pullRateMinutes));
    if (config.channels === undefined) {
      new events.Rule(this, 'PullSchedule', {
        description: `onss-transfer: pull every ${config.pullRateMinutes} minutes`,
        schedule,
        targets: [new targets.LambdaFunction(this.pullFunction, { retryAttempts: 0 })],
      });
    } else {
      // One rule per channel, each invoking the pull for its channel alone: a channel whose
      // server fails never stops another's run, and each run has its own lease and metrics.
      for (const channel of config.channels) {
        new events.Rule(this, `Channel${channelIdPart(channel.name)}PullSchedule`, {
          description:
            `onss-transfer: pull channel ${channel.name} every ${config.pullRateMinutes} ` +
            'minutes',
          schedule,
          targets: [
            new targets.LambdaFunction(this.pullFunction, {
              retryAttempts: 0,
              event: events.RuleTargetInput.fromObject({ channel: channel.name }),
            }),
          ],
        });
      }
    }

    // Least privilege, through grants only.
    this.bucket.grantRead(this.sendFunction, `${config.outboxPrefix}*`);
    this.bucket.grantRead(this.pullFunction, `${config.responsesPrefix}*`);
    this.bucket.grantPut(this.pullFunction, `${config.responsesPrefix}*`);
    for (const fn of [this.sendFunction, this.pullFunction]) {
      this.table.grantReadWriteData(fn);
      this.topic.grantPublish(fn);
      this.eventBus.grantPutEventsTo(fn);
      // grantRead includes DescribeSecret: the pull function reads the server secret's
      // rotation date with it (ServerCredentialAgeDays).
      for (const channel of this.channels) {
        channel.signingSecret.grantRead(fn);
        channel.serverSecret.grantRead(fn);
      }
    }
    for (const channel of this.channels) channel.answerCaSecret?.grantRead(this.pullFunction);
    this.sendQueue.grantSendMessages(this.sendFunction);

    this.monitoring = new TransferMonitoring(this, 'Monitoring', {
      topic: this.topic,
      sendFunction: this.sendFunction,
      pullFunction: this.pullFunction,
      sendQueue: this.sendQueue,
      deadLetterQueue: this.deadLetterQueue,
      pullRateMinutes: config.pullRateMinutes,
      credentialMaxAgeDays: config.credentialMaxAgeDays,
      ...(config.channels === undefined
        ? {}
        : { channels: config.channels.map((channel) => channel.name) }),
    });

    if (this.network.eip === undefined) {
      new CfnOutput(this, 'NatEipAllocationId', {
        description: 'Allocation id of the given Elastic IP of the NAT gateway',
        value: this.network.eipAllocationId,
      });
    } else {
      new CfnOutput(this, 'NatPublicIp', {
        description: 'The address the transfer point sees (retained on stack deletion)',
        value: this.network.eip.attrPublicIp,
      });
      new CfnOutput(this, 'NatEipAllocationId', {
        description: 'Pass as -c eipAllocationId=... to keep this address in a new stack',
        value: this.network.eip.attrAllocationId,
      });
    }
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'SendQueueUrl', { value: this.sendQueue.queueUrl });
    new CfnOutput(this, 'LedgerTableName', { value: this.table.tableName });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    for (const channel of this.channels) {
      if (channel.name === undefined) {
        new CfnOutput(this, 'SigningSecretArn', { value: channel.signingSecret.secretArn });
        new CfnOutput(this, 'ServerSecretArn', { value: channel.serverSecret.secretArn });
        continue;
      }
      const part = channelIdPart(channel.name);
      new CfnOutput(this, `Channel${part}SigningSecretArn`, {
        description: `Signing material of channel ${channel.name} (onss-transfer import-key)`,
        value: channel.signingSecret.secretArn,
      });
      new CfnOutput(this, `Channel${part}ServerSecretArn`, {
        description: `Transfer point credentials of channel ${channel.name}`,
        value: channel.serverSecret.secretArn,
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    suppressFindings(this);
  }

  /** The secrets of the one unnamed channel, under the ids a single-channel stack always had. */
  private singleChannel(config: TransferConfig): ChannelResources {
    return {
      signingSecret: this.secret(
        'SigningSecret',
        config.signingSecretArn,
        'onss-transfer: signing material (certificate and private key), set by import-key',
      ),
      serverSecret: this.secret(
        'ServerSecret',
        config.serverSecretArn,
        'onss-transfer: transfer point credentials',
      ),
      ...(config.answerCaSecretArn === undefined
        ? {}
        : {
            answerCaSecret: secretsmanager.Secret.fromSecretCompleteArn(
              this,
              'AnswerCaSecret',
              config.answerCaSecretArn,
            ),
          }),
    };
  }

  /** The secrets of one named channel, each id prefixed with `Channel<Name>`. */
  private namedChannel(channel: ChannelContext): ChannelResources {
    const id = `Channel${channelIdPart(channel.name)}`;
    return {
      name: channel.name,
      signingSecret: this.secret(
        `${id}SigningSecret`,
        channel.signingSecretArn,
        `onss-transfer: signing material of channel ${channel.name} (certificate and private ` +
          'key), set by import-key',
      ),
      serverSecret: this.secret(
        `${id}ServerSecret`,
        channel.serverSecretArn,
        `onss-transfer: transfer point credentials of channel ${channel.name}`,
      ),
      ...(channel.answerCaSecretArn === undefined
        ? {}
        : {
            answerCaSecret: secretsmanager.Secret.fromSecretCompleteArn(
              this,
              `${id}AnswerCaSecret`,
              channel.answerCaSecretArn,
            ),
          }),
    };
  }

  /**
   * The entries of ONSS_CHANNELS, checked with the functions' own check (channelEntryProblems)
   * so that a list the stack writes is one the functions accept at their cold start.
   */
  private channelEntries(channels: readonly ChannelContext[]): ChannelEntry[] {
    const entries = channels.map((channel, index): ChannelEntry => {
      const resources = this.channels[index];
      if (resources === undefined) throw new Error(`no resources for channel ${channel.name}`);
      return {
        name: channel.name,
        sender: channel.sender,
        host: channel.host,
        port: channel.port,
        protocol: channel.protocol,
        serverSecretId: resources.serverSecret.secretArn,
        signingSecretId: resources.signingSecret.secretArn,
        ...(channel.answerFingerprints.length === 0
          ? {}
          : { answerFingerprints: [...channel.answerFingerprints] }),
        ...(resources.answerCaSecret === undefined
          ? {}
          : { answerCaSecretId: resources.answerCaSecret.secretArn }),
        maxSends: channel.maxSends,
      };
    });
    const problems = channelEntryProblems(entries, ENV_NAMES.channels);
    if (problems.length > 0) throw new ContextConfigError(problems);
    return entries;
  }

  /** An existing secret (complete ARN) or a new one holding a placeholder, retained. */
  private secret(
    id: string,
    existingArn: string | undefined,
    description: string,
  ): secretsmanager.ISecret {
    if (existingArn !== undefined) {
      return secretsmanager.Secret.fromSecretCompleteArn(this, id, existingArn);
    }
    // Not generateSecretString: the value is a certificate or credentials issued elsewhere,
    // written by import-key. The placeholder is set once, at creation; deploys keep the value.
    return new secretsmanager.Secret(this, id, {
      description,
      secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
