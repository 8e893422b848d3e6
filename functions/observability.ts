/**
 * Logging and metrics of the functions, with Powertools for AWS Lambda. The processing modules
 * take the two small interfaces below rather than the Powertools classes, so tests can look at
 * what was logged and counted.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CHANNEL_DIMENSION, METRICS_NAMESPACE, SERVICE_NAME } from './config/names';

/** The log calls the functions make (Powertools' Logger has them). */
export interface Log {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
  appendKeys(attributes: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

/** The metric calls the functions make (Powertools' Metrics has it). */
export interface MetricSink {
  addMetric(name: string, unit: MetricUnitValue, value: number): void;
}

/** A CloudWatch metric unit. */
export type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

export { MetricUnit };

/** The functions' logger: JSON lines with the service name, level from POWERTOOLS_LOG_LEVEL. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}

/** The functions' metrics, in the namespace the dashboard and alarms read. */
export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}

/** A short, safe description of a failure for a log line: its class, code and message. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    error: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    reason: error.message,
  };
}

/**
 * The metrics of one named channel: each put at once with the dimension `channel` beside the
 * service, which the channel's alarms select (a single metric, so the dimension does not reach
 * the function's other metrics).
 */
export function channelMetrics(metrics: Metrics, channel: string): MetricSink {
  return {
    addMetric(name, unit, value) {
      const single = metrics.singleMetric();
      single.addDimension(CHANNEL_DIMENSION, channel);
      single.addMetric(name, unit, value);
    },
  };
}
