import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

export enum AppTypeEnum {
  webapp = 'webapp',
  desktop = 'desktop',
  hybrid = 'hybrid',
}
registerEnumType(AppTypeEnum, {
  name: 'AppType',
  description: 'How an app is streamed.',
  valuesConfig: {
    webapp: { description: "The app's own web UI, proxied to the browser." },
    desktop: { description: 'A desktop over VNC.' },
    hybrid: { description: 'Both a web UI and a VNC desktop.' },
  },
});

@ObjectType('ResourceList', { description: 'CPU and memory as Kubernetes quantities.' })
export class ResourceListType {
  @Field(() => String, { nullable: true, description: 'CPU, e.g. 500m or 2.' })
  cpu?: string | null;

  @Field(() => String, { nullable: true, description: 'Memory, e.g. 1Gi.' })
  memory?: string | null;
}

@ObjectType('Resources', { description: 'Compute resources of a container.' })
export class ResourcesType {
  @Field(() => ResourceListType, { nullable: true, description: 'Guaranteed resources.' })
  requests?: ResourceListType | null;

  @Field(() => ResourceListType, { nullable: true, description: 'Maximum resources.' })
  limits?: ResourceListType | null;
}

@ObjectType('Template', { description: 'An app users can launch as a session (a Template object in the cluster).' })
export class TemplateType {
  @Field({ description: 'Unique name (a DNS label); sessions refer to it.' })
  name!: string;

  @Field({ description: 'Name shown in the catalog.' })
  displayName!: string;

  @Field({ description: 'What the app is.' })
  description!: string;

  @Field({ description: 'Catalog category.' })
  category!: string;

  @Field(() => String, { nullable: true, description: 'URL of the icon.' })
  icon!: string | null;

  @Field(() => [String], { description: 'Search tags.' })
  tags!: string[];

  @Field({ description: 'Container image.' })
  baseImage!: string;

  @Field(() => AppTypeEnum, { description: 'How the app is streamed.' })
  appType!: AppTypeEnum;

  @Field(() => Int, { nullable: true, description: "The web app's port (webapp and hybrid)." })
  webappPort!: number | null;

  @Field(() => Int, { nullable: true, description: 'The VNC port (desktop and hybrid).' })
  vncPort!: number | null;

  @Field(() => ResourcesType, { nullable: true, description: 'Resources a session gets unless it overrides them.' })
  defaultResources!: ResourcesType | null;

  @Field(() => [String], { description: 'Features the app offers, e.g. Audio, Clipboard.' })
  capabilities!: string[];

  @Field(() => [String], {
    description:
      'Exceptions to the restricted pod security this template asks for (run as root, added Linux capabilities), in words; empty for most templates.',
  })
  securityExceptions!: string[];

  @Field(() => Boolean, {
    description: 'False while the template asks for security exceptions no admin has approved (approveTemplateSecurity); no session of it can start until then.',
  })
  securityApproved!: boolean;

  @Field(() => Boolean, { nullable: true, description: 'Result of validation by the server; null until validated.' })
  valid!: boolean | null;

  @Field(() => String, { nullable: true, description: 'Validation message.' })
  message!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the Template object was created.' })
  createdAt!: Date | null;

  @Field(() => GraphQLJSONObject, {
    description: 'The whole spec as stored (stream.streamspace.io/v1alpha1). Only admins see env values and the Secrets and ConfigMaps env reads; others get env names only.',
  })
  spec!: Record<string, unknown>;
}
