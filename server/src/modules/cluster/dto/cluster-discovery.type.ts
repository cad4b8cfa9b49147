import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../../../platform/graphql/pagination';

@ObjectType('ClusterApiResource', { description: 'A resource the API server offers (discovery), readable in the admin console; writable only when allow-listed.' })
export class ApiResourceType {
  @Field({ description: 'API group ("" for the core group).' })
  group!: string;

  @Field({ description: 'apiVersion (group/version, or v1 for the core group): the preferred version of the group.' })
  apiVersion!: string;

  @Field({ description: 'Kind, e.g. ReplicaSet.' })
  kind!: string;

  @Field({ description: 'Plural resource name used in its REST path, e.g. replicasets.' })
  plural!: string;

  @Field({ description: 'Whether its objects live in a namespace.' })
  namespaced!: boolean;

  @Field(() => [String], { description: 'Verbs the API server supports on it (not what the platform\'s ServiceAccount may do).' })
  verbs!: string[];

  @Field({ description: 'Whether the admin console may change it (the write allow-list, docs/decisions: cluster write allow-list).' })
  writable!: boolean;

  @Field(() => [String], { description: 'The admin console\'s operations on it when writable (apply, delete, scale, restart, undo, cordon, drain, exec, logs); empty when read-only.' })
  operations!: string[];
}

@ObjectType('ClusterApiObject', { description: 'An object of any discovered resource, read-only here (Secret values redacted).' })
export class ApiObjectType {
  @Field({ description: 'apiVersion of the resource.' })
  apiVersion!: string;

  @Field({ description: 'Kind.' })
  kind!: string;

  @Field({ description: 'metadata.name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'metadata.namespace (null for cluster-scoped kinds).' })
  namespace!: string | null;

  @Field(() => Date, { nullable: true, description: 'metadata.creationTimestamp.' })
  createdAt!: Date | null;

  @Field(() => GraphQLJSONObject, { description: 'metadata.labels.' })
  labels!: Record<string, string>;

  @Field({ description: 'Whether its kind is on the write allow-list (then it can be edited as a ClusterResource).' })
  writable!: boolean;

  @Field({ description: 'The object as YAML (managedFields left out, Secret values redacted).' })
  yaml!: string;
}

@ObjectType('ClusterApiObjectConnection', { description: 'A page of objects of a discovered resource, in the API server\'s order, paged with its continue tokens.' })
export class ApiObjectConnectionType {
  @Field(() => [ApiObjectType], { description: 'The objects of this page.' })
  items!: ApiObjectType[];

  @Field(() => PageInfo, { description: 'Paging information (endCursor continues the list).' })
  pageInfo!: PageInfo;

  @Field(() => Int, { nullable: true, description: 'Number of objects in the whole list when the API server knows it.' })
  totalCount!: number | null;
}
