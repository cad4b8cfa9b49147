import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';

@ObjectType('TemplateReview', { description: "A user's rating (1 to 5 stars) and optional short review of a template; one per user and template." })
export class TemplateReviewType {
  @Field(() => ID, { description: 'Unique id.' })
  id!: string;

  @Field({ description: 'Name of the rated template.' })
  templateName!: string;

  @Field({ description: 'Username of the author.' })
  username!: string;

  @Field(() => Int, { description: 'Stars, 1 to 5.' })
  stars!: number;

  @Field(() => String, { nullable: true, description: 'The short review (at most 500 characters), or null for a rating alone.' })
  review!: string | null;

  @Field({ description: "True when the caller wrote it (the caller may edit or delete it)." })
  mine!: boolean;

  @Field({ description: 'When it was first written.' })
  createdAt!: Date;

  @Field({ description: 'When it was last edited.' })
  updatedAt!: Date;
}

export const TemplateReviewConnection = ConnectionType(TemplateReviewType, 'TemplateReview', 'A page of template reviews, most recently edited first.');

@ObjectType('TemplateRatingSummary', { description: "Users' ratings of a template." })
export class TemplateRatingSummaryType {
  @Field(() => Float, { nullable: true, description: 'Average stars (1 to 5, two decimals), null when nobody rated it.' })
  average!: number | null;

  @Field(() => Int, { description: 'How many users rated it.' })
  count!: number;
}

@ObjectType('TemplateUsage', { description: 'How much a template is used (admins, operators and auditors).' })
export class TemplateUsageType {
  @Field({ description: 'Template name.' })
  templateName!: string;

  @Field(() => Int, { description: 'Catalog installs of a template of this name (audit rows catalog.install).' })
  installs!: number;

  @Field(() => Int, { description: 'Sessions started from it (audit rows session.create).' })
  launches!: number;

  @Field(() => Int, { description: 'Its sessions running now (desired state running, not yet terminated).' })
  activeSessions!: number;
}
