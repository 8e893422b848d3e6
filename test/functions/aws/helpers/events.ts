import { EVENT_TYPES, type TransferEvent } from '../../../../shared/notify';

/** A rejection event as the receive path raises it. */
export const rejected: TransferEvent = {
  type: EVENT_TYPES.rejected,
  at: '2026-11-25T10:00:00.000Z',
  declaration: 'DMFA.123456.20261125.00001.R',
  state: 'rejected',
  ticket: '123456789',
  errors: [{ id: 'ACRF-108', label: 'the sender is not served by this channel' }],
  response: 'ACRF.999999.20261125.00001.R',
  files: ['s3://b/responses/R/20261125/ACRF/FO.ACRF.999999.20261125.00001.R'],
  message: 'DMFA.123456.20261125.00001.R was rejected: ACRF-108',
};

/** An event with many long file locations, far over 256 KiB. */
export function withManyFiles(count: number): TransferEvent {
  return {
    ...rejected,
    files: Array.from(
      { length: count },
      (_, i) => `s3://b/responses/R/20261125/CO/${'x'.repeat(200)}.${String(i).padStart(6, '0')}`,
    ),
  };
}
