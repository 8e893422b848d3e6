import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  RESPONSE_ERROR_CODES,
  ResponseParseError,
  ResponseParserEndedError,
  ResponseParserOptionsError,
  ResponseTooLargeError,
  createResponseParser,
  parseResponseBuffer,
  parseResponseFile,
  parseResponseStream,
} from '../../shared/responses';
import type {
  AcrfForm,
  Anomaly,
  NotificationForm,
  ResponseDocument,
  ResponseParserOptions,
} from '../../shared/responses';
import type { DeclarationKey } from '../../shared/names';
import { buildAcrfXml, buildNotificationXml } from '../../transfer-point';
import { scratchDir } from '../helpers/pki';

const FIXTURES = join(__dirname, '..', 'fixtures', 'responses');
const { dir, cleanup } = scratchDir('onss-responses-');
afterAll(cleanup);

/** Feeds the input in chunks of `size` bytes (one chunk when undefined). */
function parseInChunks(
  input: Buffer,
  size?: number,
  options?: Partial<ResponseParserOptions>,
): ResponseDocument {
  const parser = createResponseParser(options);
  const step = size ?? Math.max(1, input.length);
  for (let i = 0; i < input.length; i += step) parser.write(input.subarray(i, i + step));
  return parser.end();
}

/**
 * Parses the input whole, then a byte at a time and in 7-byte chunks (splitting multi-byte
 * characters, tags and entities), and checks that every feed gives the same document.
 */
function parseEveryWay(input: Buffer, options?: Partial<ResponseParserOptions>): ResponseDocument {
  const whole = parseInChunks(input, undefined, options);
  for (const size of [1, 7]) expect(parseInChunks(input, size, options)).toStrictEqual(whole);
  return whole;
}

/** The error a parse throws, whatever the feed; checks that every feed throws the same kind. */
function failureOf(input: Buffer, options?: Partial<ResponseParserOptions>): unknown {
  const errors = [undefined, 1, 7].map((size) => {
    try {
      parseInChunks(input, size, options);
    } catch (error) {
      return error;
    }
    throw new Error(`no error with chunks of ${String(size)}`);
  });
  for (const error of errors) {
    expect(error).toBeInstanceOf((errors[0] as Error).constructor);
    expect((error as ResponseParseError).code).toBe((errors[0] as ResponseParseError).code);
  }
  return errors[0];
}

const xml = (text: string): Buffer => Buffer.from(text, 'utf8');
const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const acrf = (forms: string): Buffer => xml(`${DECL}<ACRF>${forms}</ACRF>`);
const noti = (forms: string): Buffer => xml(`${DECL}<NOTIFICATION>${forms}</NOTIFICATION>`);

const SAMPLE_KEY: DeclarationKey = {
  app: 'DMPI',
  sender: '012996',
  date: '20090718',
  seq: '50002',
  env: 'R',
};
const SAMPLE_PATH = [
  { name: 'NOSSRegistrationNbr', value: '156065072' },
  { name: 'Trusteeship', value: '0' },
  { name: 'CompanyID', value: '0400253292' },
  { name: 'NaturalPersonSequenceNbr', value: '1' },
  { name: 'INSS', value: '80111405125' },
  { name: 'EmployerClass', value: '000' },
  { name: 'WorkerCode', value: '015' },
  { name: 'JointCommissionNbr', value: '100' },
];

// Values read by eye from the three files of samples/responses (copied to test/fixtures).
const SAMPLES: Array<{ title: string; input: string; expected: ResponseDocument }> = [
  {
    title: 'the accepted acknowledgement',
    input: 'bartvertongen-acrf-20231-1-positive.xml',
    expected: {
      kind: 'acrf',
      forms: [
        {
          identification: 'ACRF001',
          typeForm: 'PA',
          fileName: 'GO.DMPI.012996.20090718.50002.R.1',
          answered: SAMPLE_KEY,
          ticket: '3400001Y1P01G',
          resultCode: 1,
          accepted: true,
          errors: [],
          errorCount: 0,
        },
      ],
      formCount: 1,
    },
  },
  {
    title: 'the rejected acknowledgement and its two ErrorIDs',
    input: 'bartvertongen-acrf-20231-2-negative.xml',
    expected: {
      kind: 'acrf',
      forms: [
        {
          identification: 'ACRF001',
          typeForm: 'PA',
          fileName: 'GO.DMPI.012996.20090718.50002.R.1',
          answered: SAMPLE_KEY,
          ticket: '3400001Y1P01G',
          resultCode: 0,
          accepted: false,
          errors: [
            { id: 'ACRF-088', code: 88, label: 'unknown schema' },
            { id: 'ACRF-172', code: 172, label: 'too many declarations for this file size' },
          ],
          errorCount: 2,
        },
      ],
      formCount: 1,
    },
  },
  {
    title: 'the rejected notification and its four anomalies',
    input: 'bartvertongen-notification-20224-2-rejected.xml',
    expected: {
      kind: 'notification',
      forms: [
        {
          identification: 'NOTI001',
          typeForm: 'FA',
          handledForm: 'AOAT001',
          fileName: 'GO.AOAT.000001.20090728.30000.R',
          answered: { app: 'AOAT', sender: '000001', date: '20090728', seq: '30000', env: 'R' },
          fileTicket: '380000B5WY00D',
          declarationTicket: '340000JEDW006',
          resultCode: 0,
          result: 'refused',
          accepted: false,
          withAnomalies: true,
          anomalies: [
            {
              errorId: '90024-091',
              zone: '90024',
              code: 91,
              anomalyClass: 'B',
              tagName: 'Accident',
              value: 'AccidentNotificationDate',
              location: { lineNbr: 86, columnNbr: 20, location: '1,1,8,4,13,3,12,1' },
              path: SAMPLE_PATH,
            },
            {
              errorId: '90004-091',
              zone: '90004',
              code: 91,
              anomalyClass: 'B',
              tagName: 'Work',
              value: 'ContractDurationCode',
              location: { lineNbr: 107, columnNbr: 17, location: '1,1,8,4,13,3,12,2,3' },
              path: SAMPLE_PATH,
            },
            {
              errorId: '00237-008',
              zone: '00237',
              code: 8,
              anomalyClass: 'B',
              tagName: 'AccidentDate',
              value: '2007-03-13',
              location: { location: '1,1,8,4,13,3,12,1,1' },
            },
            {
              errorId: '00267-207',
              zone: '00267',
              code: 207,
              anomalyClass: 'B',
              tagName: 'DimonaNbr',
              value: '501986975557',
              location: { location: '1,1,8,4,13,3,12,2,3,2' },
            },
          ],
          anomalyCount: 4,
        },
      ],
      formCount: 1,
    },
  },
];

describe('the real samples', () => {
  it.each(SAMPLES)('$title', async ({ input, expected }) => {
    const path = join(FIXTURES, input);
    const bytes = readFileSync(path);
    expect(parseEveryWay(bytes)).toStrictEqual(expected);
    expect(parseResponseBuffer(bytes)).toStrictEqual(expected);
    expect(await parseResponseFile(path)).toStrictEqual(expected);
    expect(await parseResponseStream(createReadStream(path, { highWaterMark: 100 }))).toStrictEqual(
      expected,
    );
  });
});

const CREATED = new Date('2026-01-15T10:00:00Z');
const SIM_NAME = 'GO.DMFA.101380.20260115.00001.T.1';
const SIM_KEY: DeclarationKey = {
  app: 'DMFA',
  sender: '101380',
  date: '20260115',
  seq: '00001',
  env: 'T',
};

describe("the local transfer point's answers", () => {
  const table: Array<{ title: string; input: string; expected: ResponseDocument }> = [
    {
      title: 'an accepted acknowledgement',
      input: buildAcrfXml({
        fileName: SIM_NAME,
        ticket: 'T20260115000001',
        codes: [],
        createdAt: CREATED,
      }),
      expected: {
        kind: 'acrf',
        forms: [
          {
            identification: 'ACRF001',
            typeForm: 'FA',
            fileName: SIM_NAME,
            answered: SIM_KEY,
            ticket: 'T20260115000001',
            resultCode: 1,
            accepted: true,
            errors: [],
            errorCount: 0,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'a rejection with several codes, one unpublished',
      input: buildAcrfXml({
        fileName: SIM_NAME,
        ticket: 'T2',
        codes: [120, 125, 7],
        createdAt: CREATED,
      }),
      expected: {
        kind: 'acrf',
        forms: [
          {
            identification: 'ACRF001',
            typeForm: 'FA',
            fileName: SIM_NAME,
            answered: SIM_KEY,
            ticket: 'T2',
            resultCode: 0,
            accepted: false,
            errors: [
              { id: 'ACRF-120', code: 120, label: 'wrong number of FI files' },
              { id: 'ACRF-125', code: 125, label: 'invalid signature' },
              { id: 'ACRF-007', code: 7, label: 'unpublished reception code 007' },
            ],
            errorCount: 3,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'a rejection of a name outside the grammar (no key, still read)',
      input: buildAcrfXml({
        fileName: 'GO.DMFA.1&<2.x',
        ticket: 'T3',
        codes: [107],
        createdAt: CREATED,
      }),
      expected: {
        kind: 'acrf',
        forms: [
          {
            identification: 'ACRF001',
            typeForm: 'FA',
            fileName: 'GO.DMFA.1&<2.x',
            ticket: 'T3',
            resultCode: 0,
            accepted: false,
            errors: [{ id: 'ACRF-107', code: 107, label: 'GO file name malformed' }],
            errorCount: 1,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'a notification',
      input: buildNotificationXml({
        fileName: SIM_NAME,
        fileTicket: 'T20260115000001',
        handledForm: 'DMFA',
        declarationTicket: 'D20260115000001',
        createdAt: CREATED,
      }),
      expected: {
        kind: 'notification',
        forms: [
          {
            identification: 'NOTI001',
            typeForm: 'FA',
            handledForm: 'DMFA',
            fileName: SIM_NAME,
            answered: SIM_KEY,
            fileTicket: 'T20260115000001',
            declarationTicket: 'D20260115000001',
            resultCode: 1,
            result: 'accepted',
            accepted: true,
            withAnomalies: false,
            anomalies: [],
            anomalyCount: 0,
          },
        ],
        formCount: 1,
      },
    },
  ];
  it.each(table)('$title', ({ input, expected }) => {
    expect(parseEveryWay(xml(input))).toStrictEqual(expected);
  });
});

/** A notification Form with the given inside, and the defaults of an empty one. */
const emptyNotification: NotificationForm = {
  identification: undefined,
  typeForm: undefined,
  resultCode: undefined,
  result: 'unknown',
  accepted: false,
  withAnomalies: false,
  anomalies: [],
  anomalyCount: 0,
};
const emptyAcrf: AcrfForm = {
  identification: undefined,
  typeForm: undefined,
  resultCode: undefined,
  accepted: false,
  errors: [],
  errorCount: 0,
};

describe('documents of every shape', () => {
  const table: Array<{
    title: string;
    input: Buffer;
    options?: Partial<ResponseParserOptions>;
    expected: ResponseDocument;
  }> = [
    {
      title: 'prefixes, namespaces, attributes, unknown elements, comments, PIs, CDATA, entities',
      input: xml(
        `${DECL}<!-- before --><?app hint?><ns1:ACRF xmlns:ns1="urn:onss:acrf" xmlns:y="urn:y" y:v="1">` +
          '<ns1:Form id="a"><y:Extra><FileName>NOT-THIS</FileName><Form/></y:Extra>' +
          '<ns1:Identification>ACRF001</ns1:Identification>' +
          '<ns1:FileReference><y:FileName> GO.DMFA.101380.20260115.00001.T.1 </y:FileName>' +
          '<!-- a comment --><ReferenceNbr>A&amp;B<![CDATA[<C>]]>&#68;</ReferenceNbr></ns1:FileReference>' +
          '<ReceptionResult><ResultCode>\r\n\t1\r\n</ResultCode><Unknown>9</Unknown></ReceptionResult>' +
          '</ns1:Form></ns1:ACRF><!-- after -->',
      ),
      expected: {
        kind: 'acrf',
        forms: [
          {
            ...emptyAcrf,
            identification: 'ACRF001',
            fileName: SIM_NAME,
            answered: SIM_KEY,
            ticket: 'A&B<C>D',
            resultCode: 1,
            accepted: true,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'several acknowledgement Forms',
      input: acrf(
        [1, 2, 3]
          .map(
            (n) =>
              `<Form><FileReference><FileName>GO.DMFA.101380.20260115.0000${n}.T.1</FileName>` +
              `<ReferenceNbr>T${n}</ReferenceNbr></FileReference><ReceptionResult>` +
              `<ResultCode>${n === 2 ? 0 : 1}</ResultCode>${n === 2 ? '<ErrorID>ACRF-133</ErrorID>' : ''}` +
              '</ReceptionResult></Form>',
          )
          .join('\n'),
      ),
      expected: {
        kind: 'acrf',
        forms: [1, 2, 3].map((n) => ({
          ...emptyAcrf,
          fileName: `GO.DMFA.101380.20260115.0000${n}.T.1`,
          answered: { ...SIM_KEY, seq: `0000${n}` },
          ticket: `T${n}`,
          resultCode: n === 2 ? 0 : 1,
          accepted: n !== 2,
          errors: n === 2 ? [{ id: 'ACRF-133', code: 133, label: 'file name already sent' }] : [],
          errorCount: n === 2 ? 1 : 0,
        })),
        formCount: 3,
      },
    },
    {
      title: 'an empty Form and a Form with empty elements',
      input: acrf(
        '<Form/><Form><Identification></Identification><TypeForm> </TypeForm>' +
          '<FileReference><FileName/></FileReference><ReceptionResult><ResultCode>x</ResultCode>' +
          '<ErrorID/></ReceptionResult></Form>',
      ),
      expected: {
        kind: 'acrf',
        forms: [
          emptyAcrf,
          {
            ...emptyAcrf,
            errors: [{ id: '', label: 'not a reception error id of the form ACRF-nnn' }],
            errorCount: 1,
          },
        ],
        formCount: 2,
      },
    },
    {
      title: 'an acknowledgement with no Form',
      input: xml('<ACRF/>'),
      expected: { kind: 'acrf', forms: [], formCount: 0 },
    },
    {
      title: 'a notification with every field, references of both origins and a diagnosis',
      input: noti(
        '<Form><Identification>NOTI001</Identification><TypeForm>FA</TypeForm>' +
          '<Reference><ReferenceType>1</ReferenceType><ReferenceOrigin>2</ReferenceOrigin>' +
          '<ReferenceNbr>THEIRS</ReferenceNbr></Reference>' +
          '<Reference><ReferenceNbr>MINE</ReferenceNbr><ReferenceOrigin>1</ReferenceOrigin></Reference>' +
          '<Reference><ReferenceOrigin>1</ReferenceOrigin><ReferenceNbr>MINE-2</ReferenceNbr></Reference>' +
          '<HandledOriginalForm><Identification>DMFA</Identification></HandledOriginalForm>' +
          '<HandledReference><ReferenceNbr>D1</ReferenceNbr></HandledReference>' +
          '<HandlingResult><ResultCode>1</ResultCode><Diagnosis>0</Diagnosis>' +
          '<AnomalyReport><ErrorID>00024-133</ErrorID><AnomalyClass>W</AnomalyClass>' +
          '<AnomalyLabel>Name already sent</AnomalyLabel><SystemCorrection>none</SystemCorrection>' +
          '<AnomalyLocation><LineNbr>x</LineNbr><ColumnNbr>4</ColumnNbr></AnomalyLocation>' +
          '<Path>flat path</Path></AnomalyReport>' +
          '<AnomalyReport><ErrorID>bad id</ErrorID><AnomalyClass>Z</AnomalyClass>' +
          '<AnomalyReport><ErrorID>nested</ErrorID></AnomalyReport></AnomalyReport>' +
          '<AnomalyReport/></HandlingResult></Form>',
      ),
      expected: {
        kind: 'notification',
        forms: [
          {
            ...emptyNotification,
            identification: 'NOTI001',
            typeForm: 'FA',
            handledForm: 'DMFA',
            declarationTicket: 'D1',
            senderReference: 'MINE',
            resultCode: 1,
            result: 'accepted',
            accepted: true,
            withAnomalies: true,
            diagnosis: 0,
            anomalies: [
              {
                errorId: '00024-133',
                zone: '00024',
                code: 133,
                label: 'file name already sent',
                anomalyClass: 'W',
                anomalyLabel: 'Name already sent',
                location: { columnNbr: 4 },
                path: [{ name: 'Path', value: 'flat path' }],
                systemCorrection: 'none',
              },
              { errorId: 'bad id', anomalyClass: 'Z' },
              { errorId: '' },
            ],
            anomalyCount: 3,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'notifications of every result code, and anomalies outside HandlingResult',
      input: noti(
        ['0', '1', '2', '3', '4', '7', 'OK', '']
          .map(
            (code) =>
              `<Form>${code === '' ? '' : `<HandlingResult><ResultCode>${code}</ResultCode></HandlingResult>`}` +
              `${code === '7' ? '<Diagnosis>3</Diagnosis><Deep><AnomalyReport><ErrorID>00001-102</ErrorID></AnomalyReport></Deep>' : ''}</Form>`,
          )
          .join(''),
      ),
      expected: {
        kind: 'notification',
        forms: [
          { ...emptyNotification, resultCode: 0, result: 'refused' },
          { ...emptyNotification, resultCode: 1, result: 'accepted', accepted: true },
          { ...emptyNotification, resultCode: 2, result: 'proposal' },
          { ...emptyNotification, resultCode: 3, result: 'provisional' },
          { ...emptyNotification, resultCode: 4, result: 'timeout' },
          {
            ...emptyNotification,
            resultCode: 7,
            diagnosis: 3,
            withAnomalies: true,
            anomalies: [
              { errorId: '00001-102', zone: '00001', code: 102, label: 'incorrect XML syntax' },
            ],
            anomalyCount: 1,
          },
          emptyNotification,
          emptyNotification,
        ],
        formCount: 8,
      },
    },
    {
      title: 'a UTF-8 byte order mark and accents',
      input: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        noti(
          '<Form><HandlingResult><AnomalyReport><ErrorID>00001-001</ErrorID>' +
            '<AnomalyLabel>Données erronées € 😀</AnomalyLabel></AnomalyReport></HandlingResult></Form>',
        ),
      ]),
      expected: {
        kind: 'notification',
        forms: [
          {
            ...emptyNotification,
            withAnomalies: true,
            anomalies: [
              {
                errorId: '00001-001',
                zone: '00001',
                code: 1,
                anomalyLabel: 'Données erronées € 😀',
              },
            ],
            anomalyCount: 1,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'ISO-8859-1, declared',
      input: Buffer.from(
        '<?xml version="1.0" encoding="ISO-8859-1"?><ACRF><Form><Identification>Reçu</Identification></Form></ACRF>',
        'latin1',
      ),
      expected: {
        kind: 'acrf',
        forms: [{ ...emptyAcrf, identification: 'Reçu' }],
        formCount: 1,
      },
    },
    {
      title: 'no XML declaration',
      input: xml('<ACRF><Form><TypeForm>FA</TypeForm></Form></ACRF>'),
      expected: { kind: 'acrf', forms: [{ ...emptyAcrf, typeForm: 'FA' }], formCount: 1 },
    },
    {
      title: 'an unknown root',
      input: xml(
        `${DECL}<DmfAOriginal><Form><Identification>DMFA</Identification></Form></DmfAOriginal>`,
      ),
      expected: { kind: 'other', root: 'DmfAOriginal' },
    },
    {
      title: 'an unknown root with a prefix',
      input: xml('<p:AnswerX xmlns:p="urn:p"><p:Form/></p:AnswerX>'),
      expected: { kind: 'other', root: 'AnswerX' },
    },
    {
      title: 'a root in the wrong case',
      input: xml('<acrf><Form/></acrf>'),
      expected: { kind: 'other', root: 'acrf' },
    },
    {
      title: 'text cut at maxTextChars, including CDATA and a long run',
      input: acrf(
        `<Form><Identification>${'i'.repeat(50)}</Identification>` +
          `<TypeForm><![CDATA[${'c'.repeat(5)}]]>${'t'.repeat(40)}</TypeForm>` +
          `<FileReference><FileName>${'n'.repeat(30)}<!--x-->${'m'.repeat(5000)}</FileName>` +
          `<ReferenceNbr>T1</ReferenceNbr></FileReference><Unread>${'u'.repeat(5000)}</Unread>` +
          `<ReceptionResult><ResultCode>${' '.repeat(3000)}1</ResultCode></ReceptionResult></Form>`,
      ),
      options: { maxTextChars: 20 },
      expected: {
        kind: 'acrf',
        forms: [
          {
            ...emptyAcrf,
            identification: 'i'.repeat(20),
            typeForm: `${'c'.repeat(5)}${'t'.repeat(15)}`,
            fileName: 'n'.repeat(20),
            ticket: 'T1',
            // The first 20 characters are blanks: what is kept is cut before it is trimmed.
            resultCode: undefined,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'anomalies and ErrorIDs kept up to maxAnomalies, counted past it',
      input: xml(
        `<NOTIFICATION>${[3, 2]
          .map(
            (count, form) =>
              `<Form><HandlingResult>${Array.from(
                { length: count },
                (_, i) => `<AnomalyReport><ErrorID>0000${form}-00${i}</ErrorID></AnomalyReport>`,
              ).join('')}</HandlingResult></Form>`,
          )
          .join('')}</NOTIFICATION>`,
      ),
      options: { maxAnomalies: 2 },
      expected: {
        kind: 'notification',
        forms: [
          {
            ...emptyNotification,
            withAnomalies: true,
            anomalies: [
              { errorId: '00000-000', zone: '00000', code: 0 },
              { errorId: '00000-001', zone: '00000', code: 1 },
            ],
            anomalyCount: 3,
          },
          { ...emptyNotification, withAnomalies: true, anomalyCount: 2 },
        ],
        formCount: 2,
      },
    },
    {
      title: 'ErrorIDs kept up to maxAnomalies',
      input: acrf(
        '<Form><ReceptionResult><ResultCode>0</ResultCode><ErrorID>ACRF-120</ErrorID>' +
          '<ErrorID>ACRF-122</ErrorID><ErrorID>ACRF-123</ErrorID></ReceptionResult></Form>',
      ),
      options: { maxAnomalies: 1 },
      expected: {
        kind: 'acrf',
        forms: [
          {
            ...emptyAcrf,
            resultCode: 0,
            errors: [{ id: 'ACRF-120', code: 120, label: 'wrong number of FI files' }],
            errorCount: 3,
          },
        ],
        formCount: 1,
      },
    },
    {
      title: 'Forms kept up to maxForms, counted past it',
      input: acrf('<Form><TypeForm>FA</TypeForm></Form>'.repeat(4)),
      options: { maxForms: 1 },
      expected: { kind: 'acrf', forms: [{ ...emptyAcrf, typeForm: 'FA' }], formCount: 4 },
    },
    {
      title: 'at most 32 Path fields per anomaly',
      input: noti(
        `<Form><AnomalyReport><ErrorID>1-001</ErrorID><Path>${Array.from(
          { length: 40 },
          (_, i) => `<F${i}>${i}</F${i}>`,
        ).join('')}</Path></AnomalyReport></Form>`,
      ),
      expected: {
        kind: 'notification',
        forms: [
          {
            ...emptyNotification,
            withAnomalies: true,
            anomalies: [
              {
                errorId: '1-001',
                zone: '1',
                code: 1,
                path: Array.from({ length: 32 }, (_, i) => ({ name: `F${i}`, value: String(i) })),
              },
            ],
            anomalyCount: 1,
          },
        ],
        formCount: 1,
      },
    },
  ];
  it.each(table)('$title', ({ input, options, expected }) => {
    expect(parseEveryWay(input, options)).toStrictEqual(expected);
  });
});

describe('responses that cannot be read', () => {
  const BOMB =
    '<?xml version="1.0"?><!DOCTYPE ACRF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' +
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><ACRF><Form><Identification>&c;</Identification></Form></ACRF>';
  const table: Array<{
    title: string;
    input: Buffer;
    options?: Partial<ResponseParserOptions>;
    expected: { type: new (...args: never[]) => Error; code: string; message: RegExp };
  }> = [
    {
      title: 'an unclosed element',
      input: xml('<ACRF><Form><Identification>ACRF001</Identification></Form>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /unclosed tag/ },
    },
    {
      title: 'a mismatched closing tag',
      input: xml('<ACRF><Form></Frm></ACRF>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /well-formed/ },
    },
    {
      title: 'two roots',
      input: xml('<ACRF/><ACRF/>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /well-formed/ },
    },
    {
      title: 'text after the root',
      input: xml('<ACRF/>trailing'),
      expected: {
        type: ResponseParseError,
        code: 'RESPONSE_MALFORMED',
        message: /outside of root/,
      },
    },
    {
      title: 'garbage',
      input: xml('this is not XML at all'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /well-formed/ },
    },
    {
      title: 'binary garbage',
      input: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /well-formed/ },
    },
    {
      title: 'an empty file',
      input: Buffer.alloc(0),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /empty/ },
    },
    {
      title: 'an unknown root that is not well-formed (checked all the same)',
      input: xml('<DMNO><Form></DMNO>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /well-formed/ },
    },
    {
      title: 'an XML declaration alone',
      input: xml(DECL),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /root element/ },
    },
    {
      title: 'an entity bomb (refused at its DOCTYPE, never expanded)',
      input: xml(BOMB),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /DOCTYPE/ },
    },
    {
      title: 'a DOCTYPE without entities',
      input: xml('<!DOCTYPE ACRF><ACRF/>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /DOCTYPE/ },
    },
    {
      title: 'an undeclared entity',
      input: xml('<ACRF><Form><TypeForm>&lol;</TypeForm></Form></ACRF>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /entity/ },
    },
    {
      title: 'a bare ampersand',
      input: xml('<ACRF><Form><TypeForm>AT&T</TypeForm></Form></ACRF>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /entity/ },
    },
    {
      title: 'a bare ampersand in an attribute',
      input: xml('<ACRF a="&x"><Form/></ACRF>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /entity/ },
    },
    {
      title: 'Latin-1 bytes in a UTF-8 response',
      input: Buffer.concat([
        xml(`${DECL}<ACRF><Form><TypeForm>Re`),
        Buffer.from([0xe7]),
        xml('u</TypeForm></Form></ACRF>'),
      ]),
      expected: {
        type: ResponseParseError,
        code: 'RESPONSE_MALFORMED',
        message: /not valid utf-8/,
      },
    },
    {
      title: 'a UTF-8 sequence cut at the end',
      input: Buffer.concat([xml('<ACRF/>'), Buffer.from([0xe2, 0x82])]),
      expected: {
        type: ResponseParseError,
        code: 'RESPONSE_MALFORMED',
        message: /not valid utf-8/,
      },
    },
    {
      title: 'a control character',
      input: xml('<ACRF><Form><TypeForm>\u0001</TypeForm></Form></ACRF>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /character/ },
    },
    {
      title: 'UTF-16',
      input: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<ACRF/>', 'utf16le')]),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /UTF-16/ },
    },
    {
      title: 'an encoding not read',
      input: xml('<?xml version="1.0" encoding="EBCDIC-CP-BE"?><ACRF/>'),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /EBCDIC-CP-BE/ },
    },
    {
      title: 'a UTF-8 byte order mark with another encoding declared',
      input: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        xml('<?xml version="1.0" encoding="ISO-8859-1"?><ACRF/>'),
      ]),
      expected: {
        type: ResponseParseError,
        code: 'RESPONSE_MALFORMED',
        message: /byte order mark/,
      },
    },
    {
      title: 'an encoding declared past the first 256 bytes',
      input: xml(`<?xml version="1.0"${' '.repeat(300)}encoding="ISO-8859-1"?><ACRF/>`),
      expected: { type: ResponseParseError, code: 'RESPONSE_MALFORMED', message: /not the one/ },
    },
    {
      title: 'a comment longer than maxMarkupChars',
      input: xml(`<ACRF><!--${'-x'.repeat(1000)}--></ACRF>`),
      options: { maxMarkupChars: 1024 },
      expected: { type: ResponseTooLargeError, code: 'RESPONSE_TOO_LARGE', message: /1024/ },
    },
    {
      title: 'an attribute value longer than maxMarkupChars (with > in it)',
      input: xml(`<ACRF a="${'>'.repeat(2000)}"/>`),
      options: { maxMarkupChars: 1024 },
      expected: { type: ResponseTooLargeError, code: 'RESPONSE_TOO_LARGE', message: /1024/ },
    },
    {
      title: 'a CDATA section longer than maxMarkupChars',
      input: xml(`<ACRF><Form><TypeForm><![CDATA[${']>'.repeat(1000)}]]></TypeForm></Form></ACRF>`),
      options: { maxMarkupChars: 1024 },
      expected: { type: ResponseTooLargeError, code: 'RESPONSE_TOO_LARGE', message: /1024/ },
    },
    {
      title: 'a processing instruction longer than maxMarkupChars',
      input: xml(`<ACRF><?pi ${'?'.repeat(2000)} ?></ACRF>`),
      options: { maxMarkupChars: 1024 },
      expected: { type: ResponseTooLargeError, code: 'RESPONSE_TOO_LARGE', message: /1024/ },
    },
  ];
  it.each(table)('$title', ({ input, options, expected }) => {
    const error = failureOf(input, options);
    expect(error).toBeInstanceOf(expected.type);
    expect(error).toMatchObject({ code: expected.code, offset: expect.any(Number) });
    expect((error as Error).message).toMatch(expected.message);
  });

  it('keeps the cause and an offset within the slice of the problem', () => {
    const good = xml(`<ACRF><Form><Unread>${'x'.repeat(200_000)}</Unread>`);
    const error = failureOf(Buffer.concat([good, xml('</Frm></ACRF>')])) as ResponseParseError;
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.offset).toBeGreaterThanOrEqual(good.length);
    expect(error.offset).toBeLessThanOrEqual(good.length + 64 * 1024);
  });

  it('throws the first failure again on later calls, then refuses a parser that has ended', () => {
    const parser = createResponseParser();
    // Past the 256 bytes the parser holds back to read the encoding.
    expect(() => parser.write(xml(`<ACRF>${' '.repeat(300)}<A></B>`))).toThrow(ResponseParseError);
    expect(() => parser.write(xml('</ACRF>'))).toThrow(ResponseParseError);
    expect(() => parser.end()).toThrow(ResponseParseError);

    const ended = createResponseParser();
    ended.write(xml('<ACRF/>'));
    expect(ended.end()).toStrictEqual({ kind: 'acrf', forms: [], formCount: 0 });
    expect(ended.bytes).toBe(7);
    expect(() => ended.write(xml(' '))).toThrow(ResponseParserEndedError);
    expect(() => ended.end()).toThrow(
      expect.objectContaining({ code: RESPONSE_ERROR_CODES.RESPONSE_PARSER_ENDED }),
    );
  });

  it.each([
    { title: 'a negative maxAnomalies', input: { maxAnomalies: -1 } },
    { title: 'a fractional maxTextChars', input: { maxTextChars: 1.5 } },
    { title: 'a maxTextChars of 0', input: { maxTextChars: 0 } },
    { title: 'a tiny maxMarkupChars', input: { maxMarkupChars: 10 } },
    { title: 'a NaN maxForms', input: { maxForms: Number.NaN } },
  ])('refuses options with $title', ({ input }) => {
    expect(() => createResponseParser(input)).toThrow(ResponseParserOptionsError);
    expect(() => createResponseParser(input)).toThrow(
      expect.objectContaining({ code: RESPONSE_ERROR_CODES.RESPONSE_PARSER_OPTIONS_INVALID }),
    );
  });

  it('refuses a stream of strings', async () => {
    await expect(parseResponseStream(Readable.from(['<ACRF/>']))).rejects.toThrow(TypeError);
  });

  it('raises a malformed file read from disk', async () => {
    const path = join(dir, 'FO.ACRF.999999.20260115.00001.T');
    writeFileSync(path, '<ACRF><Form>');
    await expect(parseResponseFile(path)).rejects.toThrow(ResponseParseError);
  });
});

describe('what an Anomaly leaves out', () => {
  it('has no key for a field the file does not hold', () => {
    const document = parseResponseBuffer(noti('<Form><AnomalyReport/></Form>'));
    const anomaly = (document as { forms: NotificationForm[] }).forms[0]?.anomalies[0] as Anomaly;
    expect(Object.keys(anomaly)).toEqual(['errorId']);
  });
});
