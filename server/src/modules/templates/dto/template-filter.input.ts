import { Field, InputType } from 'type-graphql';
import { AppTypeEnum } from './template.type';

@InputType('TemplateFilter', { description: 'Conditions on templates; all given ones must hold.' })
export class TemplateFilterInput {
  @Field(() => String, { nullable: true, description: 'Exact category.' })
  category?: string;

  @Field(() => AppTypeEnum, { nullable: true, description: 'Only this app type.' })
  appType?: AppTypeEnum;

  @Field(() => String, { nullable: true, description: 'Case-insensitive text in the name, display name, description or tags.' })
  search?: string;

  @Field(() => Boolean, { nullable: true, description: 'Only valid (true) or invalid (false) templates.' })
  valid?: boolean;
}
