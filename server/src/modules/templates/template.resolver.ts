import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Access, readsAll } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { notFound } from '../../platform/graphql/errors';
import type { TemplateService } from './template.service';
import { specForUser } from './template-security';
import { TemplateType } from './dto/template.type';
import { CreateTemplateInput, TemplateSpecInput } from './dto/template.input';
import { TemplateFilterInput } from './dto/template-filter.input';

export interface TemplateResolverDeps {
  templates: TemplateService;
}

@Resolver(() => TemplateType)
export class TemplateResolver {
  constructor(private readonly deps: TemplateResolverDeps) {}

  @Authorized()
  @Query(() => [TemplateType], { description: 'Templates users can launch, sorted by display name.' })
  templates(@Arg('filter', () => TemplateFilterInput, { nullable: true, description: 'Optional conditions.' }) filter?: TemplateFilterInput): Promise<TemplateType[]> {
    return this.deps.templates.list(filter ?? {});
  }

  @Authorized()
  @Query(() => TemplateType, { nullable: true, description: 'One template by name, or null.' })
  template(@Arg('name', { description: 'The template name.' }) name: string): Promise<TemplateType | null> {
    return this.deps.templates.get(name);
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => TemplateType, { description: 'Creates or updates a Template from a YAML manifest (stream.streamspace.io or the original stream.space format).' })
  applyTemplateYaml(@Arg('yaml', { description: 'One Template manifest.' }) yaml: string, @Ctx() ctx: GraphQLContext): Promise<TemplateType> {
    return this.deps.templates.applyYaml(yaml, ctx);
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => TemplateType, { description: 'Creates a Template.' })
  createTemplate(@Arg('input', () => CreateTemplateInput, { description: 'The new template.' }) input: CreateTemplateInput, @Ctx() ctx: GraphQLContext): Promise<TemplateType> {
    return this.deps.templates.createFromInput(input, ctx);
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => TemplateType, { description: 'Changes fields of a Template; omitted fields stay as they are.' })
  updateTemplate(
    @Arg('name', { description: 'The template to change.' }) name: string,
    @Arg('input', () => TemplateSpecInput, { description: 'Fields to change.' }) input: TemplateSpecInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<TemplateType> {
    return this.deps.templates.update(name, input, ctx);
  }

  /** Field-level authorization: a template's literal env values (and which Secrets it reads) are for admins only. */
  @FieldResolver(() => GraphQLJSONObject)
  spec(@Root() template: TemplateType, @Ctx() ctx: GraphQLContext): Record<string, unknown> {
    return readsAll(ctx.caller) ? template.spec : specForUser(template.spec);
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => TemplateType, {
    description:
      'Approves the security exceptions a template asks for now (securityExceptions), so its sessions may start; audited. Templates installed from a catalog need this; a later change of the exceptions needs a new approval.',
  })
  approveTemplateSecurity(@Arg('name', { description: 'The template to approve.' }) name: string, @Ctx() ctx: GraphQLContext): Promise<TemplateType> {
    return this.deps.templates.approveSecurity(name, ctx);
  }

  @Authorized(...Access.OPERATE)
  @Mutation(() => Boolean, { description: 'Deletes a Template (running sessions of it become Failed).' })
  async deleteTemplate(@Arg('name', { description: 'The template to delete.' }) name: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const ok = await this.deps.templates.delete(name, ctx);
    if (!ok) throw notFound('Template', name);
    return ok;
  }
}
