/**
 * Hostile corpus, boundary 1: the names of declarations, where they come in from outside: as
 * names checked by the CLI (`check-name`), as the file name or the naming flags of `send`, and
 * as object keys of the S3 outbox read by the send function (`declarationFromOutboxKey`, then
 * `processSendBatch`). Each name is refused with a typed error carrying the transfer point's
 * ACRF code where the reception has one; nothing reaches the transfer point; nothing is lost
 * (the source is untouched, the ledger claims nothing, the refusal is raised, not dropped).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { processSendBatch, type SendDependencies } from '../../functions/send/process';
import { OnssTransferError } from '../../shared/errors';
import { createMemoryLedger, openSqliteLedger, type Ledger } from '../../shared/ledger';
import { checkDeclarationName, NameRuleError, todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { declarationFromOutboxKey, OutboxKeyError } from '../../shared/send';
import { startSimulator, type Simulator } from '../../transfer-point';
import {
  recordingLog,
  recordingMetrics,
  s3CreatedBody,
  sqsBatch,
} from '../functions/helpers/emulated-aws';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';
import { declarationXml } from '../transfer-point/helpers';
import {
  expectPrintable,
  fingerprint,
  simulatorConnector,
  simulatorFiles,
  typedFailure,
  serverFlags,
} from './helpers/corpus';

const today = todayInBrussels();
const SENDER = '123456';
const OUTBOX = 'outbox/';
const BUCKET = 'onss-outbox';
const valid = (seq = '00001') => `FI.DMFA.${SENDER}.${today}.${seq}.T.1.1`;

const scratch = scratchDir('onss-hostile-names-');
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ sender: SENDER });
});
afterAll(async () => {
  await simulator?.stop();
  scratch.cleanup();
});

/**
 * One hostile name. `code` is what the name rules say (check-name), `rule` what the message must
 * name; `outbox` is the code the same text gets as the last part of an outbox key: a name by the
 * rules gets its NameRuleError, a key of neither outbox layout OUTBOX_KEY_LAYOUT.
 */
interface HostileName {
  title: string;
  name: string;
  code: string;
  rule: RegExp;
  outbox: string;
}

const NAMES: HostileName[] = [
  {
    title: 'path traversal before the name (../)',
    name: `../${valid()}`,
    code: 'NAME_MALFORMED',
    rule: /path separator/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'path traversal after the name (/../../etc/passwd)',
    name: `${valid()}/../../../etc/passwd`,
    code: 'ACRF-131',
    rule: /path separator/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'a slash inside a field',
    name: `FI.DMFA.${SENDER}.${today}.000/1.T.1.1`,
    code: 'ACRF-131',
    rule: /path separator/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'backslashes (a Windows path)',
    name: `${valid()}\\..\\..\\boot.ini`,
    code: 'ACRF-131',
    rule: /path separator/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a NUL byte',
    name: `${valid()}\u0000.xml`,
    code: 'ACRF-131',
    rule: /control character \(\\u\{0\}\)/,
    outbox: 'ACRF-131',
  },
  {
    title: 'CR LF smuggling an FTP command',
    name: `${valid()}\r\nDELE GO.DMFA`,
    code: 'ACRF-131',
    rule: /control character \(\\u\{d\}\)/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a terminal escape sequence in SEQ',
    name: `FI.DMFA.${SENDER}.${today}.0\u001b[2J.T.1.1`,
    code: 'ACRF-131',
    rule: /control character \(\\u\{1b\}\)/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a 100,000-character SEQ',
    name: `FI.DMFA.${SENDER}.${today}.${'1'.repeat(100_000)}.T.1.1`,
    code: 'ACRF-112',
    rule: /SEQ "1{100,}\.\.\." is not 5 characters long/,
    outbox: 'ACRF-112',
  },
  {
    title: 'a name of 20,000 fields (100 kB)',
    name: `FI.${'DMFA.'.repeat(20_000)}1`,
    code: 'ACRF-131',
    rule: /has 20002 dot-separated fields/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a Cyrillic A (U+0410) looking like DMFA',
    name: `FI.DMF\u0410.${SENDER}.${today}.00001.T.1.1`,
    code: 'ACRF-131',
    rule: /character "\\u\{410\}"/,
    outbox: 'ACRF-131',
  },
  {
    title: 'full-width digits (U+FF11...) as the sender',
    name: `FI.DMFA.\uff11\uff12\uff13\uff14\uff15\uff16.${today}.00001.T.1.1`,
    code: 'ACRF-131',
    rule: /character "\\u\{ff11\}"/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a zero-width space (U+200B) hidden in APP',
    name: `FI.DMFA\u200b.${SENDER}.${today}.00001.T.1.1`,
    code: 'ACRF-131',
    rule: /character "\\u\{200b\}"/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a right-to-left override (U+202E) that reverses what is shown',
    name: `FI.DMFA.${SENDER}.${today}.\u202e10000.T.1.1`,
    code: 'ACRF-131',
    rule: /character "\\u\{202e\}"/,
    outbox: 'ACRF-131',
  },
  {
    title: 'one-dot leaders (U+2024) in place of the dots',
    name: valid().replace(/\./g, '\u2024'),
    code: 'NAME_MALFORMED',
    rule: /character "\\u\{2024\}"/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'a lower-case name (fi.dmfa...)',
    name: valid().toLowerCase(),
    code: 'NAME_MALFORMED',
    rule: /PREFIX "fi" is in lower case/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'a space and a second extension',
    name: `${valid()} .exe`,
    code: 'ACRF-131',
    rule: /has a space/,
    outbox: 'ACRF-131',
  },
  {
    title: 'a GO name climbing out (/..)',
    name: `GO.DMFA.${SENDER}.${today}.00001.T.1/..`,
    code: 'ACRF-107',
    rule: /path separator/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
  {
    title: 'an FS name with a NUL',
    name: `FS.DMFA.${SENDER}.${today}.00001.T.1.1\u0000`,
    code: 'ACRF-132',
    rule: /control character/,
    outbox: 'OUTBOX_KEY_LAYOUT',
  },
];

/** Send function dependencies that record what they were asked, on a memory ledger. */
function sendFunction(): {
  deps: SendDependencies;
  ledger: Ledger;
  events: ReturnType<typeof memoryNotifier>['events'];
  opened: string[];
  connections: () => number;
} {
  const ledger = createMemoryLedger();
  const notifier = memoryNotifier();
  const opened: string[] = [];
  let connections = 0;
  const deps: SendDependencies = {
    config: { bucket: BUCKET, outboxPrefix: OUTBOX, signTest: false },
    channels: [
      {
        sender: SENDER,
        maxSends: 1,
        async signingMaterial() {
          throw new Error('no signing material is needed for a refused key');
        },
        async connector() {
          connections += 1;
          return simulatorConnector(simulator);
        },
      },
    ],
    ledger,
    notifier,
    async openSource(ref) {
      opened.push(ref.key);
      throw new Error('the source of a refused key must never be read');
    },
    log: recordingLog(),
    metrics: recordingMetrics(),
  };
  return { deps, ledger, events: notifier.events, opened, connections: () => connections };
}

const batchOf = (key: string): SQSEvent =>
  sqsBatch([{ id: 'm1', body: s3CreatedBody(BUCKET, key, { eTag: '"0"', size: 10 }) }]);

describe('hostile declaration names', () => {
  it.each(NAMES)('$title: refused as $code, nothing sent', async (hostile) => {
    const before = simulatorFiles(simulator);
    const judged = simulator.judgements.length;

    // (1) the name rules: a NameRuleError naming the rule, with the ACRF code where one exists
    const checked = checkDeclarationName(hostile.name);
    expect(checked.ok).toBe(false);
    const error = checked.ok ? undefined : checked.error;
    expect(error).toBeInstanceOf(NameRuleError);
    expect(error?.code).toBe(hostile.code);
    expect(error?.message).toMatch(hostile.rule);
    expect(error?.message).toContain(`(${hostile.code})`);
    // the message quotes the name escaped and cut: nothing that drives a terminal, bounded
    expectPrintable(error?.message ?? '');
    expect(error?.message.length).toBeLessThan(600);

    // (1) the same through the CLI: exit 1, the code on the name's line, printed escaped
    const run = await cli(['check-name', hostile.name]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^INVALID .*  ${hostile.code}  `, 'm'));
    expectPrintable(run.stdout);
    expect(run.stdout.length).toBeLessThan(800);

    // (1) as an outbox key: refused before anything is read
    const key = `${OUTBOX}${hostile.name}`;
    const outboxError = await typedFailure(
      () => declarationFromOutboxKey(key, { prefix: OUTBOX, sender: SENDER }),
      hostile.outbox === 'OUTBOX_KEY_LAYOUT' ? OutboxKeyError : NameRuleError,
      hostile.outbox,
      /./,
    );
    expect(outboxError).toBeInstanceOf(OnssTransferError);

    // (2) the send function: the object is never read, no session is opened
    const fn = sendFunction();
    const response = await processSendBatch(batchOf(key), fn.deps);
    expect(fn.opened).toEqual([]);
    expect(fn.connections()).toBe(0);
    expect(simulator.judgements).toHaveLength(judged);
    expect(simulatorFiles(simulator)).toEqual(before);

    // (3) nothing lost: the refusal is raised with its code (a person sees it), the message
    // is not retried for nothing, and the ledger claims no set
    expect(response.batchItemFailures).toEqual([]);
    expect(fn.events).toHaveLength(1);
    expect(fn.events[0]).toMatchObject({
      type: 'declaration.failed',
      errors: [{ id: hostile.outbox }],
    });
    expect(await fn.ledger.list()).toEqual([]);
  });
});

describe('hostile names given to send', () => {
  /** Runs `send` against the simulator; returns the run and what to compare afterwards. */
  async function send(file: string, flags: string[]) {
    const ledgerPath = join(scratch.dir, `ledger-${Math.random().toString(36).slice(2)}.sqlite`);
    const before = { source: fingerprint(file), server: simulatorFiles(simulator) };
    const judged = simulator.judgements.length;
    const run = await cli(['send', file, ...flags, ...serverFlags(simulator, ledgerPath)], {
      FTP_PASSWORD: simulator.password,
    });
    // (2) nothing reached the transfer point; (3) the source is as it was, no set claimed
    expect(simulator.judgements).toHaveLength(judged);
    expect(simulatorFiles(simulator)).toEqual(before.server);
    expect(fingerprint(file)).toBe(before.source);
    const ledger = openSqliteLedger(ledgerPath);
    try {
      expect(await ledger.list()).toEqual([]);
    } finally {
      await ledger.close();
    }
    expectPrintable(run.stderr);
    expect(run.stderr).not.toContain(simulator.password);
    return run;
  }

  const declaration = (name: string): string => {
    const path = join(scratch.dir, name);
    writeFileSync(path, declarationXml());
    return path;
  };

  it.each([
    {
      flag: '--app',
      value: '../X',
      shown: '../X',
      code: 'ACRF-129',
      rule: /APP "\.\.\/X" is not 4 upper-case/,
    },
    {
      flag: '--sender',
      value: '12/456',
      shown: '12/456',
      code: 'ACRF-131',
      rule: /SENDER "12\/456" is not 6/,
    },
    {
      flag: '--date',
      value: '2026/11/25',
      shown: '2026/11/25',
      code: 'ACRF-109',
      rule: /DATE "2026\/11\/25" is not 8/,
    },
    {
      flag: '--seq',
      value: '1\r\nDE',
      shown: '1<CR><LF>DE',
      code: 'ACRF-367',
      rule: /SEQ "1\\u\{d\}\\u\{a\}DE" has a character outside 0-9 and A-Z/,
    },
  ])('send $flag $shown: refused as $code before the ledger or the server', async (hostile) => {
    const flags = ['--app', 'DMFA', '--sender', SENDER, '--env', 'T', '--seq', '00001'];
    flags.push('--date', today);
    const index = flags.indexOf(hostile.flag);
    flags[index + 1] = hostile.value;
    const run = await send(declaration(`flags-${hostile.code}.xml`), flags);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(hostile.rule);
    expect(run.stderr).toContain(`(${hostile.code})`);
  });

  it('send of a file whose own name hides an escape sequence: the broken rule is named', async () => {
    const file = declaration(`FI.DMFA.${SENDER}.${today}.0000\u001b.T.1.1`);
    const run = await send(file, []);
    // a usage error (exit 2): without naming flags the name must be one by the rules
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\[USAGE\]/);
    expect(run.stderr).toMatch(/has a control character \(\\u\{1b\}\) \(ACRF-131\)/);
  });
});

describe('outbox keys quoted in refusals', () => {
  // Found by this corpus: a key outside both layouts was quoted with JSON.stringify, which
  // leaves bidirectional overrides and zero-width characters raw and never cuts the key. It
  // now goes through printableName, as every NameRuleError does.
  it('a key of neither layout with a right-to-left override is quoted escaped and cut', async () => {
    const key = `${OUTBOX}FS.DMFA.${SENDER}.${today}.\u202e10000.T.1.1${'x'.repeat(5_000)}`;
    const error = await typedFailure(
      () => declarationFromOutboxKey(key, { prefix: OUTBOX, sender: SENDER }),
      OutboxKeyError,
      'OUTBOX_KEY_LAYOUT',
      /is not an FI name/,
    );
    expectPrintable(error.message);
    expect(error.message.length).toBeLessThan(600);
  });
});
