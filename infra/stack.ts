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
import {
  ANSWER_TRUST_ENV_NAMES,
  ENV_NAMES,
  EVENT_SOURCE,
  METRICS_NAMESPACE,
} from '../functions/config/names';
import { LEDGER_TABLE } from '../functions/aws/ledger-table';
import { EVENT_TYPES } from '../shared/notify/events';
import type { TransferConfig } from './config';
import { SECRET_PLACEHOLDER, SECRET_TTL_SECONDS, SERVICE_NAME } from './constants';
import { transferFunction } from './functions';
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
/** Sends at once at most: the transfer point is not to be flooded. */
export const SEND_CONCURRENCY = 2;
/** Pulls at once at most: two pulls of the same folders would race. */
export const PULL_CONCURRENCY = 1;
/** Receives of a message before it goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;
/** Days noncurrent object versions are kept before the lifecycle deletes them. */
export const NONCURRENT_VERSION_DAYS = 30;

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
  readonly signingSecret: secretsmanager.ISecret;
  readonly serverSecret: secretsmanager.ISecret;
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

    this.signingSecret = this.secret(
      'SigningSecret',
      config.signingSecretArn,
      'onss-transfer: signing material (certificate and private key), set by import-key',
    );
    this.serverSecret = this.secret(
      'ServerSecret',
      config.serverSecretArn,
      'onss-transfer: transfer point credentials',
    );

    const environment: Record<string, string> = {
      [ENV_NAMES.bucket]: this.bucket.bucketName,
      [ENV_NAMES.outboxPrefix]: config.outboxPrefix,
      [ENV_NAMES.responsesPrefix]: config.responsesPrefix,
      [ENV_NAMES.ledgerTable]: this.table.tableName,
      [ENV_NAMES.signingSecretId]: this.signingSecret.secretArn,
      [ENV_NAMES.serverSecretId]: this.serverSecret.secretArn,
      [ENV_NAMES.secretTtlSeconds]: String(SECRET_TTL_SECONDS),
      [ENV_NAMES.sender]: config.sender,
      [ENV_NAMES.host]: config.host,
      [ENV_NAMES.port]: String(config.port),
      [ENV_NAMES.protocol]: config.protocol,
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
    const shared = {
      projectRoot,
      environment,
      vpc: this.network.vpc,
      securityGroup: this.network.functionSecurityGroup,
    };

    this.sendFunction = transferFunction(this, 'SendFunction', {
      ...shared,
      entry: join(projectRoot, FUNCTION_ENTRIES.send),
      description: 'onss-transfer: signs and sends one declaration of the outbox',
      memorySize: SEND_MEMORY_MB,
      timeout: SEND_TIMEOUT,
      reservedConcurrentExecutions: SEND_CONCURRENCY,
    });
    this.sendFunction.addEventSource(
      new eventsources.SqsEventSource(this.sendQueue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // Polls no faster than the reserved concurrency: no throttled receive counts as a try.
        maxConcurrency: SEND_CONCURRENCY,
      }),
    );

    this.pullFunction = transferFunction(this, 'PullFunction', {
      ...shared,
      entry: join(projectRoot, FUNCTION_ENTRIES.pull),
      description: 'onss-transfer: pulls and files the answers of the transfer point',
      memorySize: PULL_MEMORY_MB,
      timeout: PULL_TIMEOUT,
      reservedConcurrentExecutions: PULL_CONCURRENCY,
      // The next tick is the retry; a throttled tick waits no longer than one period (and
      // Lambda keeps an event 6 hours at most).
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.min(config.pullRateMinutes, 360)),
    });
    this.trustAnswers(config);
    new events.Rule(this, 'PullSchedule', {
      description: `onss-transfer: pull every ${config.pullRateMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(config.pullRateMinutes)),
      targets: [new targets.LambdaFunction(this.pullFunction, { retryAttempts: 0 })],
    });

    // Least privilege, through grants only.
    this.bucket.grantRead(this.sendFunction, `${config.outboxPrefix}*`);
    this.bucket.grantRead(this.pullFunction, `${config.responsesPrefix}*`);
    this.bucket.grantPut(this.pullFunction, `${config.responsesPrefix}*`);
    for (const fn of [this.sendFunction, this.pullFunction]) {
      this.table.grantReadWriteData(fn);
      this.topic.grantPublish(fn);
      this.eventBus.grantPutEventsTo(fn);
      this.signingSecret.grantRead(fn);
      this.serverSecret.grantRead(fn);
    }

    this.monitoring = new TransferMonitoring(this, 'Monitoring', {
      topic: this.topic,
      sendFunction: this.sendFunction,
      pullFunction: this.pullFunction,
      sendQueue: this.sendQueue,
      deadLetterQueue: this.deadLetterQueue,
      pullRateMinutes: config.pullRateMinutes,
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
    new CfnOutput(this, 'SigningSecretArn', { value: this.signingSecret.secretArn });
    new CfnOutput(this, 'ServerSecretArn', { value: this.serverSecret.secretArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    suppressFindings(this);
  }

  /** An existing secret (complete ARN) or a new one holding a placeholder, retained. */
  /**
   * Whose signatures the answers must carry, for the pull function alone and only when given:
   * the pinned fingerprints in its environment, and the CA bundle's secret (one of the user's,
   * never created here) named there and readable by it.
   */
  private trustAnswers(config: TransferConfig): void {
    if (config.answerFingerprints.length > 0) {
      this.pullFunction.addEnvironment(
        ANSWER_TRUST_ENV_NAMES.fingerprints,
        config.answerFingerprints.join(','),
      );
    }
    if (config.answerCaSecretArn !== undefined) {
      const bundle = secretsmanager.Secret.fromSecretCompleteArn(
        this,
        'AnswerCaSecret',
        config.answerCaSecretArn,
      );
      bundle.grantRead(this.pullFunction);
      this.pullFunction.addEnvironment(ANSWER_TRUST_ENV_NAMES.caSecretId, bundle.secretArn);
    }
  }

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
