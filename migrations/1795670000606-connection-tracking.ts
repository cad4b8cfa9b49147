/**
 * Connection tracking (issue 6): a per-connection beacon token (only its SHA-256 is stored) so a closing tab
 * can end its connection with navigator.sendBeacon, and pubsub_messages for subscription events too large for
 * a PostgreSQL NOTIFY payload (8000 bytes).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ConnectionTracking1795670000606 implements MigrationInterface {
  name = 'ConnectionTracking1795670000606';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" ADD "beacon_token_hash" character varying(64)`);
    await queryRunner.query(`CREATE TABLE "pubsub_messages" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "payload" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_pubsub_messages" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_pubsub_messages_created_at" ON "pubsub_messages" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_pubsub_messages_created_at"`);
    await queryRunner.query(`DROP TABLE "pubsub_messages"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "beacon_token_hash"`);
  }
}
