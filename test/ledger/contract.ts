/**
 * The behaviour every Ledger adapter must show, written once and run against each of them
 * (memory, SQLite, later DynamoDB): sequences, the claim rules in their order, the transition
 * table, look-ups, listing and closing.
 */
import {
  ALLOWED_TRANSITIONS,
  DECLARATION_STATES,
  DeclarationNotFoundError,
  DuplicateSourceError,
  LedgerClosedError,
  LedgerError,
  LedgerRequestError,
  NameAlreadySentError,
  StateConflictError,
} from '../../shared/ledger';
import type {
  ClaimRequest,
  DeclarationRecord,
  DeclarationState,
  Ledger,
  LedgerOptions,
} from '../../shared/ledger';
import {
  DATE,
  SENDER,
  claimRequest,
  idOf,
  keyOf,
  planFiles,
  sha,
  source,
  testClock,
} from './fixtures';
import type { TestClock } from './fixtures';

/** Opens a fresh, empty ledger of the adapter under test. */
export type LedgerFactory = (options: LedgerOptions) => Ledger | Promise<Ledger>;

type ErrorClass = abstract new (...args: never[]) => LedgerError;

const ALL_STATES = Object.values(DECLARATION_STATES);

/**
 * Runs the ledger contract against the adapter `factory` opens. Each test gets a fresh ledger
 * with a pinned clock (one second per read, so creation order is visible in timestamps).
 */
export function describeLedgerContract(name: string, factory: LedgerFactory): void {
  describe(`${name}: Ledger contract`, () => {
    let ledger: Ledger;
    let clock: TestClock;
    // Every error class the contract expects must be seen thrown at least once: an error that
    // is exported but never thrown is a rule that is not enforced.
    const seen = new Set<string>();

    async function expectError<T>(
      promise: Promise<T>,
      type: ErrorClass,
      code: string,
    ): Promise<LedgerError> {
      const error: unknown = await promise.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(type);
      expect(error).toBeInstanceOf(LedgerError);
      const ledgerError = error as LedgerError;
      expect(ledgerError.code).toBe(code);
      expect(ledgerError.name).toBe(type.name);
      seen.add(type.name);
      return ledgerError;
    }

    /** Claims a set and drives it to `state` through allowed transitions. */
    async function recordIn(
      state: DeclarationState,
      request: ClaimRequest,
    ): Promise<DeclarationRecord> {
      const { record } = await ledger.claim(request);
      const path: Record<DeclarationState, DeclarationState[]> = {
        planned: [],
        uploading: ['uploading'],
        launching: ['uploading', 'launching'],
        launched: ['uploading', 'launching', 'launched'],
        failed: ['failed'],
      };
      let current = record;
      for (const to of path[state]) {
        const patch = to === 'failed' ? { failure: { code: 'ACRF-102', message: 'bad XML' } } : {};
        current = await ledger.transition(current.id, current.state, to, patch);
      }
      return current;
    }

    beforeEach(async () => {
      clock = testClock();
      ledger = await factory({ now: clock.now });
    });

    afterEach(async () => {
      await ledger.close();
    });

    describe('nextSequence', () => {
      it('allocates 00001, 00002, 00003 for a sender, date and environment', async () => {
        // Act
        const seqs = [
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(seqs).toEqual(['00001', '00002', '00003']);
      });

      it('counts each sender, date and environment apart', async () => {
        // Prepare
        await ledger.nextSequence(SENDER, DATE, 'R');

        // Act
        const others = [
          await ledger.nextSequence(SENDER, DATE, 'T'),
          await ledger.nextSequence(SENDER, '20260702', 'R'),
          await ledger.nextSequence('999999', DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(others).toEqual(['00001', '00001', '00001', '00002']);
      });

      it('skips sequences recorded explicitly, by any application of the scope', async () => {
        // Prepare: 00002 given by hand for DMFA, 00003 for DIMN, 00001 in another environment
        await ledger.claim(claimRequest('00002', source('a')));
        await ledger.claim(
          claimRequest('00003', source('b'), { key: keyOf('00003', 'R', 'DIMN') }),
        );
        await ledger.claim(claimRequest('00001', source('c'), { env: 'T' }));

        // Act
        const seqs = [
          await ledger.nextSequence(SENDER, DATE, 'R'),
          await ledger.nextSequence(SENDER, DATE, 'R'),
        ];

        // Assess
        expect(seqs).toEqual(['00001', '00004']);
      });

      it('never gives a sequence twice, even when the first was never claimed', async () => {
        // Prepare
        const first = await ledger.nextSequence(SENDER, DATE, 'S');

        // Act
        const second = await ledger.nextSequence(SENDER, DATE, 'S');

        // Assess
        expect(second).not.toBe(first);
      });

      it.each([
        ['a sender of 5 digits', '10138', DATE, 'R'],
        ['a date that is not real', SENDER, '20260231', 'R'],
        ['an unknown environment', SENDER, DATE, 'X'],
      ])('refuses %s', async (_title, sender, date, env) => {
        // Act / Assess
        await expectError(
          ledger.nextSequence(sender, date, env as 'R'),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });
    });

    describe('claim: rule 4, a new record', () => {
      it('records a new set in state planned, attempt 1', async () => {
        // Prepare
        const request = claimRequest('00001', source('a'), { nparts: 2 });
        const createdAt = clock.peek();

        // Act
        const result = await ledger.claim(request);

        // Assess
        expect(result).toEqual({
          resumed: false,
          record: {
            id: idOf('00001'),
            key: keyOf('00001'),
            nparts: 2,
            source: source('a'),
            folder: 'IN',
            files: planFiles(keyOf('00001'), 2),
            state: 'planned',
            attempt: 1,
            createdAt,
            updatedAt: createdAt,
          },
        });
        expect(await ledger.get(idOf('00001'))).toEqual(result.record);
      });

      it('treats another version, kind or id as another source', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a', 'v1')));

        // Act
        const results = [
          await ledger.claim(claimRequest('00002', source('a', 'v2'))),
          await ledger.claim(claimRequest('00003', source('a', null))),
          await ledger.claim(
            claimRequest('00004', { kind: 'object', id: '/data/a.xml', version: 'v1' }),
          ),
          await ledger.claim(claimRequest('00005', source('b', 'v1'))),
        ];

        // Assess
        expect(results.map((r) => [r.resumed, r.record.id])).toEqual([
          [false, idOf('00002')],
          [false, idOf('00003')],
          [false, idOf('00004')],
          [false, idOf('00005')],
        ]);
      });

      it('accepts an empty file list, to be filled in by a transition', async () => {
        // Act
        const { record } = await ledger.claim(claimRequest('00001', source('a'), { files: [] }));

        // Assess
        expect(record.files).toEqual([]);
      });
    });

    describe('claim: rule 1, resume a live set of the same source', () => {
      it.each(['planned', 'uploading'] as const)(
        'resumes a %s set whatever key is asked, with attempt + 1',
        async (state) => {
          // Prepare
          const first = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(claimRequest('00007', source('a'), { nparts: 3 }));

          // Assess: the earlier set, its names and state, one attempt more
          expect(result.resumed).toBe(true);
          expect(result.record).toEqual({
            ...first,
            attempt: 2,
            updatedAt: result.record.updatedAt,
          });
          expect(result.record.updatedAt > first.updatedAt).toBe(true);
          expect(await ledger.get(idOf('00001'))).toEqual(result.record);
          expect(await ledger.get(idOf('00007'))).toBeUndefined();
        },
      );

      it('counts every resume', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')));
        await ledger.claim(claimRequest('00001', source('a')));

        // Act
        const third = await ledger.claim(claimRequest('00001', source('a')));

        // Assess
        expect(third.record.attempt).toBe(3);
      });

      it('resumes even with resend, and before looking at the requested key', async () => {
        // Prepare: the requested key is held by a launched set of another source
        await recordIn('launched', claimRequest('00002', source('other')));
        await ledger.claim(claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(claimRequest('00002', source('a')), { resend: true });

        // Assess
        expect(result.resumed).toBe(true);
        expect(result.record.id).toBe(idOf('00001'));
        expect((await ledger.get(idOf('00002')))?.source).toEqual(source('other'));
      });
    });

    describe('claim: rule 2, a source already launched', () => {
      it.each(['launching', 'launched'] as const)(
        'refuses a source whose set is %s with DUPLICATE_SOURCE',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));
          const before = await ledger.list({ includeSuperseded: true });

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00002', source('a'))),
            DuplicateSourceError,
            'DUPLICATE_SOURCE',
          );

          // Assess: names the earlier set and its state, carries it, and writes nothing
          expect(error.message).toContain(idOf('00001'));
          expect(error.message).toContain(state);
          expect((error as DuplicateSourceError).existing).toEqual(earlier);
          expect(await ledger.list({ includeSuperseded: true })).toEqual(before);
        },
      );

      it('sends the source again under a new key with resend', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(claimRequest('00002', source('a')), { resend: true });

        // Assess
        expect(result.resumed).toBe(false);
        expect(result.record).toMatchObject({ id: idOf('00002'), state: 'planned', attempt: 1 });
        expect((await ledger.get(idOf('00001')))?.state).toBe('launched');
      });

      it('is checked before the key: a launched source asking its own key is a duplicate', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act / Assess
        await expectError(
          ledger.claim(claimRequest('00001', source('a'))),
          DuplicateSourceError,
          'DUPLICATE_SOURCE',
        );
      });

      it('does not count a failed set of the source as sent', async () => {
        // Prepare
        await recordIn('failed', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(claimRequest('00002', source('a')));

        // Assess
        expect(result).toMatchObject({ resumed: false, record: { id: idOf('00002') } });
      });
    });

    describe('claim: rule 3, a name already used', () => {
      it.each(['launching', 'launched'] as const)(
        'refuses the key of a %s set with ACRF-133',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00001', source('b'))),
            NameAlreadySentError,
            'ACRF-133',
          );

          // Assess
          expect(error.acrf).toBe(133);
          expect(error.message).toContain(idOf('00001'));
          expect((error as NameAlreadySentError).existing).toEqual(earlier);
        },
      );

      it.each([
        { title: 'the same source', other: 'a' },
        { title: 'another source', other: 'b' },
      ])(
        'reuses the key of a failed set (no GO was sent) for $title without resend',
        async ({ other }) => {
          // Prepare
          const failed = await recordIn('failed', claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(claimRequest('00001', source(other)));

          // Assess
          expect(result).toMatchObject({
            resumed: false,
            record: { id: idOf('00001'), state: 'planned' },
          });
          const history = await ledger.list({ includeSuperseded: true });
          expect(history.find((r) => r.supersededAt !== undefined)?.createdAt).toBe(
            failed.createdAt,
          );
        },
      );

      it.each(['planned', 'uploading'] as const)(
        'refuses the key of a %s set of another source even with resend',
        async (state) => {
          // Prepare
          await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const error = await expectError(
            ledger.claim(claimRequest('00001', source('b')), { resend: true }),
            NameAlreadySentError,
            'ACRF-133',
          );

          // Assess
          expect(error.message).toContain('being uploaded');
          expect((await ledger.get(idOf('00001')))?.source).toEqual(source('a'));
        },
      );

      it.each(['launching', 'launched', 'failed'] as const)(
        'reuses the key of a %s set with resend, keeping the earlier record as history',
        async (state) => {
          // Prepare
          const earlier = await recordIn(state, claimRequest('00001', source('a')));

          // Act
          const result = await ledger.claim(claimRequest('00001', source('b')), { resend: true });

          // Assess: the key now names the new set; the earlier one is superseded, not lost
          expect(result.record).toMatchObject({
            id: idOf('00001'),
            source: source('b'),
            state: 'planned',
            attempt: 1,
          });
          expect(await ledger.get(idOf('00001'))).toEqual(result.record);
          const old = await ledger.findBySource(source('a'));
          expect(old).toEqual({
            ...earlier,
            supersededAt: result.record.createdAt,
            updatedAt: result.record.createdAt,
          });
          expect(await ledger.list()).toEqual([result.record]);
          expect(await ledger.list({ includeSuperseded: true })).toEqual([old, result.record]);
        },
      );

      it('still refuses the superseded source afterwards', async () => {
        // Prepare: source a launched under 00001, then the key resent for source b
        await recordIn('launched', claimRequest('00001', source('a')));
        await ledger.claim(claimRequest('00001', source('b')), { resend: true });

        // Act / Assess
        await expectError(
          ledger.claim(claimRequest('00009', source('a'))),
          DuplicateSourceError,
          'DUPLICATE_SOURCE',
        );
      });

      it('allows the same sequence for another application (the key includes APP)', async () => {
        // Prepare
        await recordIn('launched', claimRequest('00001', source('a')));

        // Act
        const result = await ledger.claim(
          claimRequest('00001', source('b'), { key: keyOf('00001', 'R', 'DIMN') }),
        );

        // Assess
        expect(result.record.id).toBe(idOf('00001', 'R', 'DIMN'));
      });
    });

    describe('claim: malformed requests', () => {
      const a = source('a');
      it.each<[string, ClaimRequest]>([
        ['a folder of another environment', { ...claimRequest('00001', a), folder: 'INTEST' }],
        ['0 parts', { ...claimRequest('00001', a), nparts: 0 }],
        ['10 parts', { ...claimRequest('00001', a), nparts: 10 }],
        ['a sequence with lower case', claimRequest('0000a', a, { files: [] })],
        ['a sequence of 4 characters', claimRequest('0001', a, { files: [] })],
        [
          'a date that is not real',
          {
            ...claimRequest('00001', a, { files: [] }),
            key: { ...keyOf('00001'), date: '20261301' },
          },
        ],
        ['an empty source id', claimRequest('00001', { kind: 'file', id: '' })],
        ['an empty source version', claimRequest('00001', { kind: 'file', id: '/a', version: '' })],
        [
          'a file of another set',
          { ...claimRequest('00001', a), files: planFiles(keyOf('00002')) },
        ],
        [
          'a file of another part count',
          { ...claimRequest('00001', a), files: planFiles(keyOf('00001'), 2) },
        ],
        [
          'a role that is not the prefix',
          {
            ...claimRequest('00001', a),
            files: [{ name: `FS.${idOf('00001')}.1.1`, size: 1, role: 'FI' }],
          },
        ],
        [
          'a file listed twice',
          {
            ...claimRequest('00001', a),
            files: [...planFiles(keyOf('00001')), ...planFiles(keyOf('00001'))],
          },
        ],
        [
          'a negative size',
          {
            ...claimRequest('00001', a),
            files: [{ name: `GO.${idOf('00001')}.1`, size: -1, role: 'GO' }],
          },
        ],
        [
          'a hash that is not SHA-256',
          {
            ...claimRequest('00001', a),
            files: [{ name: `GO.${idOf('00001')}.1`, size: 0, sha256: 'abc', role: 'GO' }],
          },
        ],
      ])('refuses %s and records nothing', async (_title, request) => {
        // Act
        await expectError(ledger.claim(request), LedgerRequestError, 'LEDGER_REQUEST_INVALID');

        // Assess
        expect(await ledger.list({ includeSuperseded: true })).toEqual([]);
      });
    });

    describe('transition', () => {
      it('moves planned -> uploading and records the patch', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')));
        const files = planFiles(keyOf('00001')).map((f) => ({ ...f, sha256: sha('A') }));

        // Act
        const next = await ledger.transition(record.id, 'planned', 'uploading', {
          sourceSha256: sha('B'),
          sourceSize: 12345,
          files,
        });

        // Assess: hashes kept in lower case, createdAt unchanged, updatedAt moved
        expect(next).toEqual({
          ...record,
          state: 'uploading',
          sourceSha256: sha('b'),
          sourceSize: 12345,
          files: files.map((f) => ({ ...f, sha256: sha('a') })),
          updatedAt: next.updatedAt,
        });
        expect(next.updatedAt > record.updatedAt).toBe(true);
        expect(await ledger.get(record.id)).toEqual(next);
      });

      it('goes uploading -> uploading -> launching -> launched, stamping launchedAt', async () => {
        // Prepare
        const planned = (await ledger.claim(claimRequest('00001', source('a')))).record;
        await ledger.transition(planned.id, 'planned', 'uploading');

        // Act
        await ledger.transition(planned.id, 'uploading', 'uploading', { sourceSize: 1 });
        await ledger.transition(planned.id, ['uploading'], 'launching');
        const at = clock.peek();
        const launched = await ledger.transition(planned.id, 'launching', 'launched');

        // Assess
        expect(launched).toMatchObject({ state: 'launched', sourceSize: 1, launchedAt: at });
      });

      it('keeps a given launchedAt, normalized to ISO', async () => {
        // Prepare
        const record = await recordIn('launching', claimRequest('00001', source('a')));

        // Act
        const launched = await ledger.transition(record.id, 'launching', 'launched', {
          launchedAt: '2026-07-01T10:00:00+02:00',
        });

        // Assess
        expect(launched.launchedAt).toBe('2026-07-01T08:00:00.000Z');
      });

      it('accepts any of several expected states', async () => {
        // Prepare
        const record = await recordIn('uploading', claimRequest('00001', source('a')));

        // Act
        const failed = await ledger.transition(record.id, ['planned', 'uploading'], 'failed', {
          failure: { code: 'ACRF-102', message: 'XML not well-formed' },
        });

        // Assess
        expect(failed).toMatchObject({
          state: 'failed',
          failure: { code: 'ACRF-102', message: 'XML not well-formed' },
        });
      });

      it('refuses when the set is not in the expected state, naming both', async () => {
        // Prepare: another process already moved the set to launching
        const record = await recordIn('launching', claimRequest('00001', source('a')));

        // Act
        const error = await expectError(
          ledger.transition(record.id, 'uploading', 'failed', {
            failure: { code: 'X', message: 'x' },
          }),
          StateConflictError,
          'STATE_CONFLICT',
        );

        // Assess
        expect(error).toMatchObject({ expected: ['uploading'], actual: 'launching', to: 'failed' });
        expect(error.message).toContain('uploading');
        expect(error.message).toContain('launching');
        expect(await ledger.get(record.id)).toEqual(record);
      });

      const pairs = ALL_STATES.flatMap((from) => ALL_STATES.map((to) => [from, to] as const));
      it.each(pairs)('%s -> %s follows the transition table', async (from, to) => {
        // Prepare
        const record = await recordIn(from, claimRequest('00001', source('a')));
        const allowed = (ALLOWED_TRANSITIONS[from] as readonly DeclarationState[]).includes(to);
        const patch = to === 'failed' ? { failure: { code: 'X', message: 'x' } } : {};

        // Act
        const outcome = ledger.transition(record.id, from, to, patch);

        // Assess
        if (allowed) {
          expect((await outcome).state).toBe(to);
        } else {
          await expectError(outcome, StateConflictError, 'STATE_CONFLICT');
          expect((await ledger.get(record.id))?.state).toBe(from);
        }
      });

      it('refuses a change outside the table whatever the current state', async () => {
        // Prepare: the set is planned, but planned -> launched is never allowed
        const { record } = await ledger.claim(claimRequest('00001', source('a')));

        // Act
        const error = await expectError(
          ledger.transition(record.id, ['uploading', 'planned'], 'launching'),
          StateConflictError,
          'STATE_CONFLICT',
        );

        // Assess
        expect(error.message).toContain('planned cannot move to launching');
      });

      it.each<[string, DeclarationState, object]>([
        ['a move to failed without a failure', 'failed', {}],
        ['a failure with another move', 'uploading', { failure: { code: 'X', message: 'x' } }],
        ['launchedAt with another move', 'uploading', { launchedAt: '2026-07-01T08:00:00Z' }],
        ['a size that is not a byte count', 'uploading', { sourceSize: 1.5 }],
        ['a hash that is not SHA-256', 'uploading', { sourceSha256: 'xyz' }],
        ['files of another set', 'uploading', { files: planFiles(keyOf('00002')) }],
      ])('refuses %s', async (_title, to, patch) => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')));

        // Act
        await expectError(
          ledger.transition(record.id, 'planned', to, patch),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );

        // Assess
        expect(await ledger.get(record.id)).toEqual(record);
      });

      it.each<[string, DeclarationState[], DeclarationState]>([
        ['no expected state', [], 'uploading'],
        ['an unknown target state', ['planned'], 'sent' as DeclarationState],
      ])('refuses %s', async (_title, from, to) => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')));

        // Act / Assess
        await expectError(
          ledger.transition(record.id, from, to),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it('refuses an unknown set with DECLARATION_NOT_FOUND', async () => {
        // Act / Assess
        await expectError(
          ledger.transition(idOf('00042'), 'planned', 'uploading'),
          DeclarationNotFoundError,
          'DECLARATION_NOT_FOUND',
        );
      });

      it('acts on the current record of a key, not on a superseded one', async () => {
        // Prepare: a set stuck in launching, its key resent
        await recordIn('launching', claimRequest('00001', source('a')));
        await ledger.claim(claimRequest('00001', source('a')), { resend: true });

        // Act: the stale process wakes up and confirms its GO
        const outcome = ledger.transition(idOf('00001'), 'launching', 'launched');

        // Assess
        await expectError(outcome, StateConflictError, 'STATE_CONFLICT');
        expect(await ledger.findBySource(source('a'))).toMatchObject({ state: 'planned' });
      });
    });

    describe('look-ups', () => {
      it('get returns undefined for an unknown set', async () => {
        expect(await ledger.get(idOf('00001'))).toBeUndefined();
      });

      it('findBySource returns the latest record of the source', async () => {
        // Prepare
        await recordIn('failed', claimRequest('00001', source('a')));
        const { record } = await ledger.claim(claimRequest('00002', source('a')));
        await ledger.claim(claimRequest('00003', source('a', 'v2')));

        // Act
        const found = await ledger.findBySource(source('a'));

        // Assess
        expect(found).toEqual(record);
        expect(await ledger.findBySource(source('zzz'))).toBeUndefined();
      });

      it('findBySource refuses a malformed identity', async () => {
        await expectError(
          ledger.findBySource({ kind: 'file', id: '' }),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it.each([
        ['an FI name', `FI.${idOf('00001')}.2.2`],
        ['an FS name', `FS.${idOf('00001')}.2.1`],
        ['the GO name', `GO.${idOf('00001')}.2`],
        ['a TD name', `TD.${idOf('00001')}.2`],
        ['the legacy 6-field form', `GO.${idOf('00001')}`],
        ['a name with another part count (matched on fields 2 to 6)', `GO.${idOf('00001')}.5`],
      ])('findByFileName finds the set from %s', async (_title, name) => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a'), { nparts: 2 }));

        // Act
        const found = await ledger.findByFileName(name);

        // Assess
        expect(found).toEqual(record);
      });

      it.each([
        ['a set not in the ledger', `GO.${idOf('00002')}.1`],
        ['another environment', `GO.${idOf('00001', 'T')}.1`],
        ['a name that cannot be read', 'declaration.xml'],
        ['an empty name', ''],
      ])('findByFileName returns undefined for %s', async (_title, name) => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')));

        // Act / Assess
        expect(await ledger.findByFileName(name)).toBeUndefined();
      });

      it('findLaunchedBySha256 lists only sets whose GO may be out, oldest first', async () => {
        // Prepare: the same bytes under five sources, in each state
        const hash = { sourceSha256: sha('c') };
        const make = async (seq: string, name: string, path: DeclarationState[]) => {
          let { record } = await ledger.claim(claimRequest(seq, source(name)));
          for (const to of path) {
            const failure = to === 'failed' ? { failure: { code: 'X', message: 'x' } } : {};
            record = await ledger.transition(record.id, record.state, to, { ...hash, ...failure });
          }
          return record;
        };
        const launching = await make('00001', 'a', ['uploading', 'launching']);
        await make('00002', 'b', ['uploading']);
        await make('00003', 'c', ['failed']);
        const launched = await make('00004', 'd', ['uploading', 'launching', 'launched']);
        await make('00005', 'e', ['uploading', 'launching']).then((r) =>
          ledger.transition(r.id, 'launching', 'launched'),
        );
        await make('00006', 'f', []);

        // Act
        const found = await ledger.findLaunchedBySha256(sha('C'));

        // Assess
        expect(found.map((r) => r.id)).toEqual([launching.id, launched.id, idOf('00005')]);
        expect(await ledger.findLaunchedBySha256(sha('d'))).toEqual([]);
      });

      it('findLaunchedBySha256 refuses a value that is not SHA-256', async () => {
        await expectError(
          ledger.findLaunchedBySha256('not-a-hash'),
          LedgerRequestError,
          'LEDGER_REQUEST_INVALID',
        );
      });

      it('hands out copies: changing a returned record changes nothing stored', async () => {
        // Prepare
        const { record } = await ledger.claim(claimRequest('00001', source('a')));

        // Act
        record.state = 'launched';
        record.files.length = 0;
        record.key.seq = '99999';

        // Assess
        expect(await ledger.get(idOf('00001'))).toMatchObject({
          state: 'planned',
          key: keyOf('00001'),
          files: planFiles(keyOf('00001')),
        });
      });
    });

    describe('list', () => {
      async function threeSets(): Promise<DeclarationRecord[]> {
        clock.set('2026-07-01T08:00:00Z');
        const a = await recordIn('launched', claimRequest('00001', source('a')));
        clock.set('2026-07-02T08:00:00Z');
        const b = await recordIn('failed', claimRequest('00002', source('b')));
        clock.set('2026-07-03T08:00:00Z');
        const c = (await ledger.claim(claimRequest('00003', source('c')))).record;
        return [a, b, c];
      }

      it('lists every current record by creation time', async () => {
        // Prepare
        const records = await threeSets();

        // Act / Assess
        expect(await ledger.list()).toEqual(records);
      });

      it('keeps creation order for records created in the same instant', async () => {
        // Prepare: a clock that stands still
        const still = new Date('2026-07-01T08:00:00Z');
        await ledger.close();
        ledger = await factory({ now: () => still });
        const seqs = ['00005', '00003', '00004', '00001', '00002'];
        for (const [i, seq] of seqs.entries()) {
          await ledger.claim(claimRequest(seq, source(`s${i}`)));
        }

        // Act
        const listed = await ledger.list();

        // Assess
        expect(listed.map((r) => r.key.seq)).toEqual(seqs);
      });

      it.each<[string, object, number[]]>([
        ['one state', { state: 'failed' }, [1]],
        ['several states', { state: ['planned', 'launched'] }, [0, 2]],
        ['a start time', { since: '2026-07-02T00:00:00Z' }, [1, 2]],
        ['a start time in another zone', { since: '2026-07-02T10:00:01+02:00' }, [2]],
        ['a state and a start time', { state: 'launched', since: '2026-07-02' }, []],
      ])('filters by %s', async (_title, filter, indexes) => {
        // Prepare
        const records = await threeSets();

        // Act
        const listed = await ledger.list(filter);

        // Assess
        expect(listed).toEqual(indexes.map((i) => records[i]));
      });

      it.each<[string, object]>([
        ['an unknown state', { state: 'sent' }],
        ['a start time that is not a time', { since: 'yesterday' }],
      ])('refuses %s', async (_title, filter) => {
        await expectError(ledger.list(filter), LedgerRequestError, 'LEDGER_REQUEST_INVALID');
      });
    });

    describe('close', () => {
      it('refuses every call afterwards, and can be called twice', async () => {
        // Prepare
        await ledger.claim(claimRequest('00001', source('a')));

        // Act
        await ledger.close();
        await ledger.close();

        // Assess
        const calls: Array<() => Promise<unknown>> = [
          () => ledger.nextSequence(SENDER, DATE, 'R'),
          () => ledger.claim(claimRequest('00002', source('b'))),
          () => ledger.transition(idOf('00001'), 'planned', 'uploading'),
          () => ledger.get(idOf('00001')),
          () => ledger.findBySource(source('a')),
          () => ledger.findByFileName(`GO.${idOf('00001')}.1`),
          () => ledger.findLaunchedBySha256(sha('a')),
          () => ledger.list(),
        ];
        for (const call of calls) {
          await expectError(call(), LedgerClosedError, 'LEDGER_CLOSED');
        }
      });
    });

    // Last on purpose: tests run in order, so this sees what the others threw. An error class
    // exported but never thrown is a rule that is not enforced.
    it('has thrown every error class of the contract', () => {
      const expected = [
        DeclarationNotFoundError,
        DuplicateSourceError,
        LedgerClosedError,
        LedgerRequestError,
        NameAlreadySentError,
        StateConflictError,
      ].map((type) => type.name);
      expect([...seen].sort()).toEqual(expected.sort());
    });
  });
}
