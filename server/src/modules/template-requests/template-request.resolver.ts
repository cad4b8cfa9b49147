import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import DataLoader from 'dataloader';
import { Access, requireCaller, Role } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import { CatalogTemplateType } from '../catalog/dto/catalog-template.type';
import type { TemplateType } from '../templates/dto/template.type';
import type { TemplateService } from '../templates/template.service';
import { TemplateRequestConnection, TemplateRequestType } from './dto/template-request.type';
import type { TemplateRequestService } from './template-request.service';

export interface TemplateRequestResolverDeps {
  templateRequests: TemplateRequestService;
  templates: TemplateService;
}

/** Users browse the catalog in the portal (when allowed) and ask admins for templates that are not installed. */
@Resolver(() => TemplateRequestType)
export class TemplateRequestResolver {
  constructor(private readonly deps: TemplateRequestResolverDeps) {}

  @Authorized()
  @Query(() => Boolean, { description: 'Whether the portal offers users the catalog, to launch installed templates and request the others (setting features.catalogBrowsing).' })
  catalogBrowsingEnabled(): Promise<boolean> {
    return this.deps.templateRequests.browsingEnabled();
  }

  @Authorized(...Access.ACT)
  @Mutation(() => TemplateRequestType, {
    description:
      'Asks admins to install a catalog template (users, operators, admins; not auditors); asking again refreshes the request. CONFLICT when features.catalogBrowsing is off (details.setting) or ' +
      'the template is already installed. Audited (template.request).',
  })
  requestTemplate(
    @Arg('catalogTemplateId', () => ID, { description: 'Id of the catalog template.' }) catalogTemplateId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('reason', () => String, { nullable: true, description: 'Why it is needed (at most 500 characters).' }) reason?: string | null,
  ): Promise<TemplateRequestType> {
    return this.deps.templateRequests.request(requireCaller(ctx), catalogTemplateId, reason, ctx);
  }

  @Authorized()
  @Query(() => [TemplateRequestType], { description: "The caller's template requests, most recently asked first." })
  myTemplateRequests(@Ctx() ctx: GraphQLContext): Promise<TemplateRequestType[]> {
    return this.deps.templateRequests.mine(requireCaller(ctx));
  }

  @Authorized(Role.ADMIN)
  @Query(() => TemplateRequestConnection, { description: "Users' template requests, most recently asked first (admin only)." })
  templateRequests(@Args(() => PaginationArgs) page: PaginationArgs): Promise<Connection<TemplateRequestType>> {
    return this.deps.templateRequests.list(page.first, page.after);
  }
}

/** Whether a catalog entry is installed, so the portal offers Launch or Request. */
@Resolver(() => CatalogTemplateType)
export class CatalogTemplateInstalledResolver {
  constructor(private readonly deps: TemplateRequestResolverDeps) {}

  @FieldResolver(() => Boolean, { description: 'Whether a Template of this name is installed (users can launch it).' })
  async installed(@Root() template: CatalogTemplateType, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const loader = ctx.loaders.get('templateByName', () => new DataLoader<string, TemplateType | null>((names) => this.deps.templates.getMany(names)));
    return (await loader.load(template.name)) !== null;
  }
}
