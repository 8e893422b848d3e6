/**
 * The pure parts of the simulator, as tables: the answer XML, fingerprints, and how a file
 * name is read as a member of a set.
 */
import { X509Certificate } from 'node:crypto';
import { buildAcrfXml, buildNotificationXml, normalizeFingerprint } from '../../transfer-point';
import { certificateFingerprint } from '../../transfer-point';
import { formCreationStamp } from '../../transfer-point/response-xml';
import { setMemberOf } from '../../transfer-point/set-files';
import { makeIdentity } from '../helpers/pki';
import { readXml } from './helpers';

const AT = new Date('2026-07-01T10:00:00.123Z');

describe('buildAcrfXml', () => {
  it.each([
    { title: 'an acceptance', codes: [], result: '1', errors: undefined },
    { title: 'one refusal', codes: [120], result: '0', errors: ['ACRF-120'] },
    {
      title: 'two refusals, padded to 3 digits',
      codes: [88, 172],
      result: '0',
      errors: ['ACRF-088', 'ACRF-172'],
    },
  ])('writes $title', ({ codes, result, errors }) => {
    const xml = buildAcrfXml({
      fileName: 'GO.DMFA.123456.20260701.00001.T.1',
      ticket: 'SIMAB12000001',
      codes,
      createdAt: AT,
    });
    const { root, values } = readXml(xml);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ACRF ')).toBe(true);
    expect(root).toBe('ACRF');
    expect(values.get('ACRF/Form/Identification')).toEqual(['ACRF001']);
    expect(values.get('ACRF/Form/FormCreationDate')).toEqual(['2026-07-01']);
    expect(values.get('ACRF/Form/FormCreationHour')).toEqual(['12:00:00.123']);
    expect(values.get('ACRF/Form/TypeForm')).toEqual(['FA']);
    expect(values.get('ACRF/Form/FileReference/FileName')).toEqual([
      'GO.DMFA.123456.20260701.00001.T.1',
    ]);
    expect(values.get('ACRF/Form/FileReference/ReferenceOrigin')).toEqual(['2']);
    expect(values.get('ACRF/Form/FileReference/ReferenceNbr')).toEqual(['SIMAB12000001']);
    expect(values.get('ACRF/Form/ReceptionResult/ResultCode')).toEqual([result]);
    expect(values.get('ACRF/Form/ReceptionResult/ErrorID')).toEqual(errors);
  });

  it('keeps the XML well-formed whatever the uploaded name holds', () => {
    const fileName = 'GO.<x>&"\u0001';
    const { values } = readXml(
      buildAcrfXml({ fileName, ticket: 'T', codes: [107], createdAt: AT }),
    );
    expect(values.get('ACRF/Form/FileReference/FileName')).toEqual(['GO.<x>&\\u{22}\\u{1}']);
  });
});

describe('buildNotificationXml', () => {
  it('writes a NOTI001 form with both tickets and ResultCode 1', () => {
    const xml = buildNotificationXml({
      fileName: 'GO.DMFA.123456.20260701.00001.T.1',
      fileTicket: 'SIMAB12000001',
      handledForm: 'DMFA',
      declarationTicket: 'SIMAB12000002',
      createdAt: AT,
    });
    const { root, values } = readXml(xml);
    expect(root).toBe('NOTIFICATION');
    expect(values.get('NOTIFICATION/Form/Identification')).toEqual(['NOTI001']);
    expect(values.get('NOTIFICATION/Form/HandledOriginalForm/Identification')).toEqual(['DMFA']);
    expect(values.get('NOTIFICATION/Form/FileReference/ReferenceNbr')).toEqual(['SIMAB12000001']);
    expect(values.get('NOTIFICATION/Form/HandledReference/ReferenceNbr')).toEqual([
      'SIMAB12000002',
    ]);
    expect(values.get('NOTIFICATION/Form/HandlingResult/ResultCode')).toEqual(['1']);
  });
});

describe('formCreationStamp', () => {
  it.each([
    {
      title: 'summer time (UTC+2)',
      at: '2026-07-01T10:00:00.123Z',
      date: '2026-07-01',
      hour: '12:00:00.123',
    },
    {
      title: 'winter time past midnight',
      at: '2026-01-05T23:30:00.000Z',
      date: '2026-01-06',
      hour: '00:30:00.000',
    },
  ])('writes Brussels time in $title', ({ at, date, hour }) => {
    expect(formCreationStamp(new Date(at))).toEqual({ date, hour });
  });
});

describe('fingerprints', () => {
  const hex = 'ab'.repeat(32);
  const colons = Array(32).fill('AB').join(':');
  it.each([
    { title: 'lower case without colons', input: hex, expected: colons },
    { title: 'upper case with colons', input: colons, expected: colons },
    { title: 'with spaces', input: Array(32).fill('ab').join(' '), expected: colons },
    { title: 'too short', input: 'AB:CD', expected: undefined },
    { title: 'not hex', input: 'zz'.repeat(32), expected: undefined },
  ])('reads $title', ({ input, expected }) => {
    expect(normalizeFingerprint(input)).toBe(expected);
  });

  it('names a certificate as OpenSSL does', async () => {
    const { certPem } = await makeIdentity('ec256');
    const fingerprint = certificateFingerprint(new X509Certificate(certPem));
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(normalizeFingerprint(fingerprint)).toBe(fingerprint);
  });
});

describe('setMemberOf', () => {
  it.each([
    {
      name: 'FI.DMFA.123456.20260701.00001.T.2.1',
      expected: { prefix: 'FI', setKey: 'DMFA.123456.20260701.00001.T.2' },
    },
    {
      name: 'FS.DMFA.123456.20260701.00001.R.1.1',
      expected: { prefix: 'FS', setKey: 'DMFA.123456.20260701.00001.R.1' },
    },
    {
      name: 'GO.DMFA.123456.20260701.00001.T.2',
      expected: { prefix: 'GO', setKey: 'DMFA.123456.20260701.00001.T.2' },
    },
    { name: 'TD.DMFX.1.2.3.T.2', expected: { prefix: 'TD', setKey: 'DMFX.1.2.3.T.2' } },
    { name: 'GO.DMFA.123456.20260701.00001.T', expected: undefined },
    { name: 'FI.DMFA.123456.20260701.00001.T.1.1.part', expected: undefined },
    { name: 'GO.DMFA..20260701.00001.T.1', expected: undefined },
    { name: 'FO.ACRF.999999.20260701.00001.T.1', expected: undefined },
  ])('reads $name', ({ name, expected }) => {
    expect(setMemberOf(name)).toEqual(expected);
  });
});
