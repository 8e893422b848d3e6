/**
 * How a declaration dropped in an object store's outbox says what it is, from its key alone:
 *
 * - `<prefix>FI.APP.SENDER.DATE.SEQ.ENV.N.P`: a name by the rules. APP, SENDER, DATE, SEQ and
 *   ENV are taken from it (the plan decides the parts again from the size); SENDER must be the
 *   channel's.
 * - `<prefix><APP>/<ENV>/<anything>`: APP and ENV from the folders, SENDER from the channel,
 *   DATE today in Brussels, SEQ allocated by the ledger.
 *
 * Any other key is refused with {@link OutboxKeyError}, before anything is read or sent.
 */
import { OnssTransferError } from '../errors';
import { checkDeclarationName, type Environment, type NameRules } from '../names';
import { printableName } from '../names/errors';
import type { DeclarationParams } from './send-types';

/** A key in the outbox that follows neither layout. */
export class OutboxKeyError extends OnssTransferError {
  constructor(key: string, why: string) {
    super(
      // Quoted as names are (escaped, cut): the key is anyone's text, bound for logs and mail.
      `"${printableName(key)}" ${why}: put declarations at <outbox>/FI.APP.SENDER.DATE.SEQ.ENV.N.P ` +
        'or <outbox>/<APP>/<R|T|S>/<file>',
      { code: 'OUTBOX_KEY_LAYOUT' },
    );
  }
}

/** What the outbox layout needs to know of the channel. */
export interface OutboxLayout {
  /** Key prefix of the outbox with its trailing slash (`outbox/`). */
  prefix: string;
  /** The sender number of the channel. */
  sender: string;
  /** Reception rules for a key named by the rules (extra applications, reference day...). */
  rules?: Partial<NameRules>;
}

const ENVIRONMENT = /^[RTS]$/;
const APPLICATION = /^[A-Z0-9]{1,8}$/;

/**
 * The declaration parameters an outbox key stands for, or undefined for a key that is not a
 * declaration at all (the outbox "folder" itself, a key ending in `/`). Throws OutboxKeyError
 * for a key outside the outbox or outside both layouts, and the name's own NameRuleError (with
 * its ACRF code) for a name by the rules that breaks one.
 */
export function declarationFromOutboxKey(
  key: string,
  layout: OutboxLayout,
): DeclarationParams | undefined {
  if (!key.startsWith(layout.prefix)) throw new OutboxKeyError(key, 'is not in the outbox');
  const rest = key.slice(layout.prefix.length);
  if (rest === '' || rest.endsWith('/')) return undefined;
  const segments = rest.split('/');
  if (segments.length === 1) {
    const checked = checkDeclarationName(rest, { ...layout.rules, sender: layout.sender });
    if (!checked.ok) {
      if (rest.startsWith('FI.')) throw checked.error;
      throw new OutboxKeyError(key, 'is not an FI name by the rules');
    }
    if (checked.value.prefix !== 'FI') throw new OutboxKeyError(key, 'is not an FI name');
    const { app, sender, env, date, seq } = checked.value;
    return { app, sender, env, date, seq };
  }
  const [app = '', env = '', ...name] = segments;
  if (!APPLICATION.test(app)) {
    throw new OutboxKeyError(key, `has ${JSON.stringify(app)} where the application code goes`);
  }
  if (!ENVIRONMENT.test(env)) {
    throw new OutboxKeyError(key, `has ${JSON.stringify(env)} where R, T or S goes`);
  }
  if (name.some((segment) => segment === '')) throw new OutboxKeyError(key, 'has an empty folder');
  return { app, sender: layout.sender, env: env as Environment };
}
