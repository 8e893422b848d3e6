import type { Environment } from '../names';

/**
 * Where a pulled file is kept: `responses/<env>/<date>/<type>/<server name>`, or
 * `responses/<channel>/<env>/...` for a named channel's account. By environment first
 * (production answers apart from tests), then by the answer's date and type, with the server's
 * own name kept.
 */
export function responseKey(
  env: Environment,
  date: string,
  type: string,
  name: string,
  channel?: string,
): string {
  return `responses/${channel === undefined ? '' : `${channel}/`}${env}/${date}/${type}/${name}`;
}

/** Where a file with a name outside the grammar is copied when asked: never deleted. */
export function foreignKey(folder: string, name: string): string {
  // The name is not trusted: anything but a plain character becomes an underscore.
  return `foreign/${folder}/${name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')}`;
}
