import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType('Favorite', { description: "A template the caller pinned in the launcher (listed first there)." })
export class FavoriteType {
  @Field({ description: 'Name of the pinned template.' })
  templateName!: string;

  @Field({ description: 'When the caller pinned it.' })
  createdAt!: Date;
}

@ObjectType('RecentApp', { description: "A template the caller started sessions of, derived from the caller's sessions." })
export class RecentAppType {
  @Field({ description: 'Name of the template.' })
  templateName!: string;

  @Field({ description: 'When the caller last started a session of it.' })
  lastUsedAt!: Date;

  @Field(() => Int, { description: 'How many sessions of it the caller has started (kept as history, terminated ones included).' })
  sessionCount!: number;
}
