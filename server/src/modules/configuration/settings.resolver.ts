import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Role } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { resolverOf } from '../../platform/graphql/schema';
import { SettingType } from './dto/setting.type';
import type { SettingsService } from './settings.service';

@Resolver(() => SettingType)
export class SettingsResolver {
  constructor(readonly deps: { settings: SettingsService }) {}

  @Authorized(Role.ADMIN)
  @Query(() => [SettingType], { description: 'Every runtime setting with its effective value, default and source (admin only).' })
  settings(): Promise<SettingType[]> {
    return this.deps.settings.list();
  }

  @Authorized()
  @Query(() => String, { nullable: true, description: 'The announcement the portal shows as a banner (null when there is none).' })
  announcement(): Promise<string | null> {
    return this.deps.settings.announcement();
  }

  @Authorized()
  @Subscription(() => String, {
    nullable: true,
    subscribe: ({ info }) => resolverOf(info, SettingsResolver).deps.settings.announcements(),
    description: 'The announcement now, then each time an admin changes it (null when there is none).',
  })
  announcementChanged(@Root() text: string | null): string | null {
    return text;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SettingType, {
    description:
      'Saves a value for a setting; it takes effect at once on every replica (admin only). NOT_FOUND for an unknown key, ' +
      'BAD_USER_INPUT (naming the rule) for a value that breaks the setting\'s rule. Audited.',
  })
  updateSetting(
    @Arg('key', { description: 'Key of the setting, such as `quota.maxSessions`.' }) key: string,
    @Arg('value', () => GraphQLJSON, { description: 'The new value (see the setting\'s `kind` and `rule`).' }) value: unknown,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SettingType> {
    return this.deps.settings.update(key, value, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SettingType, { description: 'Removes the saved value of a setting so its default applies again (admin only). Audited.' })
  resetSetting(
    @Arg('key', { description: 'Key of the setting.' }) key: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SettingType> {
    return this.deps.settings.reset(key, ctx);
  }
}
