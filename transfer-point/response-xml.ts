/**
 * The XML of the answers, shaped after the published samples (`samples/responses/`): an
 * acknowledgement of receipt (root `ACRF`) and a notification (root `NOTIFICATION`). Pure
 * functions: the same input gives the same bytes, which keeps them table-testable.
 */
import { acrfCode } from '../shared/errors';
import { BRUSSELS_DAY_OPTIONS, printableName } from '../shared/names';
import { RESPONSE_FORMS } from './constants';

/** What an acknowledgement of receipt says about one GO. */
export interface AcrfContent {
  /** The file it answers (the GO name), shown as printable text. */
  fileName: string;
  /** Ticket number, at most 20 characters. */
  ticket: string;
  /** ACRF codes of the refusal; empty means accepted (ResultCode 1). */
  codes: readonly number[];
  /** Creation time of the answer, written in Brussels time. */
  createdAt: Date;
}

/** What a notification says about an accepted declaration. */
export interface NotificationContent {
  /** The file it is about (the GO name). */
  fileName: string;
  /** Ticket of the file, as in its acknowledgement. */
  fileTicket: string;
  /** Form identification of the declaration handled (e.g. `DMFA`). */
  handledForm: string;
  /** Ticket of the declaration itself. */
  declarationTicket: string;
  /** Creation time of the answer, written in Brussels time. */
  createdAt: Date;
}

const BRUSSELS_TIME = new Intl.DateTimeFormat('en-GB', {
  ...BRUSSELS_DAY_OPTIONS,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hourCycle: 'h23',
});

/** `FormCreationDate` (YYYY-MM-DD) and `FormCreationHour` (HH:MM:SS.mmm) in Brussels time. */
export function formCreationStamp(at: Date): { date: string; hour: string } {
  const parts = BRUSSELS_TIME.formatToParts(at);
  const pick = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((part) => part.type === type)?.value ?? '';
  return {
    date: `${pick('year')}-${pick('month')}-${pick('day')}`,
    hour: `${pick('hour')}:${pick('minute')}:${pick('second')}.${pick('fractionalSecond')}`,
  };
}

/**
 * Escapes text for an XML element. The name comes from an upload and may hold anything, so it
 * goes through printableName first: control characters, which XML 1.0 cannot carry, become
 * `\u{...}` and the text is cut at 120 characters.
 */
export function escapeXmlText(text: string): string {
  return printableName(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function document(form: { root: string; schema: string }, body: string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<${form.root} xmlns:xsi="${XSI}" xsi:noNamespaceSchemaLocation="${form.schema}">`,
    '\t<Form>',
    ...body.map((line) => `\t\t${line}`),
    '\t</Form>',
    `</${form.root}>`,
    '',
  ].join('\n');
}

function header(identification: string, createdAt: Date): string[] {
  const { date, hour } = formCreationStamp(createdAt);
  return [
    `<Identification>${identification}</Identification>`,
    `<FormCreationDate>${date}</FormCreationDate>`,
    `<FormCreationHour>${hour}</FormCreationHour>`,
    '<AttestationStatus>0</AttestationStatus>',
    // FA, final answer: the simulator decides at once and never sends a provisional one.
    '<TypeForm>FA</TypeForm>',
  ];
}

function fileReference(fileName: string, ticket: string): string[] {
  return [
    '<FileReference>',
    `\t<FileName>${escapeXmlText(fileName)}</FileName>`,
    '\t<ReferenceOrigin>2</ReferenceOrigin>',
    `\t<ReferenceNbr>${escapeXmlText(ticket)}</ReferenceNbr>`,
    '</FileReference>',
  ];
}

/**
 * The acknowledgement of receipt for one GO: ResultCode 1 when `codes` is empty, else 0 with
 * one ErrorID per code (`ACRF-120`).
 */
export function buildAcrfXml(content: AcrfContent): string {
  const form = RESPONSE_FORMS.ACRF;
  const result = content.codes.length === 0 ? '1' : '0';
  return document(form, [
    ...header(form.identification, content.createdAt),
    ...fileReference(content.fileName, content.ticket),
    '<ReceptionResult>',
    `\t<ResultCode>${result}</ResultCode>`,
    ...content.codes.map((code) => `\t<ErrorID>${acrfCode(code)}</ErrorID>`),
    '</ReceptionResult>',
  ]);
}

/** A notification that the declaration was handled without blocking anomaly (ResultCode 1). */
export function buildNotificationXml(content: NotificationContent): string {
  const form = RESPONSE_FORMS.NOTI;
  return document(form, [
    ...header(form.identification, content.createdAt),
    ...fileReference(content.fileName, content.fileTicket),
    '<HandledOriginalForm>',
    `\t<Identification>${escapeXmlText(content.handledForm)}</Identification>`,
    '</HandledOriginalForm>',
    '<HandledReference>',
    '\t<ReferenceType>1</ReferenceType>',
    '\t<ReferenceOrigin>2</ReferenceOrigin>',
    `\t<ReferenceNbr>${escapeXmlText(content.declarationTicket)}</ReferenceNbr>`,
    '</HandledReference>',
    '<HandlingResult>',
    '\t<ResultCode>1</ResultCode>',
    '</HandlingResult>',
  ]);
}
