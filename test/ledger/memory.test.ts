import { SequenceExhaustedError, createMemoryLedger } from '../../shared/ledger';
import { describeLedgerContract } from './contract';
import { DATE, SENDER, claimRequest, own, source } from './fixtures';

describeLedgerContract('memory', (options) => createMemoryLedger(options));

describe('memory ledger', () => {
  it('throws SequenceExhaustedError after 99999 and stays exhausted', async () => {
    // Prepare: 99998 allocations, then 99999 given by hand
    const ledger = createMemoryLedger();
    for (let i = 1; i < 99_999; i += 1) await ledger.nextSequence(SENDER, DATE, 'T');
    await ledger.claim(claimRequest('99999', source('a'), { env: 'T' }), own());

    // Act
    const outcome = ledger.nextSequence(SENDER, DATE, 'T');

    // Assess
    await expect(outcome).rejects.toThrow(SequenceExhaustedError);
    await expect(ledger.nextSequence(SENDER, DATE, 'T')).rejects.toMatchObject({
      code: 'SEQUENCE_EXHAUSTED',
    });
    expect(await ledger.nextSequence(SENDER, DATE, 'R')).toBe('00001');
  });

  it('keeps two ledgers apart', async () => {
    // Prepare
    const one = createMemoryLedger();
    const two = createMemoryLedger();
    await one.claim(claimRequest('00001', source('a')), own());

    // Act / Assess
    expect(await two.get('DMFA.101380.20260701.00001.R')).toBeUndefined();
    expect(await two.nextSequence(SENDER, DATE, 'R')).toBe('00001');
  });
});
