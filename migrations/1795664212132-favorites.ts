/** Favorites: templates each user pinned in the portal launcher (removed with the user). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Favorites1795664212132 implements MigrationInterface {
  name = 'Favorites1795664212132';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "favorites" ("user_id" uuid NOT NULL, "template" character varying(253) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_59a74ea9a5deef4e422f551e3d7" PRIMARY KEY ("user_id", "template"))`);
    await queryRunner.query(`ALTER TABLE "favorites" ADD CONSTRAINT "FK_35a6b05ee3b624d0de01ee50593" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "favorites" DROP CONSTRAINT "FK_35a6b05ee3b624d0de01ee50593"`);
    await queryRunner.query(`DROP TABLE "favorites"`);
  }
}
