/**
 * The transport port and its FTP adapter. Import from here; anything not
 * listed is internal to this folder.
 */
export type { RemoteEntry, Transport, TransportConnector } from './port';
export {
  TRANSPORT_CODES,
  TransportError,
  TransportAuthError,
  TransportConnectError,
  TransportTimeoutError,
  TransportRefusedError,
  TransportNotFoundError,
  TransportPathError,
  TransportConfigError,
  TransportClosedError,
  TransportTlsError,
  classifyFtpError,
  isTransientTransportError,
} from './errors';
export type { TransportCode, TransportErrorOptions, ReplyDetails, TlsProblem } from './errors';
export { retry, resolveRetryOptions, backoffDelay, DEFAULT_RETRY_OPTIONS } from './retry';
export type { RetryOptions } from './retry';
export { ftpConnector, resolveFtpOptions, DEFAULT_FTP_OPTIONS } from './ftp';
export { checkRemotePath } from './paths';
export type { FtpOptions, FtpConnectorOptions, ResolvedFtpOptions } from './ftp';
export { memoryConnector } from './memory';
export type { MemoryFiles } from './memory';
export {
  TransportHostKeyError,
  TransportServerCertificateError,
  TransportServerIdentityError,
  serverIdentityChange,
} from './errors';
export type { ServerIdentityChange, ServerIdentityKind } from './errors';
export {
  sftpConnector,
  resolveSftpOptions,
  classifySshError,
  DEFAULT_SFTP_OPTIONS,
  SFTP_TRANSFER,
} from './sftp';
export type { SftpOptions, SftpConnectorOptions, ResolvedSftpOptions, HostKeyEvent } from './sftp';
export {
  sshFingerprint,
  normalizeSshFingerprint,
  loadPrivateKey,
  authorizedKeyLine,
  PrivateKeyError,
} from './ssh-keys';
export type { LoadedPrivateKey } from './ssh-keys';
