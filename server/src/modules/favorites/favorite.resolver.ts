import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Access, requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { TemplateType } from '../templates/dto/template.type';
import type { TemplateService } from '../templates/template.service';
import { FavoriteType, RecentAppType } from './dto/favorite.type';
import type { FavoriteService } from './favorite.service';

function templateLoader(ctx: GraphQLContext, templates: TemplateService | null) {
  return ctx.loaders.get(
    'templateByName',
    () => new DataLoader<string, TemplateType | null>((names) => (templates ? templates.getMany(names) : Promise.resolve(names.map(() => null)))),
  );
}

export interface FavoriteResolverDeps {
  favorites: FavoriteService;
  templates: TemplateService;
}

@Resolver(() => FavoriteType)
export class FavoriteResolver {
  constructor(private readonly deps: FavoriteResolverDeps) {}

  @Authorized()
  @Query(() => [FavoriteType], { description: "The caller's pinned templates, oldest pin first." })
  myFavorites(@Ctx() ctx: GraphQLContext): Promise<FavoriteType[]> {
    return this.deps.favorites.list(requireCaller(ctx));
  }

  @Authorized()
  @Query(() => [RecentAppType], { description: "Templates the caller recently started sessions of, most recent first." })
  recentApps(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 6, description: 'How many apps, 1 to 50 (default 6).' }) first: number,
  ): Promise<RecentAppType[]> {
    return this.deps.favorites.recent(requireCaller(ctx), first);
  }

  @Authorized(...Access.ACT)
  @Mutation(() => [FavoriteType], { description: "Pins or unpins a template in the caller's launcher; returns the caller's favorites afterwards." })
  setFavorite(
    @Arg('template', { description: 'Name of the template.' }) template: string,
    @Arg('favorite', { description: 'True to pin, false to unpin.' }) favorite: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<FavoriteType[]> {
    return this.deps.favorites.set(requireCaller(ctx), template, favorite, ctx);
  }

  @FieldResolver(() => TemplateType, { nullable: true, description: 'The template (null if it was deleted); batched per request.' })
  template(@Root() favorite: FavoriteType, @Ctx() ctx: GraphQLContext): Promise<TemplateType | null> {
    return templateLoader(ctx, this.deps.templates).load(favorite.templateName);
  }
}

@Resolver(() => RecentAppType)
export class RecentAppResolver {
  constructor(private readonly deps: Pick<FavoriteResolverDeps, 'templates'>) {}

  @FieldResolver(() => TemplateType, { nullable: true, description: 'The template (null if it was deleted); batched per request.' })
  template(@Root() app: RecentAppType, @Ctx() ctx: GraphQLContext): Promise<TemplateType | null> {
    return templateLoader(ctx, this.deps.templates).load(app.templateName);
  }
}
