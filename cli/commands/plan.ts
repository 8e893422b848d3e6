import type { Command } from 'commander';
import { statRegularFile } from '../../shared/io/regular-file';
import { todayInBrussels } from '../../shared/names';
import { planDeclaration, type SendPlan } from '../../shared/send/plan';
import { EXIT, printJson, type CliIo } from '../io';
import {
  declarationFrom,
  planOptionsFrom,
  withDeclarationFlags,
  type DeclarationFlags,
} from './declaration-options';

// Shown in place of a sequence the ledger will allocate at send time.
const NEXT_PLACEHOLDER = '00001';

function printPlan(io: CliIo, plan: SendPlan, seqIsNext: boolean): void {
  const seqNote = seqIsNext
    ? ' (sequence 00001 stands for the next free one, allocated at send)'
    : '';
  io.stdout(
    `declaration ${plan.setId}${seqNote}\n` +
      `${plan.size} bytes in ${plan.nparts} part(s) of at most ${plan.partSize} bytes, to ${plan.folder}/, ` +
      `${plan.signed ? 'signed (an FS per part)' : 'not signed (no FS)'}\n`,
  );
  for (const part of plan.parts) {
    io.stdout(`  ${part.fi}  bytes ${part.start}-${part.end - 1} (${part.size})\n`);
    if (part.fs) io.stdout(`  ${part.fs}  signature of part ${part.part}\n`);
  }
  io.stdout(`  ${plan.go}  empty, uploaded last\n`);
}

/** `plan FILE`: prints the files a declaration becomes, sending nothing. */
export function registerPlan(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDeclarationFlags(
    program
      .command('plan')
      .description('show the files a declaration becomes (names, parts, FS, GO), sending nothing')
      .argument('<file>', 'the declaration file'),
  )
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, flags: DeclarationFlags & { json?: boolean }) => {
      const declaration = declarationFrom(file, flags);
      const info = await statRegularFile(file);
      const seqIsNext = declaration.seq === undefined;
      const plan = planDeclaration(
        info.size,
        {
          ...declaration,
          seq: declaration.seq ?? NEXT_PLACEHOLDER,
          date: declaration.date ?? todayInBrussels(),
        },
        planOptionsFrom(flags),
      );
      if (flags.json) printJson(io, { ...plan, seqIsNext });
      else printPlan(io, plan, seqIsNext);
      setExit(EXIT.ok);
    });
}
