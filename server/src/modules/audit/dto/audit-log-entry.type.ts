import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';

@ObjectType('AuditLogEntry', { description: 'One audited action: who did what to which resource, from where, and the outcome.' })
export class AuditLogEntryType {
  @Field(() => ID, { description: 'Sequential id of the entry.' })
  id!: string;

  @Field({ description: 'When the action happened.' })
  at!: Date;

  @Field(() => String, { nullable: true, description: 'Id of the user who acted; null for anonymous actions such as a failed login.' })
  actorId!: string | null;

  @Field(() => String, { nullable: true, description: 'Username of the actor at the time (kept when the user is renamed or deleted).' })
  actorUsername!: string | null;

  @Field({ description: 'What was done, e.g. `user.create`, `auth.login`, `session.delete`.' })
  action!: string;

  @Field({ description: 'Kind of resource acted on, e.g. `user`, `session`.' })
  resourceType!: string;

  @Field(() => String, { nullable: true, description: 'Id or name of the resource acted on.' })
  resourceId!: string | null;

  @Field({ description: '`success` or `failure`.' })
  outcome!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'What changed (input or before/after), with secrets replaced by "[REDACTED]".' })
  changes!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Request id of the action (matches the X-Request-Id header and the server log).' })
  requestId!: string | null;

  @Field(() => String, { nullable: true, description: 'IP address the request came from.' })
  clientIp!: string | null;
}

export const AuditLogConnection = ConnectionType(AuditLogEntryType, 'AuditLogEntry', 'A page of audit log entries, newest first.');
