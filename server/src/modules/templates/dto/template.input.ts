import { Field, InputType, Int } from 'type-graphql';
import { AppTypeEnum } from './template.type';

@InputType('ResourceListInput', { description: 'CPU and memory as Kubernetes quantities.' })
export class ResourceListInput {
  @Field(() => String, { nullable: true, description: 'CPU, e.g. 500m or 2.' })
  cpu?: string;

  @Field(() => String, { nullable: true, description: 'Memory, e.g. 1Gi.' })
  memory?: string;
}

@InputType('ResourcesInput', { description: 'Compute resources.' })
export class ResourcesInput {
  @Field(() => ResourceListInput, { nullable: true, description: 'Guaranteed resources.' })
  requests?: ResourceListInput;

  @Field(() => ResourceListInput, { nullable: true, description: 'Maximum resources.' })
  limits?: ResourceListInput;
}

@InputType('TemplateSpecInput', { description: 'Fields of a Template; omitted fields are left out (create) or unchanged (update).' })
export class TemplateSpecInput {
  @Field(() => String, { nullable: true, description: 'Name shown in the catalog (required on create).' })
  displayName?: string;

  @Field(() => String, { nullable: true, description: 'What the app is.' })
  description?: string;

  @Field(() => String, { nullable: true, description: 'Catalog category.' })
  category?: string;

  @Field(() => String, { nullable: true, description: 'URL of the icon.' })
  icon?: string;

  @Field(() => [String], { nullable: true, description: 'Search tags.' })
  tags?: string[];

  @Field(() => String, { nullable: true, description: 'Container image (required on create).' })
  baseImage?: string;

  @Field(() => AppTypeEnum, { nullable: true, description: 'How the app is streamed (required on create).' })
  appType?: AppTypeEnum;

  @Field(() => Int, { nullable: true, description: "The web app's port (webapp and hybrid)." })
  webappPort?: number;

  @Field(() => Int, { nullable: true, description: 'The VNC port (desktop and hybrid).' })
  vncPort?: number;

  @Field(() => ResourcesInput, { nullable: true, description: 'Default resources of sessions.' })
  defaultResources?: ResourcesInput;

  @Field(() => [String], { nullable: true, description: 'Features the app offers.' })
  capabilities?: string[];
}

@InputType('CreateTemplateInput', { description: 'A new Template.' })
export class CreateTemplateInput extends TemplateSpecInput {
  @Field({ description: 'Unique name, a DNS label (lower-case letters, digits and "-").' })
  name!: string;
}
