import 'reflect-metadata';
import { expect } from 'chai';
import { execute, parse } from 'graphql';
import { Arg, Authorized, Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { buildApiSchema, directFieldResolversOf } from './schema';

@ObjectType({ description: 'A test item.' })
class DfrItem {
  @Field({ description: 'Name.' })
  name!: string;
}

/** What each call of `label` received: whether its root was a DfrItem instance, and the context's tag. */
const seen: { instance: boolean; tag: string }[] = [];

@Resolver(() => DfrItem)
class DfrItemResolver {
  constructor(readonly deps: { suffix: string }) {}

  @Query(() => [DfrItem], { description: 'Items: an instance and a plain object.' })
  dfrItems(): DfrItem[] {
    return [Object.assign(new DfrItem(), { name: 'a' }), { name: 'plain' } as DfrItem];
  }

  @FieldResolver(() => String, { description: 'Root, context and the instance.' })
  label(@Ctx() ctx: { tag: string }, @Root() item: DfrItem): string {
    seen.push({ instance: item instanceof DfrItem, tag: ctx.tag });
    return `${item.name}-${ctx.tag}-${this.deps.suffix}`;
  }

  @Authorized('admin')
  @FieldResolver(() => String, { description: 'Guarded.' })
  dfrSecret(): string {
    return 'secret';
  }

  @FieldResolver(() => String, { description: 'With an argument.' })
  echo(@Root() item: DfrItem, @Arg('x', { description: 'Echoed.' }) x: string): string {
    return `${item.name}:${x}`;
  }
}

describe('GraphQL schema: field resolvers called directly when nothing runs around them', () => {
  it('calls a plain @FieldResolver directly, keeps guarded ones and ones with arguments on type-graphql, and converts a plain root as before', async () => {
    const schema = await buildApiSchema({ resolvers: [DfrItemResolver], services: { suffix: 'z' } });
    expect(directFieldResolversOf(schema)).to.deep.equal(['DfrItem.label']);

    seen.length = 0;
    const user = await execute({ schema, document: parse('{ dfrItems { name label echo(x: "1") } }'), contextValue: { tag: 't', caller: { role: 'user' } } });
    expect(user.errors).to.equal(undefined);
    expect(user.data).to.deep.equal({
      dfrItems: [
        { name: 'a', label: 'a-t-z', echo: 'a:1' },
        { name: 'plain', label: 'plain-t-z', echo: 'plain:1' },
      ],
    });
    // The plain object went through type-graphql's own resolver, which hands the method an instance.
    expect(seen).to.deep.equal([
      { instance: true, tag: 't' },
      { instance: true, tag: 't' },
    ]);

    // The guard still runs: a user is refused, an admin answered.
    const refused = await execute({ schema, document: parse('{ dfrItems { dfrSecret } }'), contextValue: { tag: 't', caller: { role: 'user' } } });
    // (The first refusal nulls the non-null list, so graphql-js reports that one.)
    expect(refused.errors?.map((e) => e.message)).to.deep.equal(['This operation needs one of the roles: admin']);
    expect(refused.data).to.equal(null);
    const admin = await execute({ schema, document: parse('{ dfrItems { dfrSecret } }'), contextValue: { tag: 't', caller: { role: 'admin' } } });
    expect(admin.data).to.deep.equal({ dfrItems: [{ dfrSecret: 'secret' }, { dfrSecret: 'secret' }] });
  });
});
