import { createMemoryLedger, type Ledger } from '../../shared/ledger';
import {
  CancelNothingError,
  cancelDeclaration,
  operationOfOutboxKey,
  OutboxOperationKeyError,
  planResend,
  ResendRefusedError,
  ResendSourceError,
} from '../../shared/operations';
import { memoryConnector } from '../../shared/transport';
import type { TransportConnector } from '../../shared/transport';
import { claimRequest, driveToLaunched, idOf, own, source } from '../ledger/fixtures';

// The core of `cancel` and `resend` on the memory ledger and transport: what reaches the
// server, what the ledger records, and each refusal.

let ledger: Ledger;
beforeEach(() => {
  ledger = createMemoryLedger();
});

async function claimed(seq = '00001', leaseMs = 1): Promise<string> {
  const { record } = await ledger.claim(claimRequest(seq, source(seq)), own({ leaseMs }));
  await new Promise((resolve) => setTimeout(resolve, 5)); // the claiming run's lease ends
  return record.id;
}

describe('cancelDeclaration', () => {
  it('records a planned set cancelled and puts no TD: nothing of it was uploaded', async () => {
    // Prepare
    const id = await claimed();
    const files = new Map<string, Buffer>();

    // Act
    const result = await cancelDeclaration(id, { ledger, connector: memoryConnector(files) });

    // Assess
    expect(result).toMatchObject({ record: { state: 'cancelled' }, repeated: false });
    expect(result.td).toBeUndefined();
    expect([...files.keys()]).toEqual([]);
  });

  it('keeps the set cancelled when its TD cannot be put, and puts it on the next call', async () => {
    // Prepare
    const id = await claimed();
    await ledger.transition(id, 'planned', 'uploading');
    const files = new Map<string, Buffer>();
    const down: TransportConnector = {
      connect: () => Promise.reject(new Error('connection refused')),
      describe: () => 'ftp://down@127.0.0.1:21',
    };

    // Act
    const failed = cancelDeclaration(id, { ledger, connector: down });
    await expect(failed).rejects.toThrow('connection refused');
    const again = await cancelDeclaration(id, { ledger, connector: memoryConnector(files) });

    // Assess
    expect((await ledger.get(id))?.state).toBe('cancelled');
    expect(again).toMatchObject({ repeated: true, td: `TD.${id}.1` });
    expect([...files.keys()]).toEqual([`IN/TD.${id}.1`]);
    expect(files.get(`IN/TD.${id}.1`)?.length).toBe(0);
  });

  it('refuses a failed set: it will never be launched', async () => {
    // Prepare
    const id = await claimed();
    await ledger.transition(id, 'planned', 'failed', {
      failure: { code: 'ACRF-102', message: 'bad XML' },
    });

    // Act / Assess
    await expect(
      cancelDeclaration(id, { ledger, connector: memoryConnector() }),
    ).rejects.toBeInstanceOf(CancelNothingError);
  });
});

describe('planResend', () => {
  it('plans a rejected file declaration under its application, sender and env, linked', async () => {
    // Prepare
    const id = await claimed('00001', 60_000);
    await driveToLaunched(ledger, id);
    await ledger.transition(id, 'launched', 'rejected', {
      acknowledgement: {
        accepted: false,
        errors: ['ACRF-129'],
        response: 'ACRF.999999.20260701.00001.R',
        at: '2026-07-02T09:00:00.000Z',
      },
    });

    // Act
    const plan = await planResend(ledger, id);

    // Assess
    expect(plan).toMatchObject({
      path: '/data/00001.xml',
      request: {
        declaration: { app: 'DMFA', sender: '101380', env: 'R' },
        resend: true,
        resendOf: id,
      },
    });
    expect(plan.request.declaration.seq).toBeUndefined();
  });

  it('refuses a set sent from an object store: the send function resends those', async () => {
    // Prepare
    const { record } = await ledger.claim(
      claimRequest('00002', { kind: 'object', id: 's3://outbox/a.xml', version: 'e1' }),
      own(),
    );
    await driveToLaunched(ledger, record.id);
    await ledger.transition(record.id, 'launched', 'refused', {
      notification: {
        result: '0',
        accepted: false,
        withAnomalies: false,
        anomalyCount: 1,
        diagnosis: 3,
        response: 'NOTI.999999.20260701.00002.R',
        at: '2026-07-03T09:00:00.000Z',
      },
    });

    // Act / Assess
    await expect(planResend(ledger, record.id)).rejects.toBeInstanceOf(ResendSourceError);
  });

  it.each(['planned', 'launched'] as const)('refuses a %s set with the reason', async (state) => {
    // Prepare
    const { record } = await ledger.claim(claimRequest('00003', source('c')), own());
    if (state === 'launched') await driveToLaunched(ledger, record.id);

    // Act
    const outcome = planResend(ledger, idOf('00003'));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ResendRefusedError);
    await expect(outcome).rejects.toThrow(`cannot resend ${record.id} (state ${state})`);
  });
});

describe('operationOfOutboxKey', () => {
  const id = 'DMFA.123456.20261125.00001.R';

  it.each([
    [`outbox/cancel/${id}`, { kind: 'cancel', declaration: id }],
    [`outbox/resend/${id}/corrected.xml`, { kind: 'resend', declaration: id }],
    ['outbox/DMFA/R/q3.xml', undefined],
    [`outbox/FI.${id}.1.1`, undefined],
    [`elsewhere/cancel/${id}`, undefined],
  ])('reads %s', (key, expected) => {
    expect(operationOfOutboxKey(key, 'outbox/')).toEqual(expected);
  });

  it.each([
    [`outbox/cancel/${id}/more`, 'holds more than a set key'],
    ['outbox/cancel/DMFA.123456', 'does not name a set'],
    [`outbox/resend/${id}`, 'is not resend/<set key>/<file>'],
    [`outbox/resend/${id}/`, 'is not resend/<set key>/<file>'],
    ['outbox/resend/nonsense/file.xml', 'does not name a set'],
  ])('refuses %s, naming the layout', (key, why) => {
    const act = () => operationOfOutboxKey(key, 'outbox/');
    expect(act).toThrow(OutboxOperationKeyError);
    expect(act).toThrow(why);
  });
});
