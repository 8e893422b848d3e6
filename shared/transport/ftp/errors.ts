/** Tests on the server's FTP replies; classifyFtpError itself is in ../errors.ts. */
import type { FTPError } from 'basic-ftp';
import { isFtpReply } from '../errors';

/** A reply of the server with this code. */
export function isReply(error: unknown, ftpCode: number): error is FTPError {
  return isFtpReply(error) && error.code === ftpCode;
}

/** A 5xx reply of the server: the same command gets the same answer. */
export function isPermanentReply(error: unknown): error is FTPError {
  return isFtpReply(error) && error.code >= 500 && error.code < 600;
}
