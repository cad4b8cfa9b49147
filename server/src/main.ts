import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app';
import { createLogger } from './platform/logging/logger';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`streamspace: ${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { logger });
  logger.info(
    { url: app.url, graphql: `${app.url}/graphql`, ide: config.graphql.ide, database: app.services.database.description },
    `StreamSpace is listening on ${app.url} (GraphQL and its IDE at ${app.url}/graphql)`,
  );

  // npm and terminals often deliver the same signal twice (to the process and to its group), so a
  // repeated signal does not cut the drain short; a watchdog ends the process if draining hangs.
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'received signal');
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 30_000).unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`streamspace: failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
