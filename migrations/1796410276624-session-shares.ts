/**
 * Session sharing: a session's access list (user -> VIEWER | COLLABORATOR), gone with the session or the user;
 * `created_by` keeps who shared it (null once that account is deleted).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionShares1796410276624 implements MigrationInterface {
  name = 'SessionShares1796410276624';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "session_shares" ("session_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" character varying(16) NOT NULL, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8ade4a35596644786280c07e905" PRIMARY KEY ("session_id", "user_id"))`);
    await queryRunner.query(`CREATE INDEX "ix_session_shares_user" ON "session_shares"  ("user_id") `);
    await queryRunner.query(`ALTER TABLE "session_shares" ADD CONSTRAINT "FK_2af92fdb82abf8a23390b3bb4b3" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_shares" ADD CONSTRAINT "FK_b4d1b912c3278518ff17c604db7" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_shares" ADD CONSTRAINT "FK_2ff4ccf395417eba83d04966b03" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "session_shares" DROP CONSTRAINT "FK_2ff4ccf395417eba83d04966b03"`);
    await queryRunner.query(`ALTER TABLE "session_shares" DROP CONSTRAINT "FK_b4d1b912c3278518ff17c604db7"`);
    await queryRunner.query(`ALTER TABLE "session_shares" DROP CONSTRAINT "FK_2af92fdb82abf8a23390b3bb4b3"`);
    await queryRunner.query(`DROP INDEX "public"."ix_session_shares_user"`);
    await queryRunner.query(`DROP TABLE "session_shares"`);
  }
}
