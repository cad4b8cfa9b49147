import DataLoader from 'dataloader';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Access, readsAll, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import { CatalogTemplateType } from '../catalog/dto/catalog-template.type';
import { TemplateRatingSummaryType, TemplateReviewConnection, TemplateReviewType, TemplateUsageType } from './dto/template-rating.type';
import { TemplateType } from './dto/template.type';
import type { TemplateRatingService } from './template-rating.service';

export interface TemplateRatingResolverDeps {
  templateRatings: TemplateRatingService;
}

function summaryLoader(ctx: GraphQLContext, deps: TemplateRatingResolverDeps) {
  return ctx.loaders.get('templateRatingSummary', () => new DataLoader<string, TemplateRatingSummaryType>((names) => deps.templateRatings.summaries(names)));
}

function mineLoader(ctx: GraphQLContext, deps: TemplateRatingResolverDeps) {
  return ctx.loaders.get('templateMyReview', () => new DataLoader<string, TemplateReviewType | null>((names) => deps.templateRatings.mine(requireCaller(ctx), names)));
}

/** Null for callers who do not read operations (users): how many sessions run is not theirs to see. */
async function usageOf(ctx: GraphQLContext, deps: TemplateRatingResolverDeps, name: string): Promise<TemplateUsageType | null> {
  if (!readsAll(ctx.caller)) return null;
  return ctx.loaders.get('templateUsage', () => new DataLoader<string, TemplateUsageType>((names) => deps.templateRatings.usage(names))).load(name);
}

/** Ratings and short reviews of templates by users; usage figures for the operations side. */
@Resolver(() => TemplateReviewType)
export class TemplateRatingResolver {
  constructor(private readonly deps: TemplateRatingResolverDeps) {}

  @Authorized()
  @Query(() => TemplateReviewConnection, { description: 'Reviews of a template, most recently edited first (any signed-in user).' })
  templateReviews(
    @Arg('templateName', { description: 'The template.' }) templateName: string,
    @Args(() => PaginationArgs) page: PaginationArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<TemplateReviewType>> {
    return this.deps.templateRatings.list(requireCaller(ctx), templateName, page.first, page.after);
  }

  @Authorized(...Access.OPERATIONS_READ)
  @Query(() => [TemplateUsageType], { description: 'Usage of templates by name: installs, launches and running sessions (admins, operators, auditors).' })
  templateUsage(@Arg('names', () => [String], { description: 'Template names (at most 500).' }) names: string[]): Promise<TemplateUsageType[]> {
    return this.deps.templateRatings.usage(names.slice(0, 500));
  }

  @Authorized(...Access.ACT)
  @Mutation(() => TemplateReviewType, {
    description:
      "Rates a template (1 to 5 stars) with an optional short review, as the caller; rating again edits the caller's one review. " +
      'NOT_FOUND for a template that does not exist, BAD_USER_INPUT for stars outside 1-5 or a review over 500 characters. Audited (template.rate).',
  })
  rateTemplate(
    @Arg('templateName', { description: 'The template.' }) templateName: string,
    @Arg('stars', () => Int, { description: 'Stars, 1 to 5.' }) stars: number,
    @Ctx() ctx: GraphQLContext,
    @Arg('review', () => String, { nullable: true, description: 'Short review, at most 500 characters; empty or omitted for a rating alone.' }) review?: string | null,
  ): Promise<TemplateReviewType> {
    return this.deps.templateRatings.rate(requireCaller(ctx), templateName, stars, review, ctx);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => TemplateReviewType, {
    description: "Deletes a review: the caller's own; admins may delete anyone's (another user's answers FORBIDDEN). Returns what was deleted. Audited (template.review.delete).",
  })
  deleteTemplateReview(@Arg('id', () => ID, { description: 'Review id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<TemplateReviewType> {
    return this.deps.templateRatings.remove(requireCaller(ctx), id, ctx);
  }
}

/** Ratings and usage on installed templates. */
@Resolver(() => TemplateType)
export class TemplateRatingFieldsResolver {
  constructor(private readonly deps: TemplateRatingResolverDeps) {}

  @FieldResolver(() => TemplateRatingSummaryType, { description: "Users' ratings: average stars and how many rated it." })
  rating(@Root() template: TemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateRatingSummaryType> {
    return summaryLoader(ctx, this.deps).load(template.name);
  }

  @FieldResolver(() => TemplateReviewType, { nullable: true, description: "The caller's own rating and review, or null." })
  myReview(@Root() template: TemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateReviewType | null> {
    return mineLoader(ctx, this.deps).load(template.name);
  }

  @FieldResolver(() => TemplateUsageType, { nullable: true, description: 'Installs, launches and running sessions; null unless the caller is an admin, operator or auditor.' })
  usage(@Root() template: TemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateUsageType | null> {
    return usageOf(ctx, this.deps, template.name);
  }
}

/** The same figures on catalog entries, by the name the installed Template has (the catalog entry's name). */
@Resolver(() => CatalogTemplateType)
export class CatalogTemplateRatingResolver {
  constructor(private readonly deps: TemplateRatingResolverDeps) {}

  @FieldResolver(() => TemplateRatingSummaryType, { description: "Users' ratings of the Template of this name." })
  rating(@Root() template: CatalogTemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateRatingSummaryType> {
    return summaryLoader(ctx, this.deps).load(template.name);
  }

  @FieldResolver(() => TemplateReviewType, { nullable: true, description: "The caller's own rating and review of the Template of this name, or null." })
  myReview(@Root() template: CatalogTemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateReviewType | null> {
    return mineLoader(ctx, this.deps).load(template.name);
  }

  @FieldResolver(() => TemplateUsageType, { nullable: true, description: 'Installs, launches and running sessions of the Template of this name; null unless the caller is an admin, operator or auditor.' })
  usage(@Root() template: CatalogTemplateType, @Ctx() ctx: GraphQLContext): Promise<TemplateUsageType | null> {
    return usageOf(ctx, this.deps, template.name);
  }
}
