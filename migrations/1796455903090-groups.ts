/**
 * Groups: named sets of users (`groups`, `group_members`: added by an admin or, with STREAMSPACE_OIDC_SYNC_GROUPS, at
 * sign-in), and group entries of sessions' access lists (`session_group_shares`: every member gets the role);
 * memberships and group entries go with the group.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Groups1796455903090 implements MigrationInterface {
  name = 'Groups1796455903090';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "group_members" ("group_id" uuid NOT NULL, "user_id" uuid NOT NULL, "added_by" uuid, "source" character varying(16) NOT NULL DEFAULT 'admin', "added_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f5939ee0ad233ad35e03f5c65c1" PRIMARY KEY ("group_id", "user_id"))`);
    await queryRunner.query(`CREATE INDEX "ix_group_members_user" ON "group_members"  ("user_id") `);
    await queryRunner.query(`CREATE TABLE "groups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "description" character varying(500), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_groups_name" ON "groups"  ("name") `);
    await queryRunner.query(`CREATE TABLE "session_group_shares" ("session_id" uuid NOT NULL, "group_id" uuid NOT NULL, "role" character varying(16) NOT NULL, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_13d873548f76a39ace701ea3883" PRIMARY KEY ("session_id", "group_id"))`);
    await queryRunner.query(`CREATE INDEX "ix_session_group_shares_group" ON "session_group_shares"  ("group_id") `);
    await queryRunner.query(`ALTER TABLE "group_members" ADD CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "group_members" ADD CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "group_members" ADD CONSTRAINT "FK_3b954ac7d87fb98871d89b003a7" FOREIGN KEY ("added_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_group_shares" ADD CONSTRAINT "FK_1e585a5373e5aab7f4af83f9530" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_group_shares" ADD CONSTRAINT "FK_1955a2026673a381399f9ee2121" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "session_group_shares" ADD CONSTRAINT "FK_db4359f502776caf1b07de9d5a6" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "session_group_shares" DROP CONSTRAINT "FK_db4359f502776caf1b07de9d5a6"`);
    await queryRunner.query(`ALTER TABLE "session_group_shares" DROP CONSTRAINT "FK_1955a2026673a381399f9ee2121"`);
    await queryRunner.query(`ALTER TABLE "session_group_shares" DROP CONSTRAINT "FK_1e585a5373e5aab7f4af83f9530"`);
    await queryRunner.query(`ALTER TABLE "group_members" DROP CONSTRAINT "FK_3b954ac7d87fb98871d89b003a7"`);
    await queryRunner.query(`ALTER TABLE "group_members" DROP CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee"`);
    await queryRunner.query(`ALTER TABLE "group_members" DROP CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e"`);
    await queryRunner.query(`DROP INDEX "public"."ix_session_group_shares_group"`);
    await queryRunner.query(`DROP TABLE "session_group_shares"`);
    await queryRunner.query(`DROP INDEX "public"."uq_groups_name"`);
    await queryRunner.query(`DROP TABLE "groups"`);
    await queryRunner.query(`DROP INDEX "public"."ix_group_members_user"`);
    await queryRunner.query(`DROP TABLE "group_members"`);
  }
}
