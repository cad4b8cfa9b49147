import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'Narrows the audit log; every field is optional and they combine with AND.' })
export class AuditLogFilterInput {
  @Field(() => ID, { nullable: true, description: 'Only actions by this user id.' })
  actorId?: string;

  @Field({ nullable: true, description: 'Only actions by this username.' })
  actorUsername?: string;

  @Field({ nullable: true, description: 'An exact action (`user.create`), or a prefix ending in a dot (`session.`).' })
  action?: string;

  @Field({ nullable: true, description: 'Only this kind of resource, e.g. `session`.' })
  resourceType?: string;

  @Field({ nullable: true, description: 'Only this resource id.' })
  resourceId?: string;

  @Field({ nullable: true, description: '`success` or `failure`.' })
  outcome?: string;

  @Field({ nullable: true, description: 'Entries at or after this time.' })
  since?: Date;

  @Field({ nullable: true, description: 'Entries before this time.' })
  until?: Date;
}
