import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import type { TransferEvent } from '../../shared/notify';
import { startSimulator, type Simulator } from '../../transfer-point';
import { cli } from '../helpers/cli';
import { makeIdentity, scratchDir } from '../helpers/pki';

// What a user sees after a NOTIFICATION refuses a DmfA: the verdict in words and every
// anomaly (ErrorID with its annex-30 meaning, class, element, block and value), in text and
// in JSON, from `send`, `pull` and `status` run as a user runs them.

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-cli-status-');
const ledger = join(dir, 'ledger.sqlite');
let simulator: Simulator;
let server: string[];
let signing: string[];

beforeAll(async () => {
  simulator = await startSimulator();
  const id = await makeIdentity('rsa2048', { commonName: 'CLI Status' });
  writeFileSync(join(dir, 'key.pem'), id.keyPem);
  writeFileSync(join(dir, 'cert.pem'), id.certPem);
  signing = ['--key', join(dir, 'key.pem'), '--cert', join(dir, 'cert.pem')];
  server = [
    ...['--host', simulator.host, '--port', String(simulator.port), '--user', simulator.user],
    ...['--password-env', 'FTP_PW', '--ledger', ledger],
  ];
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

const env = () => ({ FTP_PW: simulator.password });

/** A refusing notification of `goName`, as the transfer point writes one (Diagnosis 3). */
function refusal(goName: string, ticket: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<NOTIFICATION><Form><Identification>NOTI001</Identification><TypeForm>FA</TypeForm>',
    `<FileReference><FileName>${goName}</FileName><ReferenceOrigin>2</ReferenceOrigin>`,
    `<ReferenceNbr>${ticket}</ReferenceNbr></FileReference>`,
    '<HandledOriginalForm><Identification>DMFA</Identification></HandledOriginalForm>',
    '<HandledReference><ReferenceType>1</ReferenceType><ReferenceOrigin>2</ReferenceOrigin>',
    '<ReferenceNbr>DECL00000042</ReferenceNbr></HandledReference>',
    '<HandlingResult><ResultCode>0</ResultCode><Diagnosis>3</Diagnosis>',
    '<AnomalyReport><ErrorID>00024-152</ErrorID><TagName>INSS</TagName>',
    '<Value>80111405125</Value><AnomalyClass>B</AnomalyClass>',
    '<Path><NOSSRegistrationNbr>156065072</NOSSRegistrationNbr><INSS>80111405125</INSS></Path>',
    '</AnomalyReport>',
    '<AnomalyReport><ErrorID>90024-135</ErrorID><TagName>Accident</TagName>',
    '<AnomalyClass>W</AnomalyClass></AnomalyReport>',
    '</HandlingResult></Form></NOTIFICATION>',
  ].join('\n');
}

describe('onss-transfer status: what a notification said', () => {
  it('shows a refusal in words with each anomaly, in text and in JSON', async () => {
    const file = join(dir, 'dmfa.xml');
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: today, workers: 3 }));
    const naming = ['--app', 'DMFA', '--sender', '123456', '--env', 'T'];
    const sent = await cli(['send', file, ...naming, ...signing, ...server], env());
    expect(sent.code).toBe(0);
    const judged = await simulator.waitForJudgement();
    await simulator.idle();
    const answerId = `NOTI.999999.${today}.09990.T`;
    writeFileSync(
      simulator.pathOf('OUTTEST', `FO.${answerId}`),
      refusal(judged.goName, judged.ticket),
    );
    writeFileSync(simulator.pathOf('OUTTEST', `GO.${answerId}`), '');
    const pulled = await cli(
      ['pull', '--env', 'T', '--dest', join(dir, 'answers'), ...server],
      env(),
    );
    expect(pulled.code).toBe(0);

    // The event names the verdict and carries the first anomalies in words.
    const events = readFileSync(join(dir, 'answers', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TransferEvent);
    const notified = events.find((event) => event.type === 'declaration.refused');
    expect(notified).toMatchObject({
      declaration: judged.goName.slice(3, -2),
      state: 'refused',
      result: 'refused: rejected for blocking anomalies',
      anomalyCount: 2,
      anomalies: [
        { id: '00024-152', label: expect.stringContaining('blocking; in INSS at') },
        { id: '90024-135', label: expect.stringContaining('the form type does not match') },
      ],
    });
    expect(notified?.message).toContain('00024-152 annex-30 code 152');

    const text = await cli(['status', '--ledger', ledger]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^DMFA\.123456\.\d{8}\.00001\.T {2}refused {2}ticket \S+, DECL00000042 {2}1 notification\(s\)$/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {4}notification: refused: rejected for blocking anomalies, ticket DECL00000042, 2 anomalies$/,
      ),
    );
    const first = lines.find((line) => line.startsWith('      00024-152 '));
    expect(first).toContain('blocking');
    expect(first).toContain('in INSS at NOSSRegistrationNbr=156065072, INSS=80111405125');
    expect(first).toContain('value "80111405125"');
    // 152 is not in our annex-30 table: said so, not hidden; 135 is, and is told in words.
    expect(first).toContain('annex-30 code 152, its meaning not in our sources');
    expect(lines).toContain(
      '      90024-135 the form type does not match the schema; warning; in Accident',
    );

    const json = await cli(['status', '--ledger', ledger, '--json']);
    const [declaration] = JSON.parse(json.stdout) as Array<{
      state: string;
      notifications: number;
      notified: Array<Record<string, unknown>>;
    }>;
    expect(declaration?.state).toBe('refused');
    expect(declaration?.notifications).toBe(1);
    expect(declaration?.notified).toEqual([
      expect.objectContaining({
        verdict: 'refused: rejected for blocking anomalies',
        result: 'refused',
        diagnosis: 3,
        ticket: 'DECL00000042',
        anomalyCount: 2,
        anomalies: [
          expect.objectContaining({
            errorId: '00024-152',
            class: 'B',
            classInWords: 'blocking',
            tagName: 'INSS',
            path: 'NOSSRegistrationNbr=156065072, INSS=80111405125',
            value: '80111405125',
          }),
          expect.objectContaining({
            errorId: '90024-135',
            label: 'the form type does not match the schema',
            class: 'W',
            classInWords: 'warning',
          }),
        ],
      }),
    ]);
  });
});
