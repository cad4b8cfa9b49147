import { Field, ID, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';

@ObjectType('TemplateRequest', { description: 'A user asked admins to install a catalog template.' })
export class TemplateRequestType {
  @Field(() => ID, { description: 'Id of the request.' })
  id!: string;

  @Field({ description: 'Username of the user who asked.' })
  user!: string;

  @Field({ description: 'Repository of the catalog template.' })
  repository!: string;

  @Field({ description: 'Name of the catalog template within its repository.' })
  template!: string;

  @Field({ description: 'Display name of the template when it was requested.' })
  displayName!: string;

  @Field(() => String, { nullable: true, description: 'Why the user wants it, as they wrote it.' })
  reason!: string | null;

  @Field({ description: 'When it was first requested.' })
  createdAt!: Date;

  @Field({ description: 'When it was last requested (asking again refreshes it).' })
  updatedAt!: Date;
}

export const TemplateRequestConnection = ConnectionType(TemplateRequestType, 'TemplateRequest', 'A page of template requests, most recently asked first.');
