/**
 * Configuration versions: every applied change of the runtime settings (`configuration`) as a numbered version
 * with its actor, time, per-key diff and the saved values right after it (restore brings them back).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ConfigurationVersions1796460000000 implements MigrationInterface {
  name = 'ConfigurationVersions1796460000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "configuration_versions" ("id" SERIAL NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" character varying(63), "action" character varying(16) NOT NULL, "restored_from" integer, "changes" jsonb NOT NULL, "snapshot" jsonb NOT NULL, CONSTRAINT "PK_configuration_versions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_configuration_versions_created_at" ON "configuration_versions" ("created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_configuration_versions_created_at"`);
    await queryRunner.query(`DROP TABLE "configuration_versions"`);
  }
}
