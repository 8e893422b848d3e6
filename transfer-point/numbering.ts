/**
 * The numbers the simulator hands out: the sequence of its answers' names and the tickets
 * (ReferenceNbr) in them.
 */
import { randomInt } from 'node:crypto';
import { SIMULATOR_CODES, SimulatorError } from './errors';

const TICKET_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MAX_SEQUENCE = 99_999;

/**
 * Ticket numbers: `SIM`, four random characters naming this simulator run, then a 6-digit
 * counter: 13 characters like the real ones (`3400001Y1P01G`), within the 20 allowed. The
 * counter makes them unique within a run, the random part across runs sharing a root.
 */
export class TicketNumbers {
  private readonly run: string;
  private count = 0;

  constructor() {
    this.run = Array.from({ length: 4 }, () => TICKET_ALPHABET[randomInt(36)]).join('');
  }

  /** The next ticket number. */
  next(): string {
    this.count += 1;
    return `SIM${this.run}${String(this.count).padStart(6, '0')}`;
  }
}

/**
 * The 5-digit sequence of the answers' names. One counter for every type and environment is
 * enough for unique names; `taken` lets a run on a reused root skip names an earlier run left
 * in the OUT folders, which would otherwise be overwritten before the sender fetched them.
 */
export class ResponseSequence {
  private last = 0;

  /** The next sequence whose names are not `taken`; throws when all 99,999 are used. */
  next(taken: (seq: string) => boolean): string {
    while (this.last < MAX_SEQUENCE) {
      this.last += 1;
      const seq = String(this.last).padStart(5, '0');
      if (!taken(seq)) return seq;
    }
    throw new SimulatorError('the simulator has used all 99,999 response sequences', {
      code: SIMULATOR_CODES.SEQUENCE_EXHAUSTED,
    });
  }
}
