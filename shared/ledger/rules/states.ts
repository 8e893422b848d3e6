/** The declaration states: the transition table, the stage of a state, and the state check. */
import { DECLARATION_STATES, STATE_STAGES } from '../types';
import type { DeclarationState, StateStage } from '../types';

/**
 * The state changes a set may go through. `uploading -> uploading` records progress (files,
 * hashes) without a change of meaning. An answer may find its set still `launching`: the
 * process crashed after starting the GO, and the answer proves the GO arrived. Only
 * notifications follow an acknowledgement; the state follows the latest one (`refused` when it
 * refused the declaration, `notified` otherwise), so `notified` and `refused` move to each other;
 * `rejected`, `failed` and `cancelled` (an operator's cancel before the GO) are final. Keyed by every state so a new state does not compile until
 * it is placed here.
 */
export const ALLOWED_TRANSITIONS = {
  planned: ['uploading', 'failed', 'cancelled'],
  uploading: ['uploading', 'launching', 'failed', 'cancelled'],
  launching: ['launched', 'acknowledged', 'rejected', 'notified', 'refused'],
  launched: ['acknowledged', 'rejected', 'notified', 'refused'],
  failed: [],
  acknowledged: ['notified', 'refused'],
  rejected: [],
  notified: ['notified', 'refused'],
  refused: ['notified', 'refused'],
  cancelled: [],
} as const satisfies Record<DeclarationState, readonly DeclarationState[]>;

const STATES: ReadonlySet<string> = new Set(Object.values(DECLARATION_STATES));

/** The stage of a state: live (resumable), committed (GO may be out) or failed. */
export function stageOf(state: DeclarationState): StateStage {
  return STATE_STAGES[state];
}

/** Whether a value is one of the known declaration states. */
export function isDeclarationState(value: unknown): value is DeclarationState {
  return typeof value === 'string' && STATES.has(value);
}
