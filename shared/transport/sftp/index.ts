/**
 * The SFTP adapter on ssh2: its connector, options and error classification. Anything not
 * exported here is internal to this folder.
 */
export { sftpConnector } from './connector';
export { resolveSftpOptions, DEFAULT_SFTP_OPTIONS } from './options';
export type {
  SftpOptions,
  SftpConnectorOptions,
  ResolvedSftpOptions,
  HostKeyEvent,
} from './options';
export { classifySshError } from './errors';
export { SFTP_TRANSFER } from './window';
