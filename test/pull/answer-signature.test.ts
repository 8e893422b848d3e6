import { Readable } from 'node:stream';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { ResponseFile, ResponseRecord } from '../../shared/ledger';
import { checkResponseSignatures } from '../../shared/pull/answer-signature';
import {
  certificateFingerprint,
  makeAnswerTrust,
  signFile,
  type AnswerTrust,
} from '../../shared/signing';
import { localFolderStore } from '../../shared/store';
import { makeIdentity, scratchDir, type Identity } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-answer-signature-');
afterAll(cleanup);

const ID = 'NOTI.999999.20261125.00001.T.2';
const store = localFolderStore(join(dir, 'store'));
let transferPoint: Identity;
let trust: AnswerTrust;

beforeAll(async () => {
  transferPoint = await makeIdentity('ec256', { commonName: 'local transfer point' });
  trust = makeAnswerTrust({
    fingerprints: [certificateFingerprint(transferPoint.material.certificate)],
  }) as AnswerTrust;
});

/** Stores a file of the set and returns its record entry. */
async function put(name: string, role: ResponseFile['role'], bytes: Buffer): Promise<ResponseFile> {
  const storeKey = `responses/T/20261125/NOTI/${name}`;
  const stored = await store.put(storeKey, Readable.from([bytes]));
  return { name, size: stored.size, sha256: stored.sha256, storeKey, role };
}

/** A two-part answer, each part signed by the local transfer point; `files` picks which ones. */
async function twoPartSet(pick: (file: ResponseFile) => boolean = () => true) {
  const files: ResponseFile[] = [];
  for (const part of ['1', '2']) {
    const data = Buffer.from(`<NOTIFICATION>part ${part}</NOTIFICATION>`);
    const path = join(dir, `FO.${ID}.${part}`);
    writeFileSync(path, data);
    const fs = (await signFile(path, transferPoint.material, { format: 'line' })).fs;
    files.push(await put(`FO.${ID}.${part}`, 'data', data));
    files.push(await put(`FS.${ID}.${part}`, 'signature', Buffer.from(fs)));
  }
  files.push(await put(`GO.${ID}`, 'go', Buffer.alloc(0)));
  const record: ResponseRecord = {
    id: ID,
    env: 'T',
    folder: 'OUTTEST',
    type: 'NOTI',
    files: files.filter(pick),
    state: 'stored',
    signature: 'unchecked',
    orphan: false,
    storedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  return record;
}

describe('checkResponseSignatures', () => {
  it('checks the FS of every part, pairing them by name, and the signer with a trust', async () => {
    const record = await twoPartSet();
    expect(await checkResponseSignatures(store, record, undefined, new Date())).toEqual({
      signature: 'valid',
    });
    expect(await checkResponseSignatures(store, record, trust, new Date())).toMatchObject({
      signature: 'valid',
      signer: { via: 'fingerprint', subject: 'CN=local transfer point' },
    });
  });

  it('a part without its FS makes the set invalid, even when the other part verifies', async () => {
    const record = await twoPartSet((file) => file.name !== `FS.${ID}.2`);
    expect(await checkResponseSignatures(store, record, undefined, new Date())).toEqual({
      signature: 'invalid',
      detail: `FO.${ID}.2 came without its FS`,
    });
  });

  it('an FS swapped onto the other part does not verify', async () => {
    const record = await twoPartSet();
    const [fo1, fs1, fo2, fs2, go] = record.files as [ResponseFile, ...ResponseFile[]];
    const swapped = {
      ...record,
      files: [fo1, { ...fs2, name: fs1?.name ?? '' }, fo2, { ...fs1, name: fs2?.name ?? '' }, go],
    } as ResponseRecord;
    expect(await checkResponseSignatures(store, swapped, undefined, new Date())).toMatchObject({
      signature: 'invalid',
      detail: expect.stringMatching(
        /^FS\.NOTI\.999999\.20261125\.00001\.T\.2\.1: the FI file does not match/,
      ),
    });
  });

  it('no FS at all is missing', async () => {
    const record = await twoPartSet((file) => file.role !== 'signature');
    expect(await checkResponseSignatures(store, record, trust, new Date())).toEqual({
      signature: 'missing',
      detail: 'the set came without an FS',
    });
  });
});
