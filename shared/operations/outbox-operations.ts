/**
 * An operator's request written as an object in the outbox, for the send function: a cancel or
 * a resend, named by its key under the outbox prefix.
 *
 * - `<outbox>cancel/<APP.SENDER.DATE.SEQ.ENV>`: cancel that set (its content is not read).
 * - `<outbox>resend/<APP.SENDER.DATE.SEQ.ENV>/<file>`: send the object's content as the resend
 *   of that refused set: same application, sender and environment, a new sequence, the link kept.
 *
 * The two folders are lower case, so they never read as an application (`<outbox>DMFA/R/...`).
 */
import { OnssTransferError } from '../errors';
import { validateDeclarationId } from '../ledger/rules';
import { printableName } from '../names/errors';

/** What an outbox key asks for, when it is an operator's request. */
export type OutboxOperation =
  { kind: 'cancel'; declaration: string } | { kind: 'resend'; declaration: string };

/** The folders of the requests, under the outbox prefix. */
export const OUTBOX_OPERATION_FOLDERS = { cancel: 'cancel/', resend: 'resend/' } as const;

/** A key under `cancel/` or `resend/` that does not name a set as the layout says. */
export class OutboxOperationKeyError extends OnssTransferError {
  constructor(key: string, why: string) {
    super(
      `"${printableName(key)}" ${why}: put <outbox>cancel/APP.SENDER.DATE.SEQ.ENV to cancel a ` +
        'set, <outbox>resend/APP.SENDER.DATE.SEQ.ENV/<file> to resend one',
      { code: 'OUTBOX_KEY_LAYOUT' },
    );
  }
}

function setKeyOf(key: string, text: string | undefined): string {
  try {
    return validateDeclarationId(text ?? '');
  } catch {
    throw new OutboxOperationKeyError(key, `does not name a set (${printableName(text ?? '')})`);
  }
}

/**
 * The operator's request an outbox key names, or undefined for any other key (a declaration,
 * left to the outbox layout). Throws OutboxOperationKeyError for a key under `cancel/` or
 * `resend/` that does not follow its layout.
 *
 * @param key - the object key
 * @param prefix - the outbox prefix with its trailing slash (`outbox/`)
 */
export function operationOfOutboxKey(key: string, prefix: string): OutboxOperation | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  for (const kind of ['cancel', 'resend'] as const) {
    const folder = OUTBOX_OPERATION_FOLDERS[kind];
    if (!rest.startsWith(folder)) continue;
    const segments = rest.slice(folder.length).split('/');
    if (kind === 'cancel' && segments.length !== 1) {
      throw new OutboxOperationKeyError(key, 'holds more than a set key after cancel/');
    }
    if (kind === 'resend' && (segments.length !== 2 || segments[1] === '')) {
      throw new OutboxOperationKeyError(key, 'is not resend/<set key>/<file>');
    }
    return { kind, declaration: setKeyOf(key, segments[0]) };
  }
  return undefined;
}
