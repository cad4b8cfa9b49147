/**
 * Session gateway (issue 13): each session's unguessable host id, and the single-use tickets / cookies (SHA-256 only)
 * that carry access to it, bound to session, user and connection (all cascade away with them).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GatewayTickets1796400324917 implements MigrationInterface {
  name = 'GatewayTickets1796400324917';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "gateway_hosts" ("session_id" uuid NOT NULL, "label" character varying(32) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_01e59a3e2c5f7618ca1ab1760de" PRIMARY KEY ("session_id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_gateway_hosts_label" ON "gateway_hosts"  ("label") `);
    await queryRunner.query(`CREATE TABLE "gateway_tickets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "ticket_hash" character varying(64) NOT NULL, "cookie_hash" character varying(64), "session_id" uuid NOT NULL, "user_id" uuid NOT NULL, "connection_id" uuid NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "redeemed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c48959b7280fb0fc8119ff137cd" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_gateway_tickets_ticket_hash" ON "gateway_tickets"  ("ticket_hash") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_gateway_tickets_cookie_hash" ON "gateway_tickets"  ("cookie_hash") WHERE cookie_hash IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_gateway_tickets_session" ON "gateway_tickets"  ("session_id") `);
    await queryRunner.query(`CREATE INDEX "ix_gateway_tickets_user" ON "gateway_tickets"  ("user_id") `);
    await queryRunner.query(`CREATE INDEX "ix_gateway_tickets_connection" ON "gateway_tickets"  ("connection_id") `);
    await queryRunner.query(`ALTER TABLE "gateway_hosts" ADD CONSTRAINT "FK_01e59a3e2c5f7618ca1ab1760de" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "gateway_tickets" ADD CONSTRAINT "FK_4ba55cca2bfd610bdf69185a835" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "gateway_tickets" ADD CONSTRAINT "FK_21e573c66f2de23d249c26e395d" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "gateway_tickets" ADD CONSTRAINT "FK_fe248dbea2ed6bc7e50c04a0f43" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "gateway_tickets" DROP CONSTRAINT "FK_fe248dbea2ed6bc7e50c04a0f43"`);
    await queryRunner.query(`ALTER TABLE "gateway_tickets" DROP CONSTRAINT "FK_21e573c66f2de23d249c26e395d"`);
    await queryRunner.query(`ALTER TABLE "gateway_tickets" DROP CONSTRAINT "FK_4ba55cca2bfd610bdf69185a835"`);
    await queryRunner.query(`ALTER TABLE "gateway_hosts" DROP CONSTRAINT "FK_01e59a3e2c5f7618ca1ab1760de"`);
    await queryRunner.query(`DROP INDEX "public"."ix_gateway_tickets_connection"`);
    await queryRunner.query(`DROP INDEX "public"."ix_gateway_tickets_user"`);
    await queryRunner.query(`DROP INDEX "public"."ix_gateway_tickets_session"`);
    await queryRunner.query(`DROP INDEX "public"."uq_gateway_tickets_cookie_hash"`);
    await queryRunner.query(`DROP INDEX "public"."uq_gateway_tickets_ticket_hash"`);
    await queryRunner.query(`DROP TABLE "gateway_tickets"`);
    await queryRunner.query(`DROP INDEX "public"."uq_gateway_hosts_label"`);
    await queryRunner.query(`DROP TABLE "gateway_hosts"`);
  }
}
