/**
 * Alarms (each to the SNS topic, on alarm and back to OK) and the CloudWatch dashboard. The
 * custom metrics are the ones the functions put with Powertools, selected by the names of
 * functions/config/names.ts and the `service` dimension Powertools adds.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRIC_NAMES } from '../functions/config/names';
import { SERVICE_NAME } from './constants';

/** Days of certificate validity left under which the certificate alarm fires. */
export const CERTIFICATE_ALARM_DAYS = 30;

/** What TransferMonitoring watches. */
export interface TransferMonitoringProps {
  topic: sns.ITopic;
  sendFunction: lambda.IFunction;
  pullFunction: lambda.IFunction;
  sendQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  /**
   * Minutes between two pulls: the no-success window is at least twice that, and the overdue
   * alarm's period is one pull.
   */
  pullRateMinutes: number;
}

/** The window without a successful pull after which the alarm fires: an hour, or two pulls. */
export function pullSilenceWindow(pullRateMinutes: number): Duration {
  return Duration.minutes(Math.max(60, 2 * pullRateMinutes));
}

/** The stack's alarms and dashboard. */
export class TransferMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TransferMonitoringProps) {
    super(scope, id);
    // Alarms take the metrics without labels (a label turns them into metric math);
    // the dashboard adds its labels with `.with()`.
    const custom = (metricName: string, statistic: string, period: Duration): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
      });

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(5),
    });
    const certificateDaysLeft = custom(
      METRIC_NAMES.certificateDaysLeft,
      cloudwatch.Stats.MINIMUM,
      Duration.hours(6),
    );

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
    const window = pullSilenceWindow(props.pullRateMinutes);
    this.add(
      new cloudwatch.Alarm(this, 'NoPullSuccess', {
        alarmDescription:
          `No pull succeeded for ${window.toMinutes()} minutes: answers of the transfer ` +
          `point are not being collected.`,
        metric: custom(METRIC_NAMES.pullSuccess, cloudwatch.Stats.SUM, window),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No data point at all means no pull reported a success: that is the failure.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      props.topic,
    );
    this.add(
      new cloudwatch.Alarm(this, 'CertificateExpiring', {
        alarmDescription:
          `The signing certificate expires within ${CERTIFICATE_ALARM_DAYS} days: renew it ` +
          `and import it with onss-transfer import-key.`,
        metric: certificateDaysLeft,
        threshold: CERTIFICATE_ALARM_DAYS,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // Silence is covered by the pull alarm; only a low value is news here.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      props.topic,
    );
    // The watchdog marks each late wait once, so the sum over one pull period counts the
    // declarations that became overdue in that run: the alarm fires for them and goes back to
    // OK on the next run. Each one also raised `declaration.overdue` on the topic.
    const overduePeriod = Duration.minutes(props.pullRateMinutes);
    this.add(
      new cloudwatch.Alarm(this, 'DeclarationsOverdue', {
        alarmDescription:
          'A declaration became overdue: no ACRF, or no notification, within the allowed wait ' +
          '(onss-transfer status --overdue lists them).',
        metric: custom(METRIC_NAMES.overdue, cloudwatch.Stats.SUM, overduePeriod),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      props.topic,
    );

    const hour = Duration.hours(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Declarations sent',
        left: [
          custom(METRIC_NAMES.declarationsSent, cloudwatch.Stats.SUM, hour).with({
            label: 'Declarations',
          }),
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
        // One line per dimension set of the metric, whatever results the functions report.
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE}} MetricName="${METRIC_NAMES.answers}"', 'Sum', 3600)`,
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
        metrics: [certificateDaysLeft.with({ label: 'Days left' })],
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
        left: [
          custom(METRIC_NAMES.overdue, cloudwatch.Stats.SUM, hour).with({
            label: 'Newly overdue',
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }

  private add(alarm: cloudwatch.Alarm, topic: sns.ITopic): void {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}
