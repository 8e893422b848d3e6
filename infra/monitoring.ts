/**
 * Alarms (each to the SNS topic, on alarm and back to OK) and the CloudWatch dashboard. The
 * custom metrics are the ones the functions put with Powertools, selected by the names of
 * functions/config/names.ts and the `service` dimension Powertools adds, plus the `channel`
 * dimension on the per-channel metrics of a stack with named channels.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHANNEL_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES } from '../functions/config/names';
import { channelIdPart } from './config';
import { SERVICE_NAME } from './constants';

/** Days of certificate validity left under which the certificate alarm fires. */
export const CERTIFICATE_ALARM_DAYS = 30;

/**
 * The alarms every channel has (the unnamed one of a stack without channels under these ids,
 * a named one under `Channel<Name><kind>`), each on that channel's metric.
 */
export const CHANNEL_ALARM_KINDS = [
  'NoPullSuccess',
  'CertificateExpiring',
  'ServerCredentialTooOld',
  'ServerIdentityChanged',
  'DeclarationsOverdue',
] as const;

/** One of CHANNEL_ALARM_KINDS. */
export type ChannelAlarmKind = (typeof CHANNEL_ALARM_KINDS)[number];

/** What TransferMonitoring watches. */
export interface TransferMonitoringProps {
  topic: sns.ITopic;
  sendFunction: lambda.IFunction;
  pullFunction: lambda.IFunction;
  sendQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  /**
   * Minutes between two pulls: the no-success window is at least twice that, and the overdue
   * and server identity alarms' period is one pull.
   */
  pullRateMinutes: number;
  /** Days since the server secret last changed past which its alarm fires. */
  credentialMaxAgeDays: number;
  /**
   * The named channels: their metrics carry the CHANNEL_DIMENSION, and each has its own
   * alarms and lines. Absent: the one unnamed channel, whose metrics have no such dimension.
   */
  channels?: readonly string[];
}

/** The window without a successful pull after which the alarm fires: an hour, or two pulls. */
export function pullSilenceWindow(pullRateMinutes: number): Duration {
  return Duration.minutes(Math.max(60, 2 * pullRateMinutes));
}

/**
 * The dimensions of a custom metric: the `service` Powertools adds to every metric, and the
 * channel's name for a per-channel metric of a named channel.
 */
export function metricDimensions(channel?: string): Record<string, string> {
  return channel === undefined
    ? { service: SERVICE_NAME }
    : { service: SERVICE_NAME, [CHANNEL_DIMENSION]: channel };
}

/** The construct id of a channel's alarm: the kind alone for the unnamed channel. */
export function channelAlarmId(kind: ChannelAlarmKind, channel?: string): string {
  return channel === undefined ? kind : `Channel${channelIdPart(channel)}${kind}`;
}

/** One alarm each channel has: its id, words, metric (name, statistic, period) and test. */
interface ChannelAlarmSpec {
  id: ChannelAlarmKind;
  description: string;
  metric: [name: string, statistic: string, period: Duration];
  threshold: number;
  comparison: cloudwatch.ComparisonOperator;
  /** Missing data: not breaching unless said. */
  missing?: cloudwatch.TreatMissingData;
}

/** The stack's alarms and dashboard. */
export class TransferMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TransferMonitoringProps) {
    super(scope, id);
    // Alarms take the metrics without labels (a label turns them into metric math);
    // the dashboard adds its labels with `.with()`.
    const custom = (
      metricName: string,
      statistic: string,
      period: Duration,
      channel?: string,
    ): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: metricDimensions(channel),
        statistic,
        period,
      });
    // The unnamed channel, or each named one.
    const channels: readonly (string | undefined)[] = props.channels ?? [undefined];
    /** One line per channel: labelled `what` for the unnamed one, by name for named ones. */
    const perChannel = (
      metricName: string,
      statistic: string,
      period: Duration,
      what: string,
    ): cloudwatch.IMetric[] =>
      channels.map((channel) =>
        custom(metricName, statistic, period, channel).with({ label: channel ?? what }),
      );

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(5),
    });

    this.add(
      new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
        alarmDescription:
          'A declaration failed to be sent 3 times and waits in the dead-letter queue.',
        metric: dlqDepth,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      props.topic,
    );
    for (const [name, fn] of [
      ['Send', props.sendFunction],
      ['Pull', props.pullFunction],
    ] as const) {
      this.add(
        new cloudwatch.Alarm(this, `${name}FunctionErrors`, {
          alarmDescription: `The ${name.toLowerCase()} function failed (see its log group).`,
          metric: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        props.topic,
      );
    }
    for (const channel of channels) {
      this.channelAlarms(channel, props, custom);
    }

    const hour = Duration.hours(1);
    const sixHours = Duration.hours(6);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Declarations sent',
        left: [
          ...perChannel(METRIC_NAMES.declarationsSent, cloudwatch.Stats.SUM, hour, 'Declarations'),
          custom(METRIC_NAMES.partsSent, cloudwatch.Stats.SUM, hour).with({ label: 'Parts' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes sent',
        left: [custom(METRIC_NAMES.bytesSent, cloudwatch.Stats.SUM, hour).with({ label: 'Bytes' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Answers by result',
        // One line per result, whatever results the functions report. The schema names the
        // metric's dimensions: a schema of the namespace alone matches metrics with none.
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},result,service} MetricName="${METRIC_NAMES.answers}"', 'Sum', 3600)`,
            usingMetrics: {},
            label: '',
            period: hour,
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        left: [
          dlqDepth.with({ label: 'Dead-letter queue' }),
          props.sendQueue.metricApproximateNumberOfMessagesVisible({
            statistic: cloudwatch.Stats.MAXIMUM,
            period: Duration.minutes(5),
            label: 'Send queue',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Certificate days left',
        metrics: perChannel(
          METRIC_NAMES.certificateDaysLeft,
          cloudwatch.Stats.MINIMUM,
          sixHours,
          'Days left',
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: [
          props.sendFunction.metricErrors({ label: 'Send', period: Duration.minutes(5) }),
          props.pullFunction.metricErrors({ label: 'Pull', period: Duration.minutes(5) }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Declarations overdue',
        left: perChannel(METRIC_NAMES.overdue, cloudwatch.Stats.SUM, hour, 'Newly overdue'),
        width: 8,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Server credentials age (days)',
        metrics: perChannel(
          METRIC_NAMES.serverCredentialAgeDays,
          cloudwatch.Stats.MAXIMUM,
          sixHours,
          'Days since changed',
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Server identity changes',
        left: perChannel(
          METRIC_NAMES.serverIdentityChanged,
          cloudwatch.Stats.SUM,
          hour,
          'Host key or certificate changed',
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Successful pulls',
        left: perChannel(METRIC_NAMES.pullSuccess, cloudwatch.Stats.SUM, hour, 'Pulls'),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sends deferred (channel busy)',
        left: perChannel(METRIC_NAMES.sendsDeferred, cloudwatch.Stats.SUM, hour, 'Deferred'),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }

  /**
   * The alarms of one channel (undefined: the unnamed one, under the ids a single-channel
   * stack always had), each on that channel's own metric.
   */
  private channelAlarms(
    channel: string | undefined,
    props: TransferMonitoringProps,
    custom: (
      name: string,
      statistic: string,
      period: Duration,
      channel?: string,
    ) => cloudwatch.Metric,
  ): void {
    const of = channel === undefined ? '' : ` of channel ${channel}`;
    const window = pullSilenceWindow(props.pullRateMinutes);
    const pullPeriod = Duration.minutes(props.pullRateMinutes);
    const { LESS_THAN_THRESHOLD, GREATER_THAN_THRESHOLD, GREATER_THAN_OR_EQUAL_TO_THRESHOLD } =
      cloudwatch.ComparisonOperator;
    const specs: ChannelAlarmSpec[] = [
      {
        id: 'NoPullSuccess',
        description:
          `No pull${of} succeeded for ${window.toMinutes()} minutes: answers of the transfer ` +
          `point are not being collected.`,
        metric: [METRIC_NAMES.pullSuccess, cloudwatch.Stats.SUM, window],
        threshold: 1,
        comparison: LESS_THAN_THRESHOLD,
        // No data point at all means no pull reported a success: that is the failure.
        missing: cloudwatch.TreatMissingData.BREACHING,
      },
      {
        id: 'CertificateExpiring',
        description:
          `The signing certificate${of} expires within ${CERTIFICATE_ALARM_DAYS} days: renew ` +
          `it and import it with onss-transfer import-key.`,
        metric: [METRIC_NAMES.certificateDaysLeft, cloudwatch.Stats.MINIMUM, Duration.hours(6)],
        threshold: CERTIFICATE_ALARM_DAYS,
        comparison: LESS_THAN_THRESHOLD,
      },
      // The pull function reads the server secret's last change (DescribeSecret) each run.
      {
        id: 'ServerCredentialTooOld',
        description:
          `The server password or SSH key${of} was last changed more than ` +
          `${props.credentialMaxAgeDays} days ago: change it with the transfer point and put ` +
          'the new value in its secret (docs/operations.md, Rotating credentials).',
        metric: [METRIC_NAMES.serverCredentialAgeDays, cloudwatch.Stats.MAXIMUM, Duration.hours(6)],
        threshold: props.credentialMaxAgeDays,
        comparison: GREATER_THAN_THRESHOLD,
      },
      // Each refused connection counts one: the alarm stays on while the server keeps showing
      // the new identity (one pull period at least), and goes back to OK once the pin is fixed.
      {
        id: 'ServerIdentityChanged',
        description:
          `The transfer point${of} showed another host key or server certificate than the ` +
          'pinned one: its connections are refused until the new one is checked and pinned ' +
          '(the event names the old and new fingerprints).',
        metric: [METRIC_NAMES.serverIdentityChanged, cloudwatch.Stats.SUM, pullPeriod],
        threshold: 1,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      // The watchdog runs after each pull of the channel and marks each late wait once, so the
      // sum over one pull period counts the declarations that became overdue in that run: the
      // alarm fires for them and goes back to OK on the next run. Each one also raised
      // `declaration.overdue` on the topic.
      {
        id: 'DeclarationsOverdue',
        description:
          `A declaration${of} became overdue: no ACRF, or no notification, within the ` +
          'allowed wait (onss-transfer status --overdue lists them).',
        metric: [METRIC_NAMES.overdue, cloudwatch.Stats.SUM, pullPeriod],
        threshold: 1,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
    ];
    for (const spec of specs) {
      const [name, statistic, period] = spec.metric;
      this.add(
        new cloudwatch.Alarm(this, channelAlarmId(spec.id, channel), {
          alarmDescription: spec.description,
          metric: custom(name, statistic, period, channel),
          threshold: spec.threshold,
          comparisonOperator: spec.comparison,
          evaluationPeriods: 1,
          // Silence is the pull alarm's to report: for the others only a value is news.
          treatMissingData: spec.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        props.topic,
      );
    }
  }

  private add(alarm: cloudwatch.Alarm, topic: sns.ITopic): void {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}
