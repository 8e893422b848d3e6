import { ContentRuleError } from '../../shared/content/errors';
import { createMemoryLedger, LedgerStoreError } from '../../shared/ledger';
import type { DeclarationRecord } from '../../shared/ledger';
import { parseDeclarationName } from '../../shared/names';
import { EVENT_TYPES } from '../../shared/notify';
import {
  classifySendFailure,
  DuplicateContentError,
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
import { TransportAuthError, TransportConnectError } from '../../shared/transport';
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
