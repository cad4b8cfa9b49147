/**
 * Catalog (issue 7): icons and READMEs of catalog templates (served by the API from any replica) and
 * an index for the incremental sync, which looks catalog entries up by the file they came from.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CatalogAssets1795650000717 implements MigrationInterface {
  name = 'CatalogAssets1795650000717';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "catalog_template_assets" ("catalog_template_id" uuid NOT NULL, "kind" character varying(16) NOT NULL, "content_type" character varying(64) NOT NULL, "data" bytea NOT NULL, "oid" character varying(64) NOT NULL, CONSTRAINT "PK_catalog_template_assets" PRIMARY KEY ("catalog_template_id", "kind"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "catalog_template_assets" ADD CONSTRAINT "FK_catalog_template_assets_template" FOREIGN KEY ("catalog_template_id") REFERENCES "catalog_templates"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`CREATE INDEX "ix_catalog_templates_source" ON "catalog_templates" ("repository_id", "source_path") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_catalog_templates_source"`);
    await queryRunner.query(`ALTER TABLE "catalog_template_assets" DROP CONSTRAINT "FK_catalog_template_assets_template"`);
    await queryRunner.query(`DROP TABLE "catalog_template_assets"`);
  }
}
