import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Access } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import type { CatalogServices } from './catalog.module';
import { AddRepositoryInput, UpdateRepositoryInput } from './dto/repository.input';
import { RepositoryType } from './dto/repository.type';
import { toRepositoryType } from './repository.service';

export interface RepositoryResolverDeps {
  catalog: CatalogServices;
}

/** Template repositories: admins only. */
@Resolver(() => RepositoryType)
export class RepositoryResolver {
  constructor(private readonly deps: RepositoryResolverDeps) {}

  @Authorized(...Access.OPERATIONS_READ)
  @Query(() => [RepositoryType], { description: 'Every template repository, by name, with its sync status.' })
  async repositories(): Promise<RepositoryType[]> {
    return (await this.deps.catalog.repositories.list()).map(toRepositoryType);
  }

  @Authorized(...Access.OPERATIONS_READ)
  @Query(() => RepositoryType, { description: 'One template repository.' })
  async repository(@Arg('id', () => ID, { description: 'Repository id.' }) id: string): Promise<RepositoryType> {
    return toRepositoryType(await this.deps.catalog.repositories.get(id));
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => RepositoryType, { description: 'Adds a template repository (status Pending until its first sync).' })
  async addRepository(@Arg('input', () => AddRepositoryInput, { description: 'The repository.' }) input: AddRepositoryInput, @Ctx() ctx: GraphQLContext): Promise<RepositoryType> {
    return toRepositoryType(await this.deps.catalog.repositories.add(input, ctx));
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => RepositoryType, { description: 'Changes a template repository; a new URL, branch or path makes the next sync read everything.' })
  async updateRepository(
    @Arg('id', () => ID, { description: 'Repository id.' }) id: string,
    @Arg('input', () => UpdateRepositoryInput, { description: 'Fields to change.' }) input: UpdateRepositoryInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RepositoryType> {
    return toRepositoryType(await this.deps.catalog.repositories.update(id, input, ctx));
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => RepositoryType, { description: 'Removes a repository and its catalog entries; Templates installed from it stay. Returns what was removed.' })
  async removeRepository(@Arg('id', () => ID, { description: 'Repository id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<RepositoryType> {
    return toRepositoryType(await this.deps.catalog.repositories.remove(id, ctx));
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => RepositoryType, { description: 'Syncs a repository now and returns it when done (a failure shows in status and syncError; the last good catalog stays).' })
  async syncRepository(@Arg('id', () => ID, { description: 'Repository id.' }) id: string, @Ctx() ctx: GraphQLContext): Promise<RepositoryType> {
    return toRepositoryType(await this.deps.catalog.repositories.syncNow(id, ctx));
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => [RepositoryType], { description: 'Starts syncing every repository in the background; follow repositorySyncProgress.' })
  async syncRepositories(@Ctx() ctx: GraphQLContext): Promise<RepositoryType[]> {
    return (await this.deps.catalog.repositories.syncAll(ctx)).map(toRepositoryType);
  }
}
