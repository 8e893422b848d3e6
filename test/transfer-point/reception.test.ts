/**
 * The reception's verdicts, on one simulator with the default settings: what a set must hold
 * to be accepted, and the ACRF code of each way to get it wrong. Every set goes over FTP with
 * basic-ftp, and FS files are real CMS signatures.
 */
import { watch, writeFileSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'basic-ftp';
import { parseResponseName } from '../../shared/names';
import { signFile, verifyFile } from '../../shared/signing';
import { startSimulator } from '../../transfer-point';
import type { Simulator } from '../../transfer-point';
import { makeIdentity, scratchDir } from '../helpers/pki';
import type { Identity } from '../helpers/pki';
import {
  connect,
  declarationXml,
  eventually,
  readXml,
  sequences,
  setNames,
  uploadAll,
} from './helpers';

const { dir, cleanup } = scratchDir('onss-sim-reception-');
const nextSeq = sequences();
let sim: Simulator;
let client: Client;
let signer: Identity;

beforeAll(async () => {
  signer = await makeIdentity('rsa2048', { commonName: 'Test Sender' });
  sim = await startSimulator({ identity: (await makeIdentity('rsa2048')).material });
  client = await connect(sim);
});

afterAll(async () => {
  client.close();
  await sim.stop();
  cleanup();
});

/** The FS content of `content` signed by `identity`, made with the product's signer. */
async function signatureOf(content: string, identity: Identity = signer): Promise<string> {
  const path = join(dir, `fi-${nextSeq()}`);
  writeFileSync(path, content);
  return (await signFile(path, identity.material)).fs;
}

describe('an accepted set', () => {
  it('answers a single-part T set without FS in OUTTEST with FO, FS, then GO', async () => {
    // Prepare
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const appeared: string[] = [];
    const watcher: FSWatcher = watch(sim.pathOf('OUTTEST'), (_event, name) => {
      if (name && !name.startsWith('.') && !appeared.includes(name)) appeared.push(name);
    });

    // Act
    const judgement = await uploadAll(client, 'INTEST', [
      [names.fi(1), declarationXml()],
      [names.go, ''],
    ])
      .then(() => sim.waitForJudgement((j) => j.goName === names.go))
      // Watch events come a turn after the renames: let the last one in before closing.
      .finally(() => eventually(() => appeared.length >= 3, 2_000, 'three answer files'))
      .finally(() => watcher.close());

    // Assess
    expect(judgement).toMatchObject({
      goName: names.go,
      setKey: names.go.slice(3),
      folder: 'INTEST',
      env: 'T',
      accepted: true,
      codes: [],
      responseFolder: 'OUTTEST',
      scripted: false,
    });
    const [fo, fs, go] = judgement.responseNames as [string, string, string];
    expect(fo).toMatch(/^FO\.ACRF\.999999\.\d{8}\.\d{5}\.T$/);
    expect(parseResponseName(fs)).toMatchObject({ prefix: 'FS', type: 'ACRF', env: 'T' });
    expect(go).toBe(fo.replace(/^FO/, 'GO'));
    expect(appeared).toEqual([fo, fs, go]);
    expect(sim.files('OUTTEST')).toEqual([fo, fs, go].sort());
    expect(sim.files('INTEST')).toEqual([]);
    expect((await client.list('/OUTTEST')).map((entry) => entry.name).sort()).toEqual(
      [fo, fs, go].sort(),
    );

    const foPath = sim.pathOf('OUTTEST', fo);
    const fsContent = await readFile(sim.pathOf('OUTTEST', fs));
    expect(fsContent.toString('latin1')).toMatch(/^[A-Za-z0-9+/]+=*$/); // one base64 line
    const verified = await verifyFile(foPath, fsContent);
    expect(verified.signer.subject).toBe('CN=onss-transfer throwaway signer');
    expect(await readFile(sim.pathOf('OUTTEST', go))).toHaveLength(0);

    const { root, values } = readXml(await readFile(foPath, 'utf8'));
    expect(root).toBe('ACRF');
    expect(values.get('ACRF/Form/Identification')).toEqual(['ACRF001']);
    expect(values.get('ACRF/Form/TypeForm')).toEqual(['FA']);
    expect(values.get('ACRF/Form/FileReference/FileName')).toEqual([names.go]);
    expect(values.get('ACRF/Form/FileReference/ReferenceNbr')).toEqual([judgement.ticket]);
    expect(values.get('ACRF/Form/ReceptionResult/ResultCode')).toEqual(['1']);
    expect(values.has('ACRF/Form/ReceptionResult/ErrorID')).toBe(false);
    expect(judgement.ticket.length).toBeLessThanOrEqual(20);
  });

  it('accepts an R set with FI and FS and answers in OUT', async () => {
    const names = setNames({ seq: nextSeq(), env: 'R' });
    const xml = declarationXml();
    await uploadAll(client, 'IN', [
      [names.fi(1), xml],
      [names.fs(1), await signatureOf(xml)],
      [names.go, ''],
    ]);
    const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
    expect(judgement).toMatchObject({ accepted: true, env: 'R', responseFolder: 'OUT' });
    expect(judgement.responseNames[0]).toMatch(/^FO\.ACRF\.999999\.\d{8}\.\d{5}\.R$/);
    expect(sim.files('IN')).toEqual([]);
    expect(sim.files('OUT')).toEqual(expect.arrayContaining([...judgement.responseNames]));
  });

  it('joins the parts of a multi-part set into one document, cut anywhere', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T', nparts: 3 });
    const xml = Buffer.from(declarationXml('DMFA', 20));
    const cut = [0, 101, 257, xml.length]; // inside tags: only the joined bytes are XML
    await uploadAll(client, 'INTEST', [
      [names.fi(1), xml.subarray(cut[0], cut[1])],
      [names.fi(2), xml.subarray(cut[1], cut[2])],
      [names.fi(3), xml.subarray(cut[2], cut[3])],
      [names.go, ''],
    ]);
    const judgement = await sim.waitForJudgement((j) => j.goName === names.go);
    expect(judgement).toMatchObject({ accepted: true, codes: [] });
  });
});

describe('a refused set', () => {
  /** Uploads `files` then the GO into `folder` and returns the verdict. */
  async function judge(
    folder: string,
    files: ReadonlyArray<readonly [string, string | Buffer]>,
    go: string,
  ) {
    await uploadAll(client, folder, [...files, [go, '']]);
    return sim.waitForJudgement((j) => j.goName === go);
  }

  it('refuses an R set without FS (122)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'R' });
    const judgement = await judge('IN', [[names.fi(1), declarationXml()]], names.go);
    expect(judgement).toMatchObject({ accepted: false, codes: [122], errorIds: ['ACRF-122'] });
  });

  it('refuses a T set with an FS (121)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const xml = declarationXml();
    const judgement = await judge(
      'INTEST',
      [
        [names.fi(1), xml],
        [names.fs(1), await signatureOf(xml)],
      ],
      names.go,
    );
    expect(judgement.codes).toEqual([121]);
    expect(sim.files('INTEST')).toEqual([]); // the refused set leaves the folder too
  });

  it('refuses a set missing a part (120)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T', nparts: 2 });
    const judgement = await judge('INTEST', [[names.fi(1), declarationXml()]], names.go);
    expect(judgement.codes).toEqual([120]);
    expect(judgement.reasons[0]).toMatch(/missing part 2/);
  });

  it('refuses malformed XML (102)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const broken = declarationXml().replace('</Form>', '</Frm>');
    const judgement = await judge('INTEST', [[names.fi(1), broken]], names.go);
    expect(judgement.codes).toEqual([102]);
  });

  it('refuses a form that does not match the name (158)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const judgement = await judge('INTEST', [[names.fi(1), declarationXml('DIMONA')]], names.go);
    expect(judgement.codes).toEqual([158]);
  });

  it('refuses an empty part (134)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const judgement = await judge('INTEST', [[names.fi(1), '']], names.go);
    expect(judgement.codes).toEqual([134]);
  });

  it('refuses an FS that is not the signature of its FI (125)', async () => {
    const names = setNames({ seq: nextSeq(), env: 'R' });
    const judgement = await judge(
      'IN',
      [
        [names.fi(1), declarationXml()],
        [names.fs(1), await signatureOf(declarationXml('DMFA', 4))],
      ],
      names.go,
    );
    expect(judgement.codes).toEqual([125]);
  });

  it('refuses a T GO in IN (119), answers in OUT and clears IN', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const judgement = await judge('IN', [[names.fi(1), declarationXml()]], names.go);
    expect(judgement).toMatchObject({ codes: [119], folder: 'IN', responseFolder: 'OUT' });
    expect(sim.files('IN')).toEqual([]);
    const fo = await readFile(sim.pathOf('OUT', judgement.responseNames[0] as string), 'utf8');
    const { values } = readXml(fo);
    expect(values.get('ACRF/Form/ReceptionResult/ResultCode')).toEqual(['0']);
    expect(values.get('ACRF/Form/ReceptionResult/ErrorID')).toEqual(['ACRF-119']);
    expect(values.get('ACRF/Form/FileReference/FileName')).toEqual([names.go]);
  });

  it.each([
    { title: 'an unknown application', folder: 'INTEST', app: 'DMFX', env: 'T', code: 129 },
    { title: 'a date in the future', folder: 'INTEST', date: '29991231', env: 'T', code: 111 },
    { title: 'an S GO in INTEST', folder: 'INTEST', env: 'S', code: 257 },
    { title: 'an R GO in INTEST-S', folder: 'INTEST-S', env: 'R', code: 118 },
  ] as const)('refuses $title ($code)', async ({ folder, code, ...fields }) => {
    const names = setNames({ seq: nextSeq(), ...fields });
    const judgement = await judge(folder, [[names.fi(1), declarationXml()]], names.go);
    expect(judgement.codes).toEqual([code]);
  });

  it('refuses a name already accepted (133) the second time only', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const first = await judge('INTEST', [[names.fi(1), declarationXml()]], names.go);
    const second = await judge('INTEST', [[names.fi(1), declarationXml()]], names.go);
    expect(first.codes).toEqual([]);
    expect(second.codes).toEqual([133]);
    expect(second.ticket).not.toBe(first.ticket);
    expect(second.responseNames[0]).not.toBe(first.responseNames[0]);
  });

  it('treats a sequence as taken whatever the application (133)', async () => {
    const seq = nextSeq();
    const dmfa = setNames({ seq, env: 'T' });
    const dimona = setNames({ seq, env: 'T', app: 'DIMN' });
    expect((await judge('INTEST', [[dmfa.fi(1), declarationXml()]], dmfa.go)).codes).toEqual([]);
    const again = await judge('INTEST', [[dimona.fi(1), declarationXml('DIMONA')]], dimona.go);
    expect(again.codes).toEqual([133]);
  });

  it('lets a refused name be sent again', async () => {
    const names = setNames({ seq: nextSeq(), env: 'T' });
    const broken = declarationXml().replace('<Form>', '<Form');
    const refused = await judge('INTEST', [[names.fi(1), broken]], names.go);
    const accepted = await judge('INTEST', [[names.fi(1), declarationXml()]], names.go);
    expect([refused.accepted, accepted.accepted]).toEqual([false, true]);
  });
});
