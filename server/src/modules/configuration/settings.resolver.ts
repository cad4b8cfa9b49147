import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Args, Authorized, Ctx, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Access, Role } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import { resolverOf } from '../../platform/graphql/schema';
import { SettingType } from './dto/setting.type';
import { SettingChangeInput, SettingsApplyResultType, SettingsPreviewType, SettingVersionConnection, type SettingVersionType } from './dto/settings-change.type';
import type { SettingsService } from './settings.service';

@Resolver(() => SettingType)
export class SettingsResolver {
  constructor(readonly deps: { settings: SettingsService }) {}

  @Authorized(...Access.AUDIT_READ)
  @Query(() => [SettingType], { description: 'Every runtime setting with its effective value, default and source (admins and auditors).' })
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

  @Authorized(Role.ADMIN)
  @Query(() => SettingVersionConnection, { description: 'Every applied change of the settings as a version (who, when, per-setting diff), newest first (admin only).' })
  settingVersions(@Args(() => PaginationArgs) page: PaginationArgs): Promise<Connection<SettingVersionType>> {
    return this.deps.settings.versions(page.first, page.after);
  }

  @Authorized(Role.ADMIN)
  @Query(() => SettingsPreviewType, {
    description:
      "Tests changes without saving anything (admin only): field-level errors for values that break their rules, a server-side dry run of " +
      "a sample session's objects built with the result (refusals reported on the settings that shape the refused object), and the diff.",
  })
  previewSettings(@Arg('changes', () => [SettingChangeInput], { description: 'The settings to change, each once.' }) changes: SettingChangeInput[]): Promise<SettingsPreviewType> {
    return this.deps.settings.preview(changes);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SettingsApplyResultType, {
    description:
      'Applies changes as one new version, all or nothing (admin only): BAD_USER_INPUT with `details.fieldErrors` (key, message) when a value ' +
      "breaks its rule or the API server's dry run refuses an object a changed setting shapes; then nothing is saved. Audited.",
  })
  applySettings(
    @Arg('changes', () => [SettingChangeInput], { description: 'The settings to change, each once.' }) changes: SettingChangeInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<SettingsApplyResultType> {
    return this.deps.settings.apply(changes, ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SettingsApplyResultType, {
    description:
      'Brings back the saved values as they were right after an earlier version, in one step, as a new version (admin only); checked like ' +
      'applySettings. NOT_FOUND for an unknown version. Audited.',
  })
  restoreSettingVersion(
    @Arg('id', () => Int, { description: 'Number of the version to restore.' }) id: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SettingsApplyResultType> {
    return this.deps.settings.restore(id, ctx);
  }
}
