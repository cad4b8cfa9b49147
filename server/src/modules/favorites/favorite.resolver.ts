import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AppServices } from '../../app';
import { requireCaller } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { TemplateType } from '../templates/dto/template.type';
import type { TemplateService } from '../templates/template.service';
import { FavoriteType, RecentAppType } from './dto/favorite.type';
import { FavoriteService } from './favorite.service';

function templateLoader(ctx: GraphQLContext, templates: TemplateService | null) {
  return ctx.loaders.get(
    'templateByName',
    () => new DataLoader<string, TemplateType | null>((names) => (templates ? templates.getMany(names) : Promise.resolve(names.map(() => null)))),
  );
}

@Resolver(() => FavoriteType)
export class FavoriteResolver {
  private readonly favorites: FavoriteService;
  private readonly templates: TemplateService | null;

  constructor(services: AppServices) {
    this.templates = services.templates ?? null;
    this.favorites = new FavoriteService({
      dataSource: services.database?.dataSource,
      audit: services.audit,
      templates: this.templates,
      hasCluster: Boolean(services.cluster),
      namespace: services.config?.sessions.namespace,
    });
  }

  @Authorized()
  @Query(() => [FavoriteType], { description: "The caller's pinned templates, oldest pin first." })
  myFavorites(@Ctx() ctx: GraphQLContext): Promise<FavoriteType[]> {
    return this.favorites.list(requireCaller(ctx));
  }

  @Authorized()
  @Query(() => [RecentAppType], { description: "Templates the caller recently started sessions of, most recent first." })
  recentApps(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 6, description: 'How many apps, 1 to 50 (default 6).' }) first: number,
  ): Promise<RecentAppType[]> {
    return this.favorites.recent(requireCaller(ctx), first);
  }

  @Authorized()
  @Mutation(() => [FavoriteType], { description: "Pins or unpins a template in the caller's launcher; returns the caller's favorites afterwards." })
  setFavorite(
    @Arg('template', { description: 'Name of the template.' }) template: string,
    @Arg('favorite', { description: 'True to pin, false to unpin.' }) favorite: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<FavoriteType[]> {
    return this.favorites.set(requireCaller(ctx), template, favorite, ctx);
  }

  @FieldResolver(() => TemplateType, { nullable: true, description: 'The template (null if it was deleted); batched per request.' })
  template(@Root() favorite: FavoriteType, @Ctx() ctx: GraphQLContext): Promise<TemplateType | null> {
    return templateLoader(ctx, this.templates).load(favorite.templateName);
  }
}

@Resolver(() => RecentAppType)
export class RecentAppResolver {
  private readonly templates: TemplateService | null;

  constructor(services: AppServices) {
    this.templates = services.templates ?? null;
  }

  @FieldResolver(() => TemplateType, { nullable: true, description: 'The template (null if it was deleted); batched per request.' })
  template(@Root() app: RecentAppType, @Ctx() ctx: GraphQLContext): Promise<TemplateType | null> {
    return templateLoader(ctx, this.templates).load(app.templateName);
  }
}
