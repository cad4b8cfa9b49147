import type { JobDefinition } from '../../../platform/jobs/job-runner';
import type { RepositoryService } from '../repository.service';

/** How often the leader looks for repositories whose own syncInterval has passed. */
export const REPOSITORY_SYNC_CHECK_INTERVAL_MS = 60_000;

/**
 * Leader only (JobRunner): syncs each auto-sync repository once its syncInterval has passed since its
 * last sync. Idempotent: a repository that is already syncing, or synced recently, is skipped.
 */
export function repositorySyncJob(repositories: RepositoryService, intervalMs = REPOSITORY_SYNC_CHECK_INTERVAL_MS): JobDefinition {
  return {
    name: 'repository-sync',
    intervalMs,
    runOnStart: true,
    async run({ signal, logger }) {
      const synced = await repositories.syncDue(new Date(), signal);
      if (synced.length) logger.info({ repositories: synced }, 'scheduled catalog syncs done');
    },
  };
}
