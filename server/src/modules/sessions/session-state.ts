import type { AuditSource } from '../audit/audit.service';
import type { CreateSessionInput } from './dto/session.input';
import type { SessionType } from './dto/session.type';
import type { SessionState } from './session.crd';
import type { SessionEntity } from './session.entity';
import type { Caller } from '../../platform/graphql/context';

/** How a state change is recorded: its audit action and source, and why it happened. */
export interface StateChange {
  action: 'session.hibernate' | 'session.wake';
  /** The request behind it (user actions); absent for the server's own changes. */
  source?: AuditSource;
  /** null: the server itself (e.g. the hibernation timer), recorded without an actor. */
  actor?: null;
  /** Who pays for a start when the row has no owner id (the caller). */
  quotaUserId?: string;
  /** Extra audit details: reason, idle clock, ... */
  details?: Record<string, unknown>;
  /**
   * For the server's own changes, which a new leader repeats after a crash: the audit row is written BEFORE the
   * patch, unless a row of the same action on this session was already written since this instant (a leader that
   * died between its row and its patch). So a leader killed mid-change neither loses the row (killed after the
   * patch) nor makes the next leader write a second one.
   */
  auditOnceSince?: Date;
}

/**
 * The session service as start-up sees it: reads, the one state change and create. Declared here, not imported from
 * session.service.ts (which builds the start-up service), so the two files do not import each other.
 */
export interface SessionChanges {
  findRow(id: string): Promise<SessionEntity | null>;
  changeState(row: SessionEntity, to: SessionState, change: StateChange): Promise<SessionEntity>;
  create(caller: Caller, input: CreateSessionInput, source: AuditSource): Promise<SessionType>;
}
