/** The DECLARATION argument of `cancel` and `resend`: a set key, or a file name of the set. */
import { DeclarationNotFoundError, type Ledger } from '../../shared/ledger';

/**
 * The set key `arg` names: itself when the ledger holds that set, else the set a FI, FS, GO or
 * TD name of it belongs to (`GO.DMFA.123456.20261125.00001.R.1`, as `status` and the events
 * show). Throws DeclarationNotFoundError when neither is known.
 */
export async function resolveDeclarationArg(ledger: Ledger, arg: string): Promise<string> {
  const byKey = await ledger.get(arg).catch(() => undefined);
  if (byKey !== undefined) return byKey.id;
  const byName = await ledger.findByFileName(arg);
  if (byName !== undefined) return byName.id;
  throw new DeclarationNotFoundError(arg);
}
