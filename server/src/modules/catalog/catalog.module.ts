import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DataSource } from 'typeorm';
import type { CatalogConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { JobRunner } from '../../platform/jobs/job-runner';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import type { TemplateService } from '../templates/template.service';
import { CatalogSyncService } from './catalog-sync.service';
import { CatalogService } from './catalog.service';
import { repositorySyncJob } from './jobs/repository-sync.job';
import { TemplateRepositoryObjects, loadCredentials } from './repository-object';
import { RepositoryService } from './repository.service';

/** The catalog's services, as resolvers and routes see them (`services.catalog`). */
export interface CatalogServices {
  /** Browse, search, assets, install. */
  templates: CatalogService;
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
  kubeConfig: KubeConfig | null;
  namespace: string;
  templates: TemplateService | null;
  /** When given, the scheduled sync job is registered (it runs on the leader only). */
  jobs?: JobRunner;
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
    credentials: (repo) => loadCredentials(repo, options.kubeConfig, options.namespace),
  });
  const mirror = new TemplateRepositoryObjects(options.kubeConfig, options.namespace, logger);
  const repositories = new RepositoryService({
    dataSource: options.dataSource,
    sync,
    mirror,
    audit: options.audit,
    logger,
    allowFile: options.config.gitAllowFile,
    clusterConfigured: options.kubeConfig !== null,
  });
  const templates = new CatalogService({ dataSource: options.dataSource, audit: options.audit, templates: options.templates });
  options.jobs?.register(repositorySyncJob(repositories));
  return { templates, repositories, sync };
}
