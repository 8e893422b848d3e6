/**
 * The FTP and explicit FTPS adapter on basic-ftp: its connector and options. Anything not
 * exported here is internal to this folder.
 */
export { ftpConnector } from './connector';
export { resolveFtpOptions, DEFAULT_FTP_OPTIONS } from './options';
export type { FtpOptions, FtpConnectorOptions, ResolvedFtpOptions } from './options';
