/** The watchdog: declarations that wait too long for their answers. */
export { DEFAULT_OVERDUE_RULES, findOverdue } from './overdue';
export type { Overdue, OverdueRules } from './overdue';
export { newlyOverdue, overdueEvent, raiseOverdue, WAITING_STATES } from './raise';
export type { OverdueFailure, OverdueRun, RaisedOverdue, RaiseOverdueOptions } from './raise';
