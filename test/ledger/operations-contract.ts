/**
 * The ledger contract of the operations layer, run against every adapter with the rest of the
 * contract: cancelling a set before its GO, the link from a resend to the first set, and the
 * watchdog's overdue marks.
 */
import {
  DeclarationNotFoundError,
  DuplicateSourceError,
  LedgerRequestError,
  SendInProgressError,
  StateConflictError,
  qualifyResponseSetId,
} from '../../shared/ledger';
import type { Ledger, LedgerOptions } from '../../shared/ledger';
import {
  OWNER,
  acknowledgement,
  claimRequest,
  driveToLaunched,
  idOf,
  newResponse,
  own,
  plusMs,
  source,
  testClock,
} from './fixtures';
import type { TestClock } from './fixtures';

/** Opens a fresh, empty ledger of the adapter under test. */
export type LedgerFactory = (options: LedgerOptions) => Ledger | Promise<Ledger>;

/** Runs the operations part of the ledger contract against the adapter `factory` opens. */
export function describeOperationsContract(name: string, factory: LedgerFactory): void {
  describe(`${name}: Ledger contract, operations`, () => {
    let ledger: Ledger;
    let clock: TestClock;

    beforeEach(async () => {
      clock = testClock();
      ledger = await factory({ now: clock.now });
    });

    afterEach(async () => {
      await ledger.close();
    });

    describe('cancel', () => {
      it('cancels an uploading set whose lease ended, records when, and removes the lease', async () => {
        // Prepare: a run uploaded parts, then died; its lease ran out
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        const uploading = await ledger.transition(record.id, 'planned', 'uploading', undefined, {
          owner: OWNER,
        });
        clock.set(plusMs(uploading.leaseUntil as string, 1000));

        // Act
        const cancelled = await ledger.transition(record.id, ['planned', 'uploading'], 'cancelled');

        // Assess
        expect(cancelled).toMatchObject({ state: 'cancelled', cancelledAt: expect.any(String) });
        expect(cancelled.owner).toBeUndefined();
        expect(await ledger.get(record.id)).toEqual(cancelled);
      });

      it('refuses to cancel while another run holds the lease, and changes nothing', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act
        const outcome = ledger.transition(record.id, 'planned', 'cancelled');

        // Assess
        await expect(outcome).rejects.toBeInstanceOf(SendInProgressError);
        expect((await ledger.get(record.id))?.state).toBe('planned');
      });

      it('stops the sending run: its next move after a cancel is refused, so no GO follows', async () => {
        // Prepare: the holder's lease ended while it still uploads; an operator cancels
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        const uploading = await ledger.transition(record.id, 'planned', 'uploading', undefined, {
          owner: OWNER,
        });
        clock.set(plusMs(uploading.leaseUntil as string, 1000));
        await ledger.transition(record.id, 'uploading', 'cancelled');

        // Act
        const launching = ledger.transition(record.id, 'uploading', 'launching', undefined, {
          owner: OWNER,
        });

        // Assess
        await expect(launching).rejects.toBeInstanceOf(StateConflictError);
        expect((await ledger.get(record.id))?.state).toBe('cancelled');
      });

      it('refuses to cancel a launched set', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        await driveToLaunched(ledger, record.id);

        // Act / Assess
        await expect(
          ledger.transition(record.id, ['planned', 'uploading'], 'cancelled'),
        ).rejects.toBeInstanceOf(StateConflictError);
      });

      it('never resumes a cancelled set: the same source claims a new set', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        await ledger.transition(record.id, 'planned', 'cancelled', undefined, { owner: OWNER });

        // Act
        const again = await ledger.claim(claimRequest('00002', source('a')), own());

        // Assess
        expect(again).toMatchObject({ resumed: false, record: { id: idOf('00002') } });
        expect((await ledger.get(record.id))?.state).toBe('cancelled');
      });
    });

    describe('resend', () => {
      async function rejected(): Promise<string> {
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        await driveToLaunched(ledger, record.id);
        await ledger.transition(record.id, 'launched', 'rejected', {
          acknowledgement: acknowledgement('ACRF.999999.20260701.00001.R', {
            accepted: false,
            errors: ['ACRF-129'],
          }),
        });
        return record.id;
      }

      it('records the set a resend sends again, under its own new key', async () => {
        // Prepare
        const first = await rejected();

        // Act
        const { record } = await ledger.claim(
          claimRequest('00002', source('a'), { resendOf: first }),
          own({ resend: true }),
        );

        // Assess
        expect(record).toMatchObject({ id: idOf('00002'), resendOf: first, state: 'planned' });
        expect((await ledger.get(idOf('00002')))?.resendOf).toBe(first);
        expect((await ledger.get(first))?.state).toBe('rejected');
      });

      it('still needs resend to send a committed source again, link or not', async () => {
        // Prepare
        const first = await rejected();

        // Act / Assess
        await expect(
          ledger.claim(claimRequest('00002', source('a'), { resendOf: first }), own()),
        ).rejects.toBeInstanceOf(DuplicateSourceError);
      });

      it.each([
        ['a value that is not a set key', 'DMFA.101380'],
        ['its own key', idOf('00002')],
      ])('refuses a link to %s', async (_title, resendOf) => {
        // Act / Assess
        await expect(
          ledger.claim(claimRequest('00002', source('a'), { resendOf }), own()),
        ).rejects.toBeInstanceOf(LedgerRequestError);
        expect(await ledger.get(idOf('00002'))).toBeUndefined();
      });
    });

    describe('channel', () => {
      it('records the channel a set is sent through, and keeps it through its moves', async () => {
        // Act
        const { record } = await ledger.claim(
          claimRequest('00001', source('a'), { channel: 'payroll-east' }),
          own(),
        );
        const launched = await driveToLaunched(ledger, record.id);

        // Assess
        expect(record.channel).toBe('payroll-east');
        expect(launched.channel).toBe('payroll-east');
        expect((await ledger.get(record.id))?.channel).toBe('payroll-east');
      });

      it.each(['', 'Payroll', '1st', 'a'.repeat(33), 'with space'])(
        'refuses the channel name %j',
        async (channel) => {
          await expect(
            ledger.claim(claimRequest('00001', source('a'), { channel }), own()),
          ).rejects.toBeInstanceOf(LedgerRequestError);
        },
      );
    });

    describe('response sets of channels', () => {
      it('keeps the same answer name of two channels as two sets', async () => {
        // Prepare: each channel's account numbers its answers: both got 00001 today
        const plain = newResponse('00001');

        // Act
        const east = await ledger.recordResponse({
          ...plain,
          id: qualifyResponseSetId('east', plain.id),
        });
        const west = await ledger.recordResponse({
          ...plain,
          id: qualifyResponseSetId('west', plain.id),
        });

        // Assess
        expect([east.created, west.created]).toEqual([true, true]);
        expect(east.record.id).toBe(`east/${plain.id}`);
        expect((await ledger.getResponse(`west/${plain.id}`))?.files).toEqual(plain.files);
        expect(await ledger.getResponse(plain.id)).toBeUndefined();
      });

      it('ties a qualified answer to a declaration', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        await driveToLaunched(ledger, record.id);

        // Act
        const moved = await ledger.transition(record.id, 'launched', 'acknowledged', {
          acknowledgement: acknowledgement(`east/ACRF.999999.20260701.00001.R`),
        });

        // Assess
        expect(moved.acknowledgement?.response).toBe('east/ACRF.999999.20260701.00001.R');
      });

      it.each(['East/ACRF.999999.20260701.00001.R', 'east/ACRF.999999'])(
        'refuses the response set id %s',
        async (id) => {
          await expect(
            ledger.recordResponse({ ...newResponse('00001'), id }),
          ).rejects.toBeInstanceOf(LedgerRequestError);
        },
      );
    });

    describe('markOverdue', () => {
      it('marks each wait once and leaves the state and updatedAt alone', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        const launched = await driveToLaunched(ledger, record.id);

        // Act
        const first = await ledger.markOverdue(record.id, 'acknowledgement');
        const second = await ledger.markOverdue(record.id, 'acknowledgement');
        const other = await ledger.markOverdue(record.id, 'notification');

        // Assess
        expect(first.marked).toBe(true);
        expect(second.marked).toBe(false);
        expect(other.marked).toBe(true);
        const stored = await ledger.get(record.id);
        expect(stored).toMatchObject({ state: 'launched', updatedAt: launched.updatedAt });
        expect(stored?.overdue).toEqual([
          { waitingFor: 'acknowledgement', at: first.record.overdue?.[0]?.at },
          { waitingFor: 'notification', at: expect.any(String) },
        ]);
      });

      it('marks once when two runs mark at the same time', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());
        await driveToLaunched(ledger, record.id);

        // Act
        const results = await Promise.all([
          ledger.markOverdue(record.id, 'acknowledgement'),
          ledger.markOverdue(record.id, 'acknowledgement'),
        ]);

        // Assess
        expect(results.filter((result) => result.marked)).toHaveLength(1);
        expect((await ledger.get(record.id))?.overdue).toHaveLength(1);
      });

      it('refuses an unknown set and an unknown wait', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')), own());

        // Act / Assess
        await expect(ledger.markOverdue(idOf('00009'), 'acknowledgement')).rejects.toBeInstanceOf(
          DeclarationNotFoundError,
        );
        await expect(
          ledger.markOverdue(record.id, 'lunch' as 'acknowledgement'),
        ).rejects.toBeInstanceOf(LedgerRequestError);
      });
    });
  });
}
