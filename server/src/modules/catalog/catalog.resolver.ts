import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Access, readsAll, requireCaller } from '../../platform/graphql/authorization';
import { specForUser } from '../templates/template-security';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import type { CatalogServices } from './catalog.module';
import { SYNC_PROGRESS_TOPIC, type SyncProgressEvent } from './catalog-sync.service';
import {
  CatalogCategoryType,
  CatalogInstallResultType,
  CatalogSort,
  CatalogTemplateConnection,
  CatalogTemplateFilter,
  CatalogTemplateType,
  RepositorySyncProgressType,
  type SyncPhaseEnum,
} from './dto/catalog-template.type';

export interface CatalogResolverDeps {
  catalog: CatalogServices;
}

/** Browsing and installing the template catalog. */
@Resolver(() => CatalogTemplateType)
export class CatalogResolver {
  constructor(private readonly deps: CatalogResolverDeps) {}

  @Authorized()
  @Query(() => CatalogTemplateConnection, {
    description: 'Templates of every repository the caller may see, filtered, searched and paged (Relay connection).',
    complexity: ({ args, childComplexity }) => (Number(args.first) || 20) * childComplexity,
  })
  catalogTemplates(
    @Args(() => PaginationArgs) page: PaginationArgs,
    @Arg('filter', () => CatalogTemplateFilter, { nullable: true, description: 'Conditions; all must hold.' }) filter: CatalogTemplateFilter | null,
    @Arg('sort', () => CatalogSort, { nullable: true, description: 'Order (default RELEVANCE when searching, else NAME).' }) sort: CatalogSort | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<CatalogTemplateType>> {
    return this.deps.catalog.catalogTemplates.list(requireCaller(ctx), filter, page.first, page.after, sort);
  }

  @Authorized()
  @Query(() => CatalogTemplateType, { description: 'One catalog template by id.' })
  catalogTemplate(@Arg('id', () => ID, { description: 'Catalog template id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<CatalogTemplateType> {
    return this.deps.catalog.catalogTemplates.get(requireCaller(ctx), id);
  }

  @Authorized()
  @Query(() => [CatalogCategoryType], { description: 'Categories of the catalog with how many templates each holds (after the filter, ignoring its category).' })
  catalogCategories(
    @Arg('filter', () => CatalogTemplateFilter, { nullable: true, description: 'Count only templates matching this filter.' }) filter: CatalogTemplateFilter | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CatalogCategoryType[]> {
    return this.deps.catalog.catalogTemplates.categories(requireCaller(ctx), filter);
  }

  /** Field-level authorization: env values (and which Secrets env reads) are for admins only. */
  @FieldResolver(() => GraphQLJSONObject)
  manifest(@Root() template: CatalogTemplateType, @Ctx() ctx: GraphQLContext): Record<string, unknown> {
    const manifest = template.manifest;
    if (readsAll(ctx.caller) || typeof manifest.spec !== 'object' || manifest.spec === null) return manifest;
    return { ...manifest, spec: specForUser(manifest.spec as Record<string, unknown>) };
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => CatalogInstallResultType, {
    description: 'Creates or updates the Template object from a catalog template (annotated with its repository and commit); counts the install.',
  })
  installCatalogTemplate(
    @Arg('repository', { description: 'Repository name.' }) repository: string,
    @Arg('name', { description: 'Template name within the repository.' }) name: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CatalogInstallResultType> {
    return this.deps.catalog.catalogTemplates.install(requireCaller(ctx), repository, name, ctx);
  }

  @Authorized(...Access.OPERATIONS_READ)
  @Subscription(() => RepositorySyncProgressType, {
    description: 'Progress of repository syncs (manual and scheduled), optionally of one repository.',
    topics: SYNC_PROGRESS_TOPIC,
    filter: ({ payload, args }) => !args.repositoryId || (payload as SyncProgressEvent).repositoryId === args.repositoryId,
  })
  repositorySyncProgress(
    @Root() event: SyncProgressEvent,
    @Arg('repositoryId', () => ID, { nullable: true, description: 'Only this repository (default: all).' }) _repositoryId: string | null,
  ): RepositorySyncProgressType {
    return { ...event, phase: event.phase as SyncPhaseEnum };
  }
}
