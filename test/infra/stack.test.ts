import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import {
  ENV_NAMES,
  EVENT_SOURCE,
  METRICS_NAMESPACE,
  METRIC_NAMES,
} from '../../functions/config/names';
import { LEDGER_TABLE } from '../../functions/aws/ledger-table';
import { EVENT_TYPES } from '../../shared/notify/events';
import { buildApp } from '../../infra/app';
import type { TransferApp } from '../../infra/app';
import { ContextConfigError } from '../../infra/config';
import { SERVICE_NAME } from '../../infra/constants';
import { nagAcknowledgements } from '../../infra/nag';
import { awsSolutionsFindings } from './nag-report';

// Synthesizing bundles both functions with esbuild: each app is built once per file.

/** A CloudFormation resource as the assertions library returns it. */
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const ALLOCATION_ID = 'eipalloc-0123456789abcdef0';
const SIGNING_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/signing-AbCdEf';
const SERVER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/server-XyZ123';
const BUNDLE_LIMIT_BYTES = 2 * 1024 * 1024;

/** The one resource of `type` whose logical id starts with `prefix`. */
function only(template: Template, type: string, prefix = ''): [string, Resource] {
  const found = Object.entries(template.findResources(type) as Record<string, Resource>).filter(
    ([id]) => id.startsWith(prefix),
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** The Lambda function whose logical id starts with `prefix`. */
function lambdaFunction(template: Template, prefix: 'SendFunction' | 'PullFunction') {
  return only(template, 'AWS::Lambda::Function', prefix);
}

/** Every statement of every IAM policy (inline or managed) of the template. */
function iamStatements(template: Template): Statement[] {
  const documents: unknown[] = [];
  for (const resource of Object.values(
    template.findResources('AWS::IAM::Policy') as Record<string, Resource>,
  )) {
    documents.push(resource.Properties.PolicyDocument);
  }
  for (const resource of Object.values(
    template.findResources('AWS::IAM::Role') as Record<string, Resource>,
  )) {
    for (const policy of (resource.Properties.Policies ?? []) as { PolicyDocument: unknown }[]) {
      documents.push(policy.PolicyDocument);
    }
  }
  return documents.flatMap((document) => (document as { Statement: Statement[] }).Statement);
}

/** The statements of the default policy of one function's role. */
function functionStatements(template: Template, prefix: 'SendFunction' | 'PullFunction') {
  const [, policy] = only(template, 'AWS::IAM::Policy', `${prefix}ServiceRoleDefaultPolicy`);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

const asList = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

// Each app synthesizes into a folder of its own, removed once the file is done.
const outdirs: string[] = [];
function outdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'onss-transfer-cdk-'));
  outdirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('OnssTransfer stack, default context', () => {
  let built: TransferApp;
  let assembly: CloudAssembly;
  let template: Template;

  beforeAll(() => {
    built = buildApp({ outdir: outdir() });
    assembly = built.app.synth();
    template = Template.fromStack(built.stack);
  });

  describe('functions', () => {
    it.each(['SendFunction', 'PullFunction'] as const)(
      '%s runs Node.js 22 or later on arm64 in the private subnets',
      (prefix) => {
        // Act
        const [, fn] = lambdaFunction(template, prefix);

        // Assess
        const runtime = fn.Properties.Runtime as string;
        expect(runtime).toMatch(/^nodejs\d+\.x$/);
        expect(Number(/\d+/.exec(runtime)?.[0])).toBeGreaterThanOrEqual(22);
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        const vpcConfig = fn.Properties.VpcConfig as { SubnetIds: { Ref: string }[] };
        expect(vpcConfig.SubnetIds).toHaveLength(2);
        for (const subnet of vpcConfig.SubnetIds) {
          const properties = template.toJSON().Resources[subnet.Ref].Properties;
          expect(properties.MapPublicIpOnLaunch).toBe(false);
          expect(properties.Tags).toContainEqual({
            Key: 'aws-cdk:subnet-type',
            Value: 'Private',
          });
        }
      },
    );

    it('sizes the send function for a 1.8 GB declaration and caps its concurrency', () => {
      const [, fn] = lambdaFunction(template, 'SendFunction');
      expect(fn.Properties).toMatchObject({
        MemorySize: 1769,
        Timeout: 900,
        ReservedConcurrentExecutions: 2,
      });
    });

    it('runs one pull at a time, for 10 minutes at most, never retried', () => {
      const [id, fn] = lambdaFunction(template, 'PullFunction');
      expect(fn.Properties).toMatchObject({ Timeout: 600, ReservedConcurrentExecutions: 1 });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 900,
      });
    });

    it('feeds the send function one message at a time, with partial batch failures', () => {
      const [id] = lambdaFunction(template, 'SendFunction');
      const [queueId] = only(template, 'AWS::SQS::Queue', 'SendQueue');
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: id },
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it('schedules the pull every 15 minutes', () => {
      const [id] = lambdaFunction(template, 'PullFunction');
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
      });
    });

    it.each(['SendFunction', 'PullFunction'] as const)(
      'gives %s every variable of ENV_NAMES and the Powertools settings',
      (prefix) => {
        // Act
        const [, fn] = lambdaFunction(template, prefix);
        const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> })
          .Variables;

        // Assess
        const ref = (type: string, idPrefix: string) => ({
          Ref: only(template, type, idPrefix)[0],
        });
        expect(variables).toEqual({
          [ENV_NAMES.bucket]: ref('AWS::S3::Bucket', 'Bucket'),
          [ENV_NAMES.outboxPrefix]: 'outbox/',
          [ENV_NAMES.responsesPrefix]: 'responses/',
          [ENV_NAMES.ledgerTable]: ref('AWS::DynamoDB::Table', 'Ledger'),
          [ENV_NAMES.signingSecretId]: ref('AWS::SecretsManager::Secret', 'SigningSecret'),
          [ENV_NAMES.serverSecretId]: ref('AWS::SecretsManager::Secret', 'ServerSecret'),
          [ENV_NAMES.secretTtlSeconds]: '300',
          [ENV_NAMES.sender]: '000000',
          [ENV_NAMES.host]: 'transfer-point.invalid',
          [ENV_NAMES.port]: '21',
          [ENV_NAMES.protocol]: 'ftp',
          [ENV_NAMES.signTest]: 'false',
          [ENV_NAMES.environments]: 'R,T',
          [ENV_NAMES.eventBus]: ref('AWS::Events::EventBus', 'EventBus'),
          [ENV_NAMES.topicArn]: ref('AWS::SNS::Topic', 'Topic'),
          [ENV_NAMES.overdueAckMinutes]: '60',
          [ENV_NAMES.overdueNotificationHours]: '24',
          [ENV_NAMES.overdueNotifyingApps]: 'DMFA',
          [ENV_NAMES.maxSends]: '1',
          ...(prefix === 'SendFunction'
            ? { [ENV_NAMES.sendQueueUrl]: ref('AWS::SQS::Queue', 'SendQueue') }
            : {}),
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
        });
        // Every variable but the named channels' list (a stack without `channels` has one
        // unnamed channel) and, for the pull function, the send queue it never writes to.
        const unused: string[] = [ENV_NAMES.channels];
        if (prefix === 'PullFunction') unused.push(ENV_NAMES.sendQueueUrl);
        expect(Object.values(ENV_NAMES).filter((name) => !(name in variables))).toEqual(unused);
      },
    );

    it("lets the send function alone put a busy channel's message back on the queue", () => {
      const [queueId] = only(template, 'AWS::SQS::Queue', 'SendQueue');
      const sendsTo = (prefix: 'SendFunction' | 'PullFunction') =>
        functionStatements(template, prefix).some(
          (statement) =>
            asList(statement.Action).includes('sqs:SendMessage') &&
            JSON.stringify(statement.Resource) ===
              JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
        );
      expect(sendsTo('SendFunction')).toBe(true);
      expect(sendsTo('PullFunction')).toBe(false);
    });

    it.each(['SendFunction', 'PullFunction'] as const)(
      'bundles %s under 2 MB, with its source map',
      (prefix) => {
        // Prepare: the asset folder is named after the hash in the code's S3 key
        const [, fn] = lambdaFunction(template, prefix);
        const key = (fn.Properties.Code as { S3Key: string }).S3Key;
        const folder = join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);

        // Act
        const sizes = Object.fromEntries(
          readdirSync(folder).map((file) => [file, statSync(join(folder, file)).size]),
        );

        // Assess
        expect(Object.keys(sizes).sort()).toEqual(['index.js', 'index.js.map']);
        expect(sizes['index.js']).toBeLessThan(BUNDLE_LIMIT_BYTES);
        const code = readFileSync(join(folder, 'index.js'), 'utf8');
        expect(code).toContain('sourceMappingURL=index.js.map');
      },
    );
  });

  describe('network', () => {
    it('creates one NAT gateway on an Elastic IP that outlives the stack', () => {
      // Act
      const [eipId, eip] = only(template, 'AWS::EC2::EIP');

      // Assess
      expect(eip.DeletionPolicy).toBe('Retain');
      expect(eip.UpdateReplacePolicy).toBe('Retain');
      expect(eip.Properties.Domain).toBe('vpc');
      const [, nat] = only(template, 'AWS::EC2::NatGateway');
      expect(nat.Properties.AllocationId).toEqual({ 'Fn::GetAtt': [eipId, 'AllocationId'] });
      template.hasOutput('NatPublicIp', { Value: { 'Fn::GetAtt': [eipId, 'PublicIp'] } });
    });

    it('routes the private subnets to the internet through the NAT gateway only', () => {
      // Prepare
      const [natId] = only(template, 'AWS::EC2::NatGateway');
      const routes = Object.entries(
        template.findResources('AWS::EC2::Route') as Record<string, Resource>,
      );

      // Act
      const privateRoutes = routes.filter(([id]) => id.includes('functions'));
      const publicRoutes = routes.filter(([id]) => id.includes('nat'));

      // Assess
      expect(privateRoutes).toHaveLength(2);
      for (const [, route] of privateRoutes) {
        expect(route.Properties).toEqual({
          RouteTableId: expect.anything(),
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: { Ref: natId },
        });
      }
      expect(publicRoutes.every(([, route]) => 'GatewayId' in route.Properties)).toBe(true);
    });

    it('keeps S3 and DynamoDB traffic off the NAT gateway and logs every flow', () => {
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
      template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        LogDestinationType: 'cloud-watch-logs',
      });
    });

    it('lets nothing in to the functions', () => {
      const [, group] = only(template, 'AWS::EC2::SecurityGroup');
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    });
  });

  describe('storage', () => {
    it('encrypts, versions, locks and logs the bucket, and denies plain HTTP', () => {
      // Act
      const [id, bucket] = only(template, 'AWS::S3::Bucket', 'Bucket');

      // Assess
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: expect.stringMatching(/^AccessLogs/) },
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('lets S3 deliver access logs by bucket policy, with ACLs disabled', () => {
      const [logsId, logs] = only(template, 'AWS::S3::Bucket', 'AccessLogs');
      expect(logs.Properties.AccessControl).toBeUndefined();
      expect(logs.Properties.OwnershipControls).toEqual({
        Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logsId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 's3:PutObject',
              Principal: { Service: 'logging.s3.amazonaws.com' },
            }),
          ]),
        },
      });
    });

    it('expires old responses under their prefix and noncurrent versions', () => {
      const [, bucket] = only(template, 'AWS::S3::Bucket', 'Bucket');
      expect(bucket.Properties.LifecycleConfiguration).toEqual({
        Rules: [
          {
            Id: 'expire-responses',
            Prefix: 'responses/',
            ExpirationInDays: 1830,
            Status: 'Enabled',
          },
          {
            Id: 'expire-noncurrent-versions',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            ExpiredObjectDeleteMarker: true,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Status: 'Enabled',
          },
        ],
      });
    });

    it('queues every object created under the outbox prefix', () => {
      const [queueId] = only(template, 'AWS::SQS::Queue', 'SendQueue');
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'outbox/' }] } },
              QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
            },
          ],
        },
      });
    });

    it('encrypts the queue, sends it to a dead-letter queue after 3 receives', () => {
      // Act
      const [, queue] = only(template, 'AWS::SQS::Queue', 'SendQueue');
      const [dlqId, dlq] = only(template, 'AWS::SQS::Queue', 'SendDeadLetterQueue');

      // Assess
      expect(queue.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 900);
      expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
      const sslDenied = Object.values(
        template.findResources('AWS::SQS::QueuePolicy', {
          Properties: {
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Effect: 'Deny',
                  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                }),
              ]),
            },
          },
        }),
      );
      expect(sslDenied).toHaveLength(2);
    });

    it('builds the ledger table from LEDGER_TABLE, on demand, recoverable, protected', () => {
      // Act
      const [, table] = only(template, 'AWS::DynamoDB::Table');

      // Assess
      expect(table.DeletionPolicy).toBe('Retain');
      const [index] = LEDGER_TABLE.indexes;
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: LEDGER_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: LEDGER_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
      expect(table.Properties.AttributeDefinitions).toHaveLength(4);
    });

    it('creates both secrets with a placeholder, never a generated value, and keeps them', () => {
      const secrets = Object.values(
        template.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>,
      );
      expect(secrets).toHaveLength(2);
      for (const secret of secrets) {
        expect(secret.DeletionPolicy).toBe('Retain');
        expect(secret.Properties.GenerateSecretString).toBeUndefined();
        expect(JSON.parse(secret.Properties.SecretString as string)).toEqual({
          placeholder: expect.stringContaining('onss-transfer import-key'),
        });
      }
    });
  });

  describe('notifications', () => {
    it('encrypts the topic with a rotated key CloudWatch may use, and requires TLS', () => {
      // Act
      const [keyId, key] = only(template, 'AWS::KMS::Key');

      // Assess
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('archives the events of EVENT_SOURCE, one detail type per EVENT_TYPES entry', () => {
      template.hasResourceProperties('AWS::Events::Archive', {
        EventPattern: {
          source: [EVENT_SOURCE],
          'detail-type': Object.values(EVENT_TYPES),
        },
      });
    });
  });

  describe('monitoring', () => {
    it('raises eight alarms, each to the topic on alarm and back to OK', () => {
      // Prepare
      const [topicId] = only(template, 'AWS::SNS::Topic');
      const alarms = Object.values(
        template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>,
      );

      // Assess
      expect(alarms).toHaveLength(8);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
      }
    });

    it('alarms when the dead-letter queue holds a message', () => {
      const [dlqId] = only(template, 'AWS::SQS::Queue', 'SendDeadLetterQueue');
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
    });

    it.each(['SendFunction', 'PullFunction'] as const)('alarms on errors of %s', (prefix) => {
      const [id] = lambdaFunction(template, prefix);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
        Threshold: 1,
      });
    });

    it('alarms when no pull succeeded for an hour, silence included', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_NAMES.pullSuccess,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 3600,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
    });

    it('alarms when a declaration became overdue in the last pull period', () => {
      const [, alarm] = only(template, 'AWS::CloudWatch::Alarm', 'MonitoringDeclarationsOverdue');
      expect(alarm.Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_NAMES.overdue,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 15 * 60,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(METRIC_NAMES.overdue).toBe('OverdueDeclarations');
    });

    it('alarms when the certificate has less than 30 days left', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_NAMES.certificateDaysLeft,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Minimum',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 30,
      });
    });

    it('alarms when the server credentials are older than a year', () => {
      const [, alarm] = only(
        template,
        'AWS::CloudWatch::Alarm',
        'MonitoringServerCredentialTooOld',
      );
      expect(alarm.Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_NAMES.serverCredentialAgeDays,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 365,
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when the server shows another host key or certificate', () => {
      const [, alarm] = only(template, 'AWS::CloudWatch::Alarm', 'MonitoringServerIdentityChanged');
      expect(alarm.Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_NAMES.serverIdentityChanged,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: 15 * 60,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    });

    it('keeps the logical ids of the alarms a single-channel stack always had', () => {
      const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
      for (const id of [
        'MonitoringDeadLetterQueueNotEmpty',
        'MonitoringSendFunctionErrors',
        'MonitoringPullFunctionErrors',
        'MonitoringNoPullSuccess',
        'MonitoringCertificateExpiring',
        'MonitoringDeclarationsOverdue',
      ]) {
        expect(ids.filter((candidate) => candidate.startsWith(id))).toHaveLength(1);
      }
    });

    it('draws a dashboard of sends, bytes, answers, queue depth and certificate days', () => {
      // Act
      const [, dashboard] = only(template, 'AWS::CloudWatch::Dashboard');
      const body = JSON.stringify(dashboard.Properties.DashboardBody);

      // Assess
      for (const name of [
        METRIC_NAMES.declarationsSent,
        METRIC_NAMES.bytesSent,
        METRIC_NAMES.answers,
        METRIC_NAMES.certificateDaysLeft,
        METRIC_NAMES.overdue,
        METRIC_NAMES.serverCredentialAgeDays,
        METRIC_NAMES.serverIdentityChanged,
        METRIC_NAMES.sendsDeferred,
        METRIC_NAMES.pullSuccess,
        'ApproximateNumberOfMessagesVisible',
      ]) {
        expect(body).toContain(name);
      }
      // The answers' search names the dimensions the pull function puts them with (service
      // and result): a schema of the namespace alone would only match metrics without any.
      expect(body).toContain("SEARCH('{OnssTransfer,result,service} MetricName=");
    });
  });

  describe('permissions', () => {
    it('grants no IAM action on every resource', () => {
      // AWS requires `*` for no action the functions or CDK's helpers use here.
      const wildcards = iamStatements(template).filter(
        (statement) => statement.Resource === '*' || asList(statement.Action).includes('*'),
      );
      expect(wildcards).toEqual([]);
    });

    it('lets the send function read the outbox only, and the pull function the responses', () => {
      // Prepare
      const [bucketId] = only(template, 'AWS::S3::Bucket', 'Bucket');
      const under = (prefix: string) => ({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}*`]],
      });
      const s3Resources = (prefix: 'SendFunction' | 'PullFunction') =>
        functionStatements(template, prefix)
          .filter((statement) => asList(statement.Action).some((a) => a.startsWith('s3:')))
          .map((statement) => ({
            actions: asList(statement.Action),
            resource: statement.Resource,
          }));

      // Act
      const send = s3Resources('SendFunction');
      const pull = s3Resources('PullFunction');

      // Assess
      expect(send).toEqual([
        {
          actions: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
          resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, under('outbox/')],
        },
      ]);
      expect(pull).toEqual([
        {
          actions: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
          resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, under('responses/')],
        },
        {
          actions: expect.arrayContaining(['s3:PutObject']),
          resource: under('responses/'),
        },
      ]);
      expect(pull[1]?.actions).not.toContain('s3:DeleteObject');
    });

    it.each(['SendFunction', 'PullFunction'] as const)(
      'lets %s use the ledger, topic, bus and both secrets',
      (prefix) => {
        const actions = functionStatements(template, prefix).flatMap((s) => asList(s.Action));
        expect(actions).toEqual(
          expect.arrayContaining([
            'dynamodb:PutItem',
            'dynamodb:Query',
            'sns:Publish',
            'events:PutEvents',
            'secretsmanager:GetSecretValue',
          ]),
        );
      },
    );
  });

  describe('outputs', () => {
    it('publishes what an operator needs', () => {
      const outputs = Object.keys(template.findOutputs('*'));
      expect(outputs).toEqual(
        expect.arrayContaining([
          'NatPublicIp',
          'NatEipAllocationId',
          'BucketName',
          'SendQueueUrl',
          'LedgerTableName',
          'TopicArn',
          'EventBusName',
          'SigningSecretArn',
          'ServerSecretArn',
        ]),
      );
    });
  });

  describe('cdk-nag', () => {
    it('leaves no AwsSolutions finding unacknowledged, error or warning', () => {
      expect(awsSolutionsFindings(assembly.directory)).toEqual([]);
      const annotations = Annotations.fromStack(built.stack);
      expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    });

    it('warns only that the sender and host are placeholders', () => {
      const annotations = Annotations.fromStack(built.stack);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      const warnings = annotations
        .findWarning('*', Match.anyValue())
        .map((warning) => String(warning.entry.data));
      expect(warnings).toEqual([
        expect.stringContaining('Context "sender" is a placeholder'),
        expect.stringContaining('Context "host" is a placeholder'),
      ]);
    });

    it('gives every acknowledgement a specific reason', () => {
      const acknowledgements = nagAcknowledgements(built.stack);
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const { id, reason } of acknowledgements) {
        expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
        expect(reason.length).toBeGreaterThan(60);
      }
      const ids = acknowledgements.map(({ scope, id }) => `${scope.node.path} ${id}`);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('fails the synth of an app with an unacknowledged finding', () => {
      // Prepare: the same app, plus a queue that breaks three AwsSolutions rules
      const { app, stack } = buildApp({ outdir: outdir() });
      new sqs.Queue(stack, 'Unchecked', {
        encryption: sqs.QueueEncryption.UNENCRYPTED,
      });

      // Act / Assess
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS[234]/);
    });
  });
});

describe('OnssTransfer stack, existing Elastic IP and secrets', () => {
  let template: Template;

  beforeAll(() => {
    const { stack } = buildApp({
      outdir: outdir(),
      context: {
        sender: '123456',
        host: 'transfer.example.be',
        port: '2121',
        environments: 'T',
        pullRateMinutes: '5',
        eipAllocationId: ALLOCATION_ID,
        signingSecretArn: SIGNING_ARN,
        serverSecretArn: SERVER_ARN,
        outboxPrefix: 'to-send/',
        responsesPrefix: 'answers/',
        responseRetentionDays: '400',
        alarmEmail: 'ops@example.be',
        overdueAckMinutes: '90',
        overdueNotificationHours: 48,
        overdueNotifyingApps: 'DMFA, DMPP',
      },
    });
    template = Template.fromStack(stack);
  });

  it('puts the NAT gateway on the given allocation and creates no Elastic IP', () => {
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.hasResourceProperties('AWS::EC2::NatGateway', { AllocationId: ALLOCATION_ID });
    template.hasOutput('NatEipAllocationId', { Value: ALLOCATION_ID });
    expect(Object.keys(template.findOutputs('NatPublicIp'))).toEqual([]);
  });

  it('uses the given secrets, creating none, and grants reading them by ARN', () => {
    // Act
    const statements = functionStatements(template, 'SendFunction');

    // Assess
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const [, fn] = lambdaFunction(template, 'SendFunction');
    expect(fn.Properties.Environment).toMatchObject({
      Variables: {
        [ENV_NAMES.signingSecretId]: SIGNING_ARN,
        [ENV_NAMES.serverSecretId]: SERVER_ARN,
      },
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: expect.arrayContaining([SIGNING_ARN, SERVER_ARN]),
      }),
    );
  });

  it('passes the context to the functions, the schedule, the bucket and the topic', () => {
    // Act
    const [, fn] = lambdaFunction(template, 'PullFunction');

    // Assess
    expect(fn.Properties.Environment).toMatchObject({
      Variables: {
        [ENV_NAMES.sender]: '123456',
        [ENV_NAMES.host]: 'transfer.example.be',
        [ENV_NAMES.port]: '2121',
        [ENV_NAMES.environments]: 'T',
        [ENV_NAMES.outboxPrefix]: 'to-send/',
        [ENV_NAMES.responsesPrefix]: 'answers/',
        [ENV_NAMES.overdueAckMinutes]: '90',
        [ENV_NAMES.overdueNotificationHours]: '48',
        [ENV_NAMES.overdueNotifyingApps]: 'DMFA,DMPP',
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC_NAMES.overdue,
      Period: 5 * 60,
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'answers/', ExpirationInDays: 400 })]),
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          Match.objectLike({
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'to-send/' }] } },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.be',
    });
  });
});

describe('OnssTransfer stack, slowest pull rate', () => {
  it("caps the event age at Lambda's 6 hours and widens the pull alarm to two periods", () => {
    // Act
    const { stack } = buildApp({ outdir: outdir(), context: { pullRateMinutes: 720 } });
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(12 hours)',
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumEventAgeInSeconds: 6 * 3600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC_NAMES.pullSuccess,
      Period: 24 * 3600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC_NAMES.overdue,
      Period: 12 * 3600,
    });
  });
});

describe('buildApp', () => {
  it('refuses an invalid context before building anything', () => {
    expect(() =>
      buildApp({ outdir: outdir(), context: { sender: '12', pullRateMinutes: 'often' } }),
    ).toThrow(ContextConfigError);
  });
});
