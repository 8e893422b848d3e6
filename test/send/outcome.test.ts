import { OutboxOperationKeyError } from '../../shared/operations';
import { ContentRuleError } from '../../shared/content/errors';
import { createMemoryLedger, LedgerStoreError } from '../../shared/ledger';
import type { DeclarationRecord } from '../../shared/ledger';
import { parseDeclarationName } from '../../shared/names';
import { EVENT_TYPES } from '../../shared/notify';
import {
  classifySendFailure,
  DuplicateContentError,
  EarlierFailureError,
  failedEvent,
  notifyQuietly,
  OutboxKeyError,
  SourceChangedError,
} from '../../shared/send';
import {
  DuplicateSourceError,
  LeaseLostError,
  NameAlreadySentError,
  SendInProgressError,
} from '../../shared/ledger';
import {
  TransportAuthError,
  TransportConnectError,
  TransportRefusedError,
} from '../../shared/transport';
import { claimRequest, own, source } from '../ledger/fixtures';

async function aRecord(): Promise<DeclarationRecord> {
  const ledger = createMemoryLedger();
  const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
  return record;
}

function nameError(): unknown {
  try {
    parseDeclarationName('FI.DMFA.12345.20261125.00001.R.1.1');
  } catch (error) {
    return error;
  }
  throw new Error('the name was accepted');
}

describe('classifySendFailure', () => {
  it('says done for a source already sent or held by another run', async () => {
    const record = await aRecord();
    expect(classifySendFailure(new DuplicateSourceError(record))).toBe('done');
    expect(classifySendFailure(new LeaseLostError(record))).toBe('done');
  });

  it('says refused for what the declaration itself breaks', async () => {
    const record = await aRecord();
    const refusals: unknown[] = [
      nameError(),
      new ContentRuleError('not well-formed', 'ACRF-102'),
      new DuplicateContentError('A', 'B'),
      new NameAlreadySentError(record, false),
      new SourceChangedError('s3://b/k'),
      new OutboxKeyError('k', 'is odd'),
      new OutboxOperationKeyError('outbox/cancel/x', 'does not name a set'),
    ];
    for (const error of refusals) expect(classifySendFailure(error)).toBe('refused');
  });

  it('says retry for everything that may work later or needs an operator', async () => {
    const record = await aRecord();
    const retries: unknown[] = [
      new SendInProgressError(record, '2026-11-25T10:00:00.000Z'),
      new LedgerStoreError('throttled'),
      new TransportConnectError('refused'),
      new TransportAuthError('530 Login incorrect'),
      new Error('unknown'),
      'a string',
    ];
    for (const error of retries) expect(classifySendFailure(error)).toBe('retry');
  });

  it('says refused for any failure after which the run recorded its set failed', () => {
    const permanent = new TransportRefusedError('put IN/FI.x: 550 Is a directory', 550);
    expect(classifySendFailure(permanent)).toBe('retry');
    expect(classifySendFailure(permanent, { abandoned: true })).toBe('refused');
  });

  it('says done for a source whose set already failed: it was reported then', async () => {
    const record = { ...(await aRecord()), state: 'failed' as const };
    expect(classifySendFailure(new EarlierFailureError(record), { abandoned: false })).toBe('done');
  });
});

describe('failedEvent', () => {
  it('names the object and the rule broken, with its code', () => {
    const event = failedEvent(
      's3://b/outbox/x.xml',
      new ContentRuleError('not well-formed', 'ACRF-102'),
      new Date('2026-11-25T10:00:00Z'),
    );
    expect(event).toMatchObject({
      type: EVENT_TYPES.failed,
      at: '2026-11-25T10:00:00.000Z',
      errors: [{ id: 'ACRF-102', label: 'not well-formed (ACRF-102)' }],
      files: ['s3://b/outbox/x.xml'],
    });
    expect(event.message).toContain('s3://b/outbox/x.xml was not sent');
    expect(event.declaration).toBeUndefined();
  });

  it('names the set when the run had claimed one', () => {
    const event = failedEvent(
      's3://b/outbox/x.xml',
      new TransportRefusedError('550 Is a directory', 550),
      new Date('2026-11-25T10:00:00Z'),
      'DMFA.123456.20261125.00001.R',
    );
    expect(event).toMatchObject({ declaration: 'DMFA.123456.20261125.00001.R', state: 'failed' });
  });
});

describe('notifyQuietly', () => {
  it('reports a notifier failure instead of throwing it', async () => {
    const seen: unknown[] = [];
    const failing = {
      notify: async () => {
        throw new Error('bus down');
      },
    };
    await notifyQuietly(failing, failedEvent('x', new Error('y'), new Date()), (e) => seen.push(e));
    expect(seen).toHaveLength(1);
  });
});
