import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config';
import type { AppPubSub } from '../../platform/graphql/pubsub';
import type { CleanupStack } from '../../platform/lifecycle/cleanup-stack';
import type { StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { Logger } from '../../platform/logging/logger';
import type { AuditService } from '../audit/audit.service';
import { SettingsService } from './settings.service';

/** Runtime settings, read once and then kept fresh by change events from every replica. */
export async function createConfiguration(deps: {
  config: AppConfig;
  dataSource: DataSource;
  audit: AuditService;
  pubSub: AppPubSub;
  logger: Logger;
  cleanup: CleanupStack;
  /** The sessions' namespace on the cluster, for the dry run of a change (null: no cluster). */
  kube: StreamSpaceApi | null;
}): Promise<SettingsService> {
  const settings = new SettingsService({ dataSource: deps.dataSource, audit: deps.audit, pubSub: deps.pubSub, config: deps.config, logger: deps.logger, kube: deps.kube });
  return deps.cleanup.start(
    'settings',
    async () => {
      await settings.start();
      return settings;
    },
    () => settings.stop(),
    { limitMs: 1000 },
  );
}
