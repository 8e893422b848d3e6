import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { type ChannelEntry } from '../../functions/config/channels';
import {
  ANSWER_TRUST_ENV_NAMES,
  CHANNEL_DIMENSION,
  ENV_NAMES,
  METRICS_NAMESPACE,
  METRIC_NAMES,
} from '../../functions/config/names';
import { buildApp, type TransferApp } from '../../infra/app';
import { ContextConfigError } from '../../infra/config';
import { SERVICE_NAME } from '../../infra/constants';
import { CHANNEL_ALARM_KINDS } from '../../infra/monitoring';
import { nagAcknowledgements } from '../../infra/nag';
import { awsSolutionsFindings } from './nag-report';

// A stack of named channels: one schedule, secret pair, alarm set and ONSS_CHANNELS entry per
// channel. The functions' bundles are the same as in a single-channel stack (stack.test.ts
// builds and measures them), so these apps skip bundling: `aws:cdk:bundling-stacks` empty.

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const arn = (name: string): string =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/${name}-AbC123`;
const PIN = 'ab'.repeat(32);
const PIN_NORMALISED = PIN.toUpperCase().match(/../g)?.join(':') ?? '';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** Three channels: one with every secret created, one with some, one with none. */
const CHANNELS = [
  { name: 'east', sender: '123456', host: 'tp.example.be', protocol: 'ftps', maxSends: 2 },
  {
    name: 'west-2',
    sender: '654321',
    host: 'tp.example.be',
    protocol: 'sftp',
    serverSecretArn: arn('west-server'),
    answerFingerprints: [PIN],
    answerCaSecretArn: arn('answer-ca'),
  },
  {
    name: 'north',
    sender: '111111',
    host: '192.0.2.10',
    port: 2121,
    signingSecretArn: arn('north-signing'),
    serverSecretArn: arn('north-server'),
    maxSends: 3,
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function outdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'onss-transfer-cdk-'));
  dirs.push(dir);
  return dir;
}

/** The resources of `type` whose logical id starts with `prefix`. */
function resources(template: Template, type: string, prefix = ''): [string, Resource][] {
  return Object.entries(template.findResources(type) as Record<string, Resource>).filter(([id]) =>
    id.startsWith(prefix),
  );
}

/** The one resource of `type` whose logical id starts with `prefix`. */
function only(template: Template, type: string, prefix: string): [string, Resource] {
  const found = resources(template, type, prefix);
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

function variablesOf(template: Template, prefix: string): Record<string, unknown> {
  const [, fn] = only(template, 'AWS::Lambda::Function', prefix);
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function statementsOf(template: Template, prefix: string): Statement[] {
  const [, policy] = only(template, 'AWS::IAM::Policy', `${prefix}ServiceRoleDefaultPolicy`);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

/** The text of a value that is a string or an Fn::Join of strings and Refs (`<Ref:id>`). */
function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<Ref:${(part as { Ref: string }).Ref}>`))
    .join(separator);
}

/** What the template refers to a created secret by, in joinedText. */
const refTo = (template: Template, prefix: string): string =>
  `<Ref:${only(template, 'AWS::SecretsManager::Secret', prefix)[0]}>`;

describe('OnssTransfer stack, three named channels', () => {
  let built: TransferApp;
  let reportDir: string;
  let template: Template;

  beforeAll(() => {
    reportDir = outdir();
    built = buildApp({
      outdir: reportDir,
      context: { ...NO_BUNDLING, channels: CHANNELS, credentialMaxAgeDays: 180 },
    });
    built.app.synth();
    template = Template.fromStack(built.stack);
  });

  it('schedules one pull per channel, each with its channel as input, never retried', () => {
    // Prepare
    const [pullId] = only(template, 'AWS::Lambda::Function', 'PullFunction');

    // Act
    const rules = resources(template, 'AWS::Events::Rule');

    // Assess
    expect(rules.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'ChannelEastPullSchedule',
      'ChannelWest2PullSchedule',
      'ChannelNorthPullSchedule',
    ]);
    for (const [index, [, rule]] of rules.entries()) {
      expect(rule.Properties).toMatchObject({
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [
          {
            Arn: { 'Fn::GetAtt': [pullId, 'Arn'] },
            Input: JSON.stringify({ channel: CHANNELS[index]?.name }),
            RetryPolicy: { MaximumRetryAttempts: 0 },
          },
        ],
      });
    }
  });

  it.each(['SendFunction', 'PullFunction'])('gives %s every channel in ONSS_CHANNELS', (prefix) => {
    // Act
    const variables = variablesOf(template, prefix);
    const entries = JSON.parse(joinedText(variables[ENV_NAMES.channels])) as ChannelEntry[];

    // Assess
    expect(entries).toEqual([
      {
        name: 'east',
        sender: '123456',
        host: 'tp.example.be',
        port: 21,
        protocol: 'ftps',
        serverSecretId: refTo(template, 'ChannelEastServerSecret'),
        signingSecretId: refTo(template, 'ChannelEastSigningSecret'),
        maxSends: 2,
      },
      {
        name: 'west-2',
        sender: '654321',
        host: 'tp.example.be',
        port: 8022,
        protocol: 'sftp',
        serverSecretId: arn('west-server'),
        signingSecretId: refTo(template, 'ChannelWest2SigningSecret'),
        answerFingerprints: [PIN_NORMALISED],
        answerCaSecretId: arn('answer-ca'),
        maxSends: 1,
      },
      {
        name: 'north',
        sender: '111111',
        host: '192.0.2.10',
        port: 2121,
        protocol: 'ftp',
        serverSecretId: arn('north-server'),
        signingSecretId: arn('north-signing'),
        maxSends: 3,
      },
    ]);
  });

  it.each(['SendFunction', 'PullFunction'])(
    'gives %s none of the single-channel variables',
    (prefix) => {
      const names = Object.keys(variablesOf(template, prefix));
      for (const name of [
        ENV_NAMES.sender,
        ENV_NAMES.host,
        ENV_NAMES.port,
        ENV_NAMES.protocol,
        ENV_NAMES.signingSecretId,
        ENV_NAMES.serverSecretId,
        ENV_NAMES.maxSends,
        ANSWER_TRUST_ENV_NAMES.fingerprints,
        ANSWER_TRUST_ENV_NAMES.caSecretId,
      ]) {
        expect(names).not.toContain(name);
      }
    },
  );

  it('gives the send function alone the queue URL and the right to send to the queue', () => {
    // Prepare
    const [queueId] = only(template, 'AWS::SQS::Queue', 'SendQueue');
    const sendsTo = (prefix: string) =>
      statementsOf(template, prefix).some(
        (statement) =>
          [statement.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(statement.Resource) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      );

    // Assess
    expect(variablesOf(template, 'SendFunction')[ENV_NAMES.sendQueueUrl]).toEqual({
      Ref: queueId,
    });
    expect(Object.keys(variablesOf(template, 'PullFunction'))).not.toContain(
      ENV_NAMES.sendQueueUrl,
    );
    expect(sendsTo('SendFunction')).toBe(true);
    expect(sendsTo('PullFunction')).toBe(false);
  });

  it("reserves the sum of the channels' sends, and one pull per channel", () => {
    // Prepare
    const [sendId, send] = only(template, 'AWS::Lambda::Function', 'SendFunction');
    const [, pull] = only(template, 'AWS::Lambda::Function', 'PullFunction');

    // Assess: 2 + 1 + 3 sends
    expect(send.Properties.ReservedConcurrentExecutions).toBe(6);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: sendId },
      ScalingConfig: { MaximumConcurrency: 6 },
    });
    expect(pull.Properties.ReservedConcurrentExecutions).toBe(3);
  });

  it('creates the secrets of the channels that give no ARN, retained, and no others', () => {
    // Act
    const secrets = resources(template, 'AWS::SecretsManager::Secret');

    // Assess
    expect(secrets.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'ChannelEastSigningSecret',
      'ChannelEastServerSecret',
      'ChannelWest2SigningSecret',
    ]);
    for (const [, secret] of secrets) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
      expect(JSON.parse(secret.Properties.SecretString as string)).toEqual({
        placeholder: expect.stringContaining('onss-transfer import-key'),
      });
    }
  });

  it.each(['SendFunction', 'PullFunction'])(
    "lets %s read every channel's signing and server secrets, rotation date included",
    (prefix) => {
      // Prepare
      const secrets = [
        { Ref: only(template, 'AWS::SecretsManager::Secret', 'ChannelEastSigningSecret')[0] },
        { Ref: only(template, 'AWS::SecretsManager::Secret', 'ChannelEastServerSecret')[0] },
        { Ref: only(template, 'AWS::SecretsManager::Secret', 'ChannelWest2SigningSecret')[0] },
        arn('west-server'),
        arn('north-signing'),
        arn('north-server'),
      ];

      // Act
      const reads = statementsOf(template, prefix).filter((statement) =>
        [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
      );

      // Assess
      expect(reads.map((statement) => statement.Action)).toEqual(
        reads.map(() => ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']),
      );
      const readable = reads.flatMap((statement) => [statement.Resource].flat());
      expect(readable).toEqual(expect.arrayContaining(secrets));
      const caReadable = readable.includes(arn('answer-ca'));
      expect(caReadable).toBe(prefix === 'PullFunction');
    },
  );

  it.each(CHANNELS.flatMap(({ name }) => CHANNEL_ALARM_KINDS.map((kind) => ({ name, kind }))))(
    'raises the $kind alarm of channel $name on its own metric',
    ({ name, kind }) => {
      // Prepare
      const part = name === 'west-2' ? 'West2' : name.charAt(0).toUpperCase() + name.slice(1);
      const [topicId] = only(template, 'AWS::SNS::Topic', 'Topic');

      // Act
      const [, alarm] = only(template, 'AWS::CloudWatch::Alarm', `MonitoringChannel${part}${kind}`);

      // Assess
      const expected = {
        NoPullSuccess: {
          MetricName: METRIC_NAMES.pullSuccess,
          Statistic: 'Sum',
          Period: 3600,
          ComparisonOperator: 'LessThanThreshold',
          Threshold: 1,
          TreatMissingData: 'breaching',
        },
        CertificateExpiring: {
          MetricName: METRIC_NAMES.certificateDaysLeft,
          Statistic: 'Minimum',
          ComparisonOperator: 'LessThanThreshold',
          Threshold: 30,
          TreatMissingData: 'notBreaching',
        },
        ServerCredentialTooOld: {
          MetricName: METRIC_NAMES.serverCredentialAgeDays,
          Statistic: 'Maximum',
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 180,
          TreatMissingData: 'notBreaching',
        },
        ServerIdentityChanged: {
          MetricName: METRIC_NAMES.serverIdentityChanged,
          Statistic: 'Sum',
          Period: 15 * 60,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          TreatMissingData: 'notBreaching',
        },
        DeclarationsOverdue: {
          MetricName: METRIC_NAMES.overdue,
          Statistic: 'Sum',
          Period: 15 * 60,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          TreatMissingData: 'notBreaching',
        },
      }[kind];
      expect(alarm.Properties).toMatchObject({
        ...expected,
        Namespace: METRICS_NAMESPACE,
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      expect(alarm.Properties.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'service', Value: SERVICE_NAME },
          { Name: CHANNEL_DIMENSION, Value: name },
        ]),
      );
      expect(alarm.Properties.Dimensions).toHaveLength(2);
      expect(alarm.Properties.AlarmDescription).toContain(`channel ${name}`);
    },
  );

  it('keeps the deployment-wide alarms once, and no per-channel alarm without its channel', () => {
    // Act
    const alarms = resources(template, 'AWS::CloudWatch::Alarm');
    const channelMetrics: string[] = [
      METRIC_NAMES.pullSuccess,
      METRIC_NAMES.certificateDaysLeft,
      METRIC_NAMES.serverCredentialAgeDays,
      METRIC_NAMES.serverIdentityChanged,
      METRIC_NAMES.overdue,
    ];

    // Assess: dead letters and two function errors; five per channel
    expect(alarms).toHaveLength(3 + CHANNEL_ALARM_KINDS.length * CHANNELS.length);
    const unchanneled = alarms.filter(
      ([, alarm]) =>
        channelMetrics.includes(alarm.Properties.MetricName as string) &&
        !JSON.stringify(alarm.Properties.Dimensions).includes(CHANNEL_DIMENSION),
    );
    expect(unchanneled).toEqual([]);
    for (const id of [
      'MonitoringDeadLetterQueueNotEmpty',
      'MonitoringSendFunctionErrors',
      'MonitoringPullFunctionErrors',
    ]) {
      expect(resources(template, 'AWS::CloudWatch::Alarm', id)).toHaveLength(1);
    }
    // The watchdog runs per channel: its alarm is one of each channel's.
    expect(resources(template, 'AWS::CloudWatch::Alarm', 'MonitoringDeclarationsOverdue')).toEqual(
      [],
    );
  });

  it("draws each channel's metrics on the dashboard", () => {
    // Act
    const [, dashboard] = only(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard');
    const body = joinedText(dashboard.Properties.DashboardBody);

    // Assess
    for (const { name } of CHANNELS) {
      for (const metric of [
        METRIC_NAMES.pullSuccess,
        METRIC_NAMES.certificateDaysLeft,
        METRIC_NAMES.serverCredentialAgeDays,
        METRIC_NAMES.serverIdentityChanged,
        METRIC_NAMES.declarationsSent,
        METRIC_NAMES.sendsDeferred,
        METRIC_NAMES.overdue,
      ]) {
        expect(body).toContain(
          `"${METRICS_NAMESPACE}","${metric}","${CHANNEL_DIMENSION}","${name}","service","${SERVICE_NAME}"`,
        );
      }
    }
  });

  it("outputs each channel's secret ARNs, under ids made of its name", () => {
    // Act
    const outputs = template.findOutputs('*') as Record<string, { Value: unknown }>;

    // Assess
    expect(Object.keys(outputs)).not.toContain('SigningSecretArn');
    expect(Object.keys(outputs)).not.toContain('ServerSecretArn');
    expect(outputs.ChannelEastSigningSecretArn?.Value).toEqual({
      Ref: only(template, 'AWS::SecretsManager::Secret', 'ChannelEastSigningSecret')[0],
    });
    expect(outputs.ChannelWest2ServerSecretArn?.Value).toBe(arn('west-server'));
    expect(outputs.ChannelNorthSigningSecretArn?.Value).toBe(arn('north-signing'));
    expect(outputs.ChannelNorthServerSecretArn?.Value).toBe(arn('north-server'));
    expect(Object.keys(outputs).filter((id) => id.startsWith('Channel'))).toHaveLength(6);
  });

  it('leaves no AwsSolutions finding, and no warning', () => {
    expect(awsSolutionsFindings(reportDir)).toEqual([]);
    const annotations = Annotations.fromStack(built.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    // Every channel has its sender and host: no placeholder warning either.
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('acknowledges the missing rotation of each secret it creates, and only those', () => {
    const rotation = nagAcknowledgements(built.stack).filter(
      ({ id }) => id === 'AwsSolutions-SMG4',
    );
    expect(rotation.map(({ scope }) => scope.node.id)).toEqual([
      'ChannelEastSigningSecret',
      'ChannelEastServerSecret',
      'ChannelWest2SigningSecret',
    ]);
  });
});

describe('OnssTransfer stack, one unnamed channel of several sends', () => {
  it('reserves its sends and writes them to ONSS_MAX_SENDS', () => {
    // Act
    const { stack } = buildApp({ outdir: outdir(), context: { ...NO_BUNDLING, maxSends: 4 } });
    const template = Template.fromStack(stack);

    // Assess
    const [sendId, send] = only(template, 'AWS::Lambda::Function', 'SendFunction');
    expect(send.Properties.ReservedConcurrentExecutions).toBe(4);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: sendId },
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    expect(variablesOf(template, 'SendFunction')[ENV_NAMES.maxSends]).toBe('4');
    expect(variablesOf(template, 'PullFunction')[ENV_NAMES.maxSends]).toBe('4');
    expect(only(template, 'AWS::Lambda::Function', 'PullFunction')[1].Properties).toMatchObject({
      ReservedConcurrentExecutions: 1,
    });
    expect(resources(template, 'AWS::Events::Rule', 'PullSchedule')).toHaveLength(1);
  });
});

describe('OnssTransfer stack, too many channels for the environment', () => {
  it('fails the synth with the reason, before anything is bundled', () => {
    // Prepare: 15 channels whose secrets the stack creates, each ARN a token
    const channels = Array.from({ length: 15 }, (_, index) => ({
      name: `employer-${index}`,
      sender: String(100000 + index),
      host: `transfer-point-${index}.example.be`,
    }));

    // Act
    const act = () => buildApp({ outdir: outdir(), context: { ...NO_BUNDLING, channels } });

    // Assess
    expect(act).toThrow(ContextConfigError);
    expect(act).toThrow(
      /channels: the send function's environment variables would take about \d+ bytes, over Lambda's 4096/,
    );
  });

  it('accepts as many channels as fit', () => {
    const channels = Array.from({ length: 7 }, (_, index) => ({
      name: `employer-${index}`,
      sender: String(100000 + index),
      host: `transfer-point-${index}.example.be`,
    }));
    expect(() =>
      buildApp({ outdir: outdir(), context: { ...NO_BUNDLING, channels } }),
    ).not.toThrow();
  });
});
