import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { CatalogConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { TemplateService } from '../templates/template.service';
import { CatalogSyncService } from './catalog-sync.service';
import { CatalogService } from './catalog.service';
import { repositorySyncJob } from './jobs/repository-sync.job';
import { loadCredentials } from './repository-credentials';
import { TemplateRepositoryObjects } from './repository-object';
import { RepositoryService } from './repository.service';

/** The catalog's services, as resolvers and routes see them (`services.catalog`). */
export interface CatalogServices {
  /** The catalog's templates (rows synced from the repositories, not Template objects): browse, search, assets, install. */
  catalogTemplates: CatalogService;
  /** Repository CRUD and syncs. */
  repositories: RepositoryService;
  /** The sync engine itself (benchmarks and tests use it directly). */
  sync: CatalogSyncService;
}

export interface CreateCatalogOptions {
  config: CatalogConfig;
  dataDir: string;
  dataSource: DataSource;
  logger: Logger;
  pubSub: AppPubSub;
  audit: AuditService;
  /** The cluster (null: none); repository credentials are Secrets of its namespace. */
  kube: StreamSpaceApi | null;
  templates: TemplateService | null;
  /** When given, the scheduled sync job is registered (it runs on the leader only). */
  jobs?: JobRunner;
  /** Whether users may browse the catalog now (a runtime setting); absent: always. */
  browsingAllowed?: () => boolean;
  /** Told the outcome of every sync (metrics). */
  onSynced?: (outcome: 'success' | 'failure') => void;
}

export function createCatalog(options: CreateCatalogOptions): CatalogServices {
  const logger = options.logger.child({ module: 'catalog' });
  const sync = new CatalogSyncService({
    dataSource: options.dataSource,
    logger,
    pubSub: options.pubSub,
    cacheDir: path.join(options.dataDir, 'catalog', 'git'),
    gitTimeoutMs: options.config.gitTimeoutMs,
    allowFile: options.config.gitAllowFile,
    maxFileSize: options.config.maxFileSize,
    maxFiles: options.config.maxFiles,
    credentials: (repo) => loadCredentials(repo, options.kube),
    platformKnownHosts: options.config.gitSshKnownHosts,
    onSynced: options.onSynced,
  });
  const repositoryObjects = new TemplateRepositoryObjects(options.kube, logger);
  const repositories = new RepositoryService({
    dataSource: options.dataSource,
    sync,
    repositoryObjects,
    audit: options.audit,
    logger,
    allowFile: options.config.gitAllowFile,
    clusterConfigured: options.kube !== null,
    platformKnownHosts: options.config.gitSshKnownHosts,
  });
  const catalogTemplates = new CatalogService({ dataSource: options.dataSource, audit: options.audit, templates: options.templates, browsingAllowed: options.browsingAllowed });
  options.jobs?.register(repositorySyncJob(repositories));
  return { catalogTemplates, repositories, sync };
}
