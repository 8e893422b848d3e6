import type { Command } from 'commander';
import {
  checkDeclarationName,
  checkResponseName,
  printableName,
  type NameRules,
} from '../../shared/names';
import { EXIT, printJson, type CliIo } from '../io';

interface CheckNameOptions {
  folder?: string;
  sender?: string;
  apps?: string;
  maxAgeDays?: string;
  response?: boolean;
  json?: boolean;
}

/** One name's verdict, as printed with --json. */
interface NameVerdict {
  name: string;
  valid: boolean;
  code?: string;
  field?: string;
  rule?: string;
  message?: string;
}

function rulesFrom(options: CheckNameOptions): Partial<NameRules> {
  const rules: Partial<NameRules> = {};
  if (options.folder !== undefined) rules.folder = options.folder as NameRules['folder'];
  if (options.sender !== undefined) rules.sender = options.sender;
  if (options.apps !== undefined) {
    rules.extraApplications = options.apps
      .split(',')
      .map((app) => app.trim())
      .filter(Boolean);
  }
  if (options.maxAgeDays !== undefined) rules.maxAgeDays = Number(options.maxAgeDays);
  return rules;
}

function judge(name: string, options: CheckNameOptions, rules: Partial<NameRules>): NameVerdict {
  const result = options.response ? checkResponseName(name) : checkDeclarationName(name, rules);
  if (result.ok) return { name, valid: true };
  const { error } = result;
  return {
    name,
    valid: false,
    code: error.code,
    field: error.field,
    rule: error.rule,
    message: error.message,
  };
}

/** `check-name NAME...`: exit 0 when every name is valid, else 1 with one line per bad name. */
export function registerCheckName(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('check-name')
    .description('check file names against the transfer point rules (exit 1 if any is invalid)')
    .argument('<name...>', 'file names such as FI.DMFA.123456.20261125.00001.R.1.1')
    .option(
      '--folder <folder>',
      'upload folder the files go to: IN, INTEST or INTEST-S (checks ACRF-118/119/257)',
    )
    .option('--sender <number>', 'the sender number of the channel (checks ACRF-108)')
    .option('--apps <list>', 'extra application prefixes to accept, comma-separated')
    .option('--max-age-days <days>', 'oldest accepted creation date, in days (ACRF-126)')
    .option('--response', 'check response names (FO/FS/GO/CO) instead of declaration names')
    .option('--json', 'print the verdicts as JSON')
    .action((names: string[], options: CheckNameOptions) => {
      const rules = rulesFrom(options);
      const verdicts = names.map((name) => judge(name, options, rules));
      const allValid = verdicts.every((v) => v.valid);
      if (options.json) {
        printJson(io, { valid: allValid, names: verdicts });
      } else {
        for (const v of verdicts) {
          // A hostile name must not paint the terminal: print it escaped.
          const shown = printableName(v.name);
          io.stdout(v.valid ? `OK       ${shown}\n` : `INVALID  ${shown}  ${v.code}  ${v.rule}\n`);
        }
      }
      setExit(allValid ? EXIT.ok : EXIT.failed);
    });
}
