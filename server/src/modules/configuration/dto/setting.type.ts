import { GraphQLJSON } from 'graphql-scalars';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { SettingValueKind } from '../settings.registry';

export enum SettingSource {
  ENVIRONMENT = 'ENVIRONMENT',
  DATABASE = 'DATABASE',
}
registerEnumType(SettingSource, {
  name: 'SettingSource',
  description: 'Where the effective value of a setting comes from.',
  valuesConfig: {
    ENVIRONMENT: { description: 'The default, from the environment variable (or its built-in default).' },
    DATABASE: { description: 'A value an admin saved (updateSetting); it overrides the default until resetSetting.' },
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

  @Field({ description: 'The rule a value must follow, in words.' })
  rule!: string;

  @Field({ description: 'The environment variable that gives the default.' })
  envVariable!: string;

  @Field(() => GraphQLJSON, { description: 'The effective value (the saved one, else the default).' })
  value!: unknown;

  @Field(() => GraphQLJSON, { description: 'The default, from the environment at start.' })
  defaultValue!: unknown;

  @Field(() => SettingSource, { description: 'Whether the effective value is the default or a saved override.' })
  source!: SettingSource;

  @Field(() => Date, { nullable: true, description: 'When an admin last saved the value (null for the default).' })
  updatedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Username of the admin who last saved the value (null for the default).' })
  updatedBy!: string | null;
}
