/** Template requests: users ask admins to install a catalog template (portal catalog); removed with the user. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TemplateRequests1796473276919 implements MigrationInterface {
  name = 'TemplateRequests1796473276919';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "template_requests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "repository" character varying(253) NOT NULL, "template" character varying(253) NOT NULL, "display_name" character varying(253) NOT NULL, "reason" character varying(500), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_e16130598b7f3a011452d644130" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_template_requests_updated" ON "template_requests"  ("updated_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_template_requests_user_template" ON "template_requests"  ("user_id", "repository", "template") `);
    await queryRunner.query(`ALTER TABLE "template_requests" ADD CONSTRAINT "FK_baf1e53c1c05fe49e55d0d9e8c7" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "template_requests" DROP CONSTRAINT "FK_baf1e53c1c05fe49e55d0d9e8c7"`);
    await queryRunner.query(`DROP INDEX "public"."uq_template_requests_user_template"`);
    await queryRunner.query(`DROP INDEX "public"."ix_template_requests_updated"`);
    await queryRunner.query(`DROP TABLE "template_requests"`);
  }
}
