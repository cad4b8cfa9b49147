import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../../platform/graphql/pagination';

@ObjectType('CatalogTemplate', { description: 'A template offered by a repository, ready to install.' })
export class CatalogTemplateType {
  @Field(() => ID, { description: 'Unique id of the catalog entry.' })
  id!: string;

  @Field({ description: 'Template name (a DNS label), unique within its repository.' })
  name!: string;

  @Field({ description: 'Name shown to users.' })
  displayName!: string;

  @Field({ description: 'What the app is.' })
  description!: string;

  @Field({ description: 'Catalog category.' })
  category!: string;

  @Field(() => [String], { description: 'Search tags.' })
  tags!: string[];

  @Field({ description: 'webapp, desktop or hybrid.' })
  appType!: string;

  @Field(() => String, { nullable: true, description: 'Version declared by the template, if any.' })
  version!: string | null;

  @Field({ description: 'Container image the sessions run.' })
  baseImage!: string;

  @Field(() => ID, { description: 'Id of the repository it comes from.' })
  repositoryId!: string;

  @Field({ description: 'Name of the repository it comes from.' })
  repositoryName!: string;

  @Field(() => String, { nullable: true, description: 'URL of the icon: served by this API (icon.png beside the template) or the URL the template names.' })
  iconUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'URL of the README (Markdown) served by this API, when the template has one.' })
  readmeUrl!: string | null;

  @Field({ description: 'Path of the template file in the repository.' })
  sourcePath!: string;

  @Field(() => String, { nullable: true, description: 'Commit the template was read at.' })
  sourceCommit!: string | null;

  @Field(() => Int, { description: 'How many times it was installed.' })
  installCount!: number;

  @Field(() => GraphQLJSONObject, {
    description: 'The Template manifest, normalized to stream.streamspace.io/v1alpha1. Only admins see env values and the Secrets and ConfigMaps env reads.',
  })
  manifest!: Record<string, unknown>;

  @Field(() => [String], {
    description: 'Exceptions to the restricted pod security the template asks for (run as root, added capabilities); once installed, it starts no session until an admin approves them.',
  })
  securityExceptions!: string[];

  @Field({ description: 'When the catalog entry last changed.' })
  updatedAt!: Date;
}

export const CatalogTemplateConnection = ConnectionType(CatalogTemplateType, 'CatalogTemplate', 'A page of catalog templates.');

export enum CatalogSort {
  RELEVANCE = 'RELEVANCE',
  NAME = 'NAME',
  POPULARITY = 'POPULARITY',
}
registerEnumType(CatalogSort, {
  name: 'CatalogSort',
  description: 'Order of catalog templates.',
  valuesConfig: {
    RELEVANCE: { description: 'Best search match first (the default when searching; NAME without a search).' },
    NAME: { description: 'By display name.' },
    POPULARITY: { description: 'Most installed first.' },
  },
});

@InputType('CatalogTemplateFilter', { description: 'Narrows the catalog; all given conditions must hold.' })
export class CatalogTemplateFilter {
  @Field(() => String, { nullable: true, description: 'Full-text search over name, display name, tags and description (prefixes match).' })
  search?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact category.' })
  category?: string | null;

  @Field(() => String, { nullable: true, description: 'Repository name.' })
  repository?: string | null;

  @Field(() => [String], { nullable: true, description: 'Templates having all of these tags.' })
  tags?: string[] | null;

  @Field(() => String, { nullable: true, description: 'webapp, desktop or hybrid.' })
  appType?: string | null;
}

@ObjectType('CatalogCategory', { description: 'A category of the catalog with the number of templates in it.' })
export class CatalogCategoryType {
  @Field({ description: 'Category name.' })
  name!: string;

  @Field(() => Int, { description: 'Templates in this category (that the caller can see).' })
  count!: number;
}

export enum SyncPhaseEnum {
  FETCHING = 'FETCHING',
  PARSING = 'PARSING',
  SAVING = 'SAVING',
  READY = 'READY',
  FAILED = 'FAILED',
}
registerEnumType(SyncPhaseEnum, {
  name: 'RepositorySyncPhase',
  description: 'Step of a repository sync.',
  valuesConfig: {
    FETCHING: { description: 'Fetching from Git.' },
    PARSING: { description: 'Reading and validating template files.' },
    SAVING: { description: 'Writing the catalog.' },
    READY: { description: 'Done.' },
    FAILED: { description: 'Failed; the last good catalog stays.' },
  },
});

@ObjectType('RepositorySyncProgress', { description: 'Progress of a repository sync.' })
export class RepositorySyncProgressType {
  @Field(() => ID, { description: 'Repository id.' })
  repositoryId!: string;

  @Field({ description: 'Repository name.' })
  repositoryName!: string;

  @Field(() => SyncPhaseEnum, { description: 'Current step.' })
  phase!: SyncPhaseEnum;

  @Field({ description: 'Human-readable progress or error.' })
  message!: string;

  @Field(() => Int, { description: 'Files to read in this step.' })
  filesTotal!: number;

  @Field(() => Int, { description: 'Files read so far.' })
  filesDone!: number;

  @Field(() => Int, { nullable: true, description: 'Templates in the catalog after the sync (READY only).' })
  templateCount!: number | null;

  @Field(() => String, { nullable: true, description: 'Commit synced (READY only).' })
  commit!: string | null;
}

@ObjectType('CatalogInstallResult', { description: 'What installing a catalog template did.' })
export class CatalogInstallResultType {
  @Field({ description: 'Name of the Template object created or updated.' })
  templateName!: string;

  @Field({ description: 'True when the Template was created, false when an existing one was updated.' })
  created!: boolean;

  @Field(() => [String], { description: 'What changed compared to the installed Template (field paths with old and new values); empty on first install or when nothing changed.' })
  changes!: string[];

  @Field(() => CatalogTemplateType, { description: 'The catalog entry, with its updated install count.' })
  catalogTemplate!: CatalogTemplateType;
}
