import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  buildDeclarationName,
  checkDeclarationName,
  printableName,
  todayInBrussels,
  type Environment,
} from '../../shared/names';
import type { DeclarationParams } from '../../shared/send/send-types';
import type { PlanOptions } from '../../shared/send/plan';
import { UsageError } from '../io';

/** The naming and planning flags shared by `plan` and `send`. */
export interface DeclarationFlags {
  app?: string;
  sender?: string;
  env?: string;
  seq?: string;
  date?: string;
  partSize?: string;
  signTest?: boolean;
  apps?: string;
}

/** Adds the naming and planning flags to a command. */
export function withDeclarationFlags(command: Command): Command {
  return command
    .option(
      '--app <APP>',
      'application prefix (DMFA, DIMN, ...); default from a file named by the rules',
    )
    .option('--sender <N>', 'sender number (6 digits)')
    .option('--env <R|T|S>', 'R production, T circuit test, S simulation')
    .option('--seq <NNNNN|next>', 'sequence, or next (the default: the ledger allocates it)')
    .option('--date <YYYYMMDD>', 'creation date; default today in Brussels')
    .option('--part-size <bytes>', 'largest FI part, at most 200000000 (the default)')
    .option('--sign-test', 'also sign T and S declarations (R always is)')
    .option('--apps <list>', 'extra application prefixes to accept, comma-separated');
}

function isEnvironment(value: string): value is Environment {
  return value === 'R' || value === 'T' || value === 'S';
}

/**
 * The declaration's name fields: from the flags, or, when no naming flag is
 * given, from the file's own name if it is an FI name by the rules
 * (`FI.DMFA.123456.20261125.00001.R.1.1` is sent as DMFA, 123456, ...).
 */
export function declarationFrom(file: string, flags: DeclarationFlags): DeclarationParams {
  const naming = flags.app ?? flags.sender ?? flags.env;
  if (naming === undefined) {
    const name = basename(file);
    const parsed = checkDeclarationName(name, planOptionsFrom(flags).rules ?? {});
    if (!parsed.ok || parsed.value.prefix !== 'FI') {
      // Say which rule the name breaks: it may be a name by the rules with one field wrong.
      const why = parsed.ok ? `${printableName(name)} is not an FI name` : parsed.error.message;
      throw new UsageError(
        `give --app, --sender and --env, or name the file by the rules (FI.APP.SENDER.DATE.SEQ.ENV.N.P): ${why}`,
      );
    }
    // --seq and --date, when given, override the name's own fields.
    const { app, sender, env } = parsed.value;
    const seq = flags.seq ?? parsed.value.seq;
    return {
      app,
      sender,
      env,
      date: flags.date ?? parsed.value.date,
      ...(seq === 'next' ? {} : { seq }),
    };
  }
  const missing = (['app', 'sender', 'env'] as const).filter((flag) => flags[flag] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  }
  const env = flags.env as string;
  if (!isEnvironment(env)) {
    throw new UsageError(`--env must be R, T or S, not "${printableName(env)}"`);
  }
  const params: DeclarationParams = {
    app: flags.app as string,
    sender: flags.sender as string,
    env,
    ...(flags.seq && flags.seq !== 'next' ? { seq: flags.seq } : {}),
    ...(flags.date ? { date: flags.date } : {}),
  };
  // The grammar of each field, checked before the ledger is asked for a sequence: a bad SENDER
  // or DATE is then refused with the reception's code (131, 109...), not as a ledger request.
  buildDeclarationName({
    prefix: 'FI',
    app: params.app,
    sender: params.sender,
    date: params.date ?? todayInBrussels(),
    seq: params.seq ?? '00001',
    env,
    nparts: 1,
    part: 1,
  });
  return params;
}

/** Plan settings from the flags. */
export function planOptionsFrom(flags: DeclarationFlags): PlanOptions {
  const options: PlanOptions = {};
  if (flags.partSize !== undefined) {
    const partSize = Number(flags.partSize);
    if (!Number.isSafeInteger(partSize))
      throw new UsageError('--part-size takes a number of bytes');
    options.partSize = partSize;
  }
  if (flags.signTest) options.signFor = { T: true, S: true };
  if (flags.apps) options.rules = { extraApplications: flags.apps.split(',').map((a) => a.trim()) };
  return options;
}
