/**
 * How many sends go through one channel at once: the transfer point gives a sender one FTP
 * account, and parallel uploads on it compete for the same line and the same folder. A channel
 * has `maxSends` slots, each a run lease of the ledger (`send-<channel>-<i>`): a send takes a
 * free one before it connects and gives it back when it ends. The ledger's conditional write
 * makes the count hold across every process and container that shares the ledger.
 */
import { randomUUID } from 'node:crypto';
import type { Ledger } from '../ledger';

/** The slot lease names of a channel (`send-<channel>-<i>`; `send-<i>` for an unnamed one). */
export function sendSlotNames(channel: string | undefined, maxSends: number): string[] {
  const base = channel === undefined ? 'send' : `send-${channel}`;
  return Array.from({ length: maxSends }, (_, index) => `${base}-${index}`);
}

/** What withSendSlot did: ran the work in a slot, or found every slot taken. */
export type SlotOutcome<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `work` while holding one of the channel's send slots, then frees the slot whatever
 * `work` did. Resolves `{ ran: false }` without calling `work` when all `maxSends` are held by
 * other owners. `leaseMs` must outlast the longest send (a Lambda's timeout): a send that dies
 * keeps its slot until then.
 */
export async function withSendSlot<T>(
  ledger: Ledger,
  slot: { channel?: string; maxSends: number; leaseMs: number; owner?: string },
  work: () => Promise<T>,
): Promise<SlotOutcome<T>> {
  const owner = slot.owner ?? randomUUID();
  for (const name of sendSlotNames(slot.channel, slot.maxSends)) {
    if (!(await ledger.acquireRunLease(name, owner, slot.leaseMs))) continue;
    try {
      return { ran: true, value: await work() };
    } finally {
      // A release that fails must not hide what the send did: the slot then simply runs out.
      await ledger.releaseRunLease(name, owner).catch(() => undefined);
    }
  }
  return { ran: false };
}
