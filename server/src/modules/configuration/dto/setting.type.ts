import { GraphQLJSON } from 'graphql-scalars';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { SettingGroup, SettingValueKind } from '../settings.registry';

export enum SettingSource {
  ENVIRONMENT = 'ENVIRONMENT',
  DATABASE = 'DATABASE',
  DEFAULT = 'DEFAULT',
}
registerEnumType(SettingSource, {
  name: 'SettingSource',
  description: 'Where the effective value of a setting comes from.',
  valuesConfig: {
    ENVIRONMENT: { description: 'The environment variable of the setting, set when the server started.' },
    DATABASE: { description: 'A value an admin saved (updateSetting, applySettings, restoreSettingVersion); it overrides the environment until reset.' },
    DEFAULT: { description: 'The built-in default: neither the environment nor an admin set a value.' },
  },
});

registerEnumType(SettingGroup, {
  name: 'SettingGroup',
  description: 'The part of the platform a setting belongs to (the admin console groups its form by it).',
  valuesConfig: {
    ROUTING: { description: 'How sessions are reached through their own Ingress.' },
    STORAGE: { description: 'Persistent home volumes.' },
    RESOURCES: { description: 'Resource defaults and maximums of one session.' },
    SESSIONS: { description: 'Session lifetime: idle timeout, longest life, heartbeats.' },
    FEATURES: { description: 'Feature flags.' },
    QUOTAS: { description: 'Default per-user quotas.' },
    PORTAL: { description: 'The user portal.' },
  },
});

registerEnumType(SettingValueKind, {
  name: 'SettingValueKind',
  description: 'How a setting\'s value is written.',
  valuesConfig: {
    INTEGER: { description: 'A whole number (JSON number).' },
    CPU: { description: 'CPU cores: a JSON number, or a Kubernetes quantity string such as "500m"; stored as cores.' },
    MEMORY: { description: 'Bytes: a JSON number, or a Kubernetes quantity string such as "16Gi"; stored as bytes.' },
    TEXT: { description: 'A string.' },
    BOOLEAN: { description: 'true or false.' },
    DURATION: { description: 'A duration string such as "30s", "15m" or "8h" (empty where the rule allows none).' },
    CHOICE: { description: 'One of the strings in `choices`.' },
    QUANTITY: { description: 'A Kubernetes quantity string kept as written, such as "10Gi".' },
  },
});

@ObjectType('Setting', { description: 'A runtime setting (admin only): an environment default an admin may override without a restart.' })
export class SettingType {
  @Field({ description: 'Stable key, such as `quota.maxSessions`.' })
  key!: string;

  @Field({ description: 'Short name for display.' })
  label!: string;

  @Field({ description: 'What the setting does.' })
  description!: string;

  @Field(() => SettingValueKind, { description: 'How the value is written.' })
  kind!: SettingValueKind;

  @Field(() => SettingGroup, { description: 'The part of the platform the setting belongs to.' })
  group!: SettingGroup;

  @Field(() => [String], { nullable: true, description: 'CHOICE: the values allowed (null for other kinds).' })
  choices!: string[] | null;

  @Field({ description: 'The rule a value must follow, in words.' })
  rule!: string;

  @Field({ description: 'The environment variable that gives the default.' })
  envVariable!: string;

  @Field(() => GraphQLJSON, { description: 'The effective value (the saved one, else the default).' })
  value!: unknown;

  @Field(() => GraphQLJSON, { description: 'The default, from the environment at start.' })
  defaultValue!: unknown;

  @Field(() => SettingSource, { description: 'Where the effective value comes from: an admin (DATABASE), the environment, or the built-in default.' })
  source!: SettingSource;

  @Field(() => SettingSource, { description: 'Where the default comes from: ENVIRONMENT when its variable is set, else DEFAULT.' })
  defaultSource!: SettingSource;

  @Field(() => Date, { nullable: true, description: 'When an admin last saved the value (null for the default).' })
  updatedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Username of the admin who last saved the value (null for the default).' })
  updatedBy!: string | null;
}
