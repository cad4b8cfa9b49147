import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';
import { SettingSource } from './setting.type';

@InputType('SettingChangeInput', { description: 'One setting to change: a new value, or `reset` to go back to the default.' })
export class SettingChangeInput {
  @Field({ description: 'Key of the setting, such as `storage.homeSize`.' })
  key!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: "The new value (see the setting's `kind` and `rule`); ignored with `reset`." })
  value?: unknown;

  @Field({ nullable: true, defaultValue: false, description: 'Remove the saved value, so the environment or built-in default applies again.' })
  reset?: boolean;
}

@ObjectType('SettingFieldError', { description: 'Why one setting of a change was refused.' })
export class SettingFieldErrorType {
  @Field({ description: 'Key of the setting (an unknown key is reported under itself).' })
  key!: string;

  @Field({ description: 'What is wrong, in words.' })
  message!: string;
}

@ObjectType('SettingDiff', { description: 'One setting a change alters: its value and source before and after (secret values masked).' })
export class SettingDiffType {
  @Field({ description: 'Key of the setting.' })
  key!: string;

  @Field({ description: 'Short name of the setting (the key, for a setting this version of the server no longer knows).' })
  label!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The effective value before.' })
  before!: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The effective value after.' })
  after!: unknown;

  @Field(() => SettingSource, { description: 'Where the value before came from.' })
  beforeSource!: SettingSource;

  @Field(() => SettingSource, { description: 'Where the value after comes from.' })
  afterSource!: SettingSource;
}

@ObjectType('SettingsDryRunObject', { description: "One object of the sample session, as the API server answered its dry-run create." })
export class SettingsDryRunObjectType {
  @Field({ description: 'Kubernetes kind: PersistentVolumeClaim, NetworkPolicy, Service, Ingress or Deployment.' })
  kind!: string;

  @Field({ description: 'Name of the sample object (nothing is created).' })
  name!: string;

  @Field({ description: 'True when the API server accepted it.' })
  accepted!: boolean;

  @Field(() => String, { nullable: true, description: "The API server's reason for a refusal." })
  message!: string | null;
}

@ObjectType('SettingsDryRun', { description: "A server-side dry run of a sample session's objects built with the candidate settings." })
export class SettingsDryRunType {
  @Field({ description: 'False when it could not run (no cluster, or the values already broke their rules).' })
  ran!: boolean;

  @Field(() => String, { nullable: true, description: 'Why it did not run.' })
  skippedReason!: string | null;

  @Field(() => [SettingsDryRunObjectType], { description: 'Each object and the answer of the API server.' })
  objects!: SettingsDryRunObjectType[];
}

@ObjectType('SettingsPreview', { description: 'What a change would do, checked and tried but not saved.' })
export class SettingsPreviewType {
  @Field({ description: 'True when applySettings would accept the same changes now.' })
  valid!: boolean;

  @Field(() => [SettingFieldErrorType], { description: 'Field-level errors: rules broken and dry-run refusals, per setting.' })
  errors!: SettingFieldErrorType[];

  @Field(() => [SettingDiffType], { description: 'The settings whose effective value or source would change.' })
  changes!: SettingDiffType[];

  @Field(() => SettingsDryRunType, { description: "The API server's answer for a sample session's objects." })
  dryRun!: SettingsDryRunType;
}

@ObjectType('SettingVersion', { description: 'One applied change of the runtime settings (admin only).' })
export class SettingVersionType {
  @Field(() => Int, { description: 'Version number, increasing.' })
  id!: number;

  @Field({ description: 'When it was applied.' })
  createdAt!: Date;

  @Field(() => String, { nullable: true, description: 'Username of the admin who applied it.' })
  actor!: string | null;

  @Field({ description: 'apply (a batch), update or reset (one setting), restore (of an earlier version).' })
  action!: string;

  @Field(() => Int, { nullable: true, description: 'For a restore: the version it brought back.' })
  restoredFrom!: number | null;

  @Field(() => [SettingDiffType], { description: 'Per setting: before and after (secret values masked).' })
  changes!: SettingDiffType[];
}

export const SettingVersionConnection = ConnectionType(SettingVersionType, 'SettingVersion', 'A page of configuration versions, newest first.');

@ObjectType('SettingsApplyResult', { description: 'The result of applySettings or restoreSettingVersion.' })
export class SettingsApplyResultType {
  @Field(() => SettingVersionType, { nullable: true, description: 'The new version (null when nothing changed).' })
  version!: SettingVersionType | null;

  @Field(() => [SettingsDryRunObjectType], { description: "The API server's answers for the sample session's objects (empty without a cluster)." })
  dryRun!: SettingsDryRunObjectType[];
}
