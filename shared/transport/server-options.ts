/**
 * The checks every transport's options share (host, port, user, timeout, retries, flags) and
 * the way a server is named in messages. Each message starts with the channel (`FTP`, `SFTP`)
 * so the user knows which setting to fix; none ever quotes a secret.
 */
import { isIP } from 'node:net';
import { TransportConfigError } from './errors';
import { resolveRetryOptions, type RetryOptions } from './retry';

/** The channel whose options are checked, as messages name it, with its usual server. */
export interface Channel {
  /** `FTP` or `SFTP`. */
  label: string;
  /** The transfer point's host for this channel, shown as an example. */
  exampleHost: string;
  /** The transfer point's port for this channel, shown in the port message. */
  port: number;
}

/** Host names as DNS allows them (letters, digits, hyphens; dot-separated labels). */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Characters that would end or split a protocol line. */
export const CONTROL_CHARACTERS = /[\0\r\n]/;

/** A host name or IP address alone: no URL, no port; IPv6 brackets removed. */
export function checkHost(channel: Channel, value: unknown): string {
  const { label, exampleHost } = channel;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TransportConfigError(
      `${label} host is missing: give the server name, e.g. ${exampleHost}`,
    );
  }
  const host = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw new TransportConfigError(
      `${label} host ${JSON.stringify(host)} is a URL: give the host name alone (e.g. ${exampleHost}) and the port separately`,
    );
  }
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(unbracketed) !== 0) return unbracketed;
  if (/^[^:]+:\d*$/.test(host)) {
    throw new TransportConfigError(
      `${label} host ${JSON.stringify(host)} holds a port: give the host name alone and the port as the port option`,
    );
  }
  if (!HOST_NAME.test(host)) {
    throw new TransportConfigError(
      `${label} host ${JSON.stringify(host)} is not a valid host name or IP address`,
    );
  }
  return host;
}

/** A TCP port. */
export function checkPort(channel: Channel, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new TransportConfigError(
      `${channel.label} port must be a whole number from 1 to 65535 (the transfer point uses ${channel.port}), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The technical user name: present, on one line. */
export function checkUser(channel: Channel, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TransportConfigError(
      `${channel.label} user is missing: give the technical user name of the channel`,
    );
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw new TransportConfigError(`${channel.label} user contains a line break or NUL character`);
  }
  return value;
}

/** A timeout of at least 1 ms: 0 would mean "none", and a dead server would hang the sender. */
export function checkTimeout(channel: Channel, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TransportConfigError(
      `${channel.label} timeoutMs must be a whole number of milliseconds of at least 1, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Retry options merged over the defaults. */
export function checkRetry(
  channel: Channel,
  name: string,
  value: Partial<RetryOptions> | undefined,
): RetryOptions {
  try {
    return resolveRetryOptions(value ?? {});
  } catch (error) {
    throw new TransportConfigError(`${channel.label} ${name}: ${(error as Error).message}`, error);
  }
}

/** An optional boolean option. */
export function checkFlag(
  channel: Channel,
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TransportConfigError(`${channel.label} ${name} must be true or false`);
  }
  return value;
}

/** A server's name in messages and logs: `scheme://user@host:port`, never a secret. */
export function describeServer(
  scheme: string,
  options: { host: string; port: number; user: string },
): string {
  const host = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  return `${scheme}://${encodeURIComponent(options.user)}@${host}:${options.port}`;
}
