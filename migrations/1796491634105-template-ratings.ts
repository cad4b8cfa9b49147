/** Template ratings: one rating (1-5 stars) and optional short review per user and template name; removed with the user. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TemplateRatings1796491634105 implements MigrationInterface {
  name = 'TemplateRatings1796491634105';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "template_ratings" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "template" character varying(253) NOT NULL, "user_id" uuid NOT NULL, "stars" smallint NOT NULL, "review" character varying(500), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a9fcd4e7b297811330adc719a1c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_template_ratings_template_updated" ON "template_ratings"  ("template", "updated_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_template_ratings_template_user" ON "template_ratings"  ("template", "user_id") `);
    await queryRunner.query(`ALTER TABLE "template_ratings" ADD CONSTRAINT "FK_bc61037fbc88cdc34bed7cd7280" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "template_ratings" DROP CONSTRAINT "FK_bc61037fbc88cdc34bed7cd7280"`);
    await queryRunner.query(`DROP INDEX "public"."uq_template_ratings_template_user"`);
    await queryRunner.query(`DROP INDEX "public"."ix_template_ratings_template_updated"`);
    await queryRunner.query(`DROP TABLE "template_ratings"`);
  }
}
