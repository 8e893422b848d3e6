import { homedir } from 'node:os';
import { join } from 'node:path';

/** Folder of the CLI's own state (the ledger): $ONSS_TRANSFER_HOME or ~/.onss-transfer. */
export function stateFolder(env: Readonly<Record<string, string | undefined>>): string {
  return env.ONSS_TRANSFER_HOME ?? join(homedir(), '.onss-transfer');
}

/** Default ledger file: one per user, so "already sent" holds whatever the working folder. */
export function defaultLedgerPath(env: Readonly<Record<string, string | undefined>>): string {
  return join(stateFolder(env), 'ledger.sqlite');
}

/** Environment variable read for the FTP password when --password-env is not given. */
export const DEFAULT_PASSWORD_ENV = 'ONSS_FTP_PASSWORD';
