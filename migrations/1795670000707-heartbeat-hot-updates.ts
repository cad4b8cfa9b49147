/**
 * Heartbeats rewrite connections.last_activity_at all day long. With an index on that column every heartbeat
 * is a non-HOT update (a new entry in every index of the table); without it, and with free room left in each
 * page (fillfactor 70), PostgreSQL updates the row in place (HOT) and touches no index at all. The reaper
 * finds open connections through ix_connections_open_by_session (partial: open rows only) instead.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class HeartbeatHotUpdates1795670000707 implements MigrationInterface {
  name = 'HeartbeatHotUpdates1795670000707';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_connections_open_by_activity"`);
    await queryRunner.query(`ALTER TABLE "connections" SET (fillfactor = 70)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" RESET (fillfactor)`);
    await queryRunner.query(`CREATE INDEX "ix_connections_open_by_activity" ON "connections" ("last_activity_at") WHERE disconnected_at IS NULL`);
  }
}
