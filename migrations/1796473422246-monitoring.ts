/**
 * Monitoring: `metric_samples` (one narrow row per series and sampling time; the time index serves the retention
 * delete), `alert_rules` (the shipped rules are inserted at start; admins tune them) and `alerts` (one row per firing
 * episode; at most one open per rule and source).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Monitoring1796473422246 implements MigrationInterface {
  name = 'Monitoring1796473422246';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "alert_rules" ("id" character varying(64) NOT NULL, "series" character varying(64) NOT NULL, "comparator" character varying(8) NOT NULL, "threshold" double precision NOT NULL, "severity" character varying(16) NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "description" text NOT NULL, "webhook_url" text, "state" character varying(16) NOT NULL DEFAULT 'ok', "last_value" double precision, "last_evaluated_at" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ae580564f087ffab9d229225aec" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "alerts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "rule_id" character varying(64) NOT NULL, "state" character varying(16) NOT NULL, "severity" character varying(16) NOT NULL, "value" double precision NOT NULL, "threshold" double precision NOT NULL, "message" text NOT NULL, "source" character varying(128) NOT NULL, "fired_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_60f895662df096bfcdfab7f4b96" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_alerts_fired_at" ON "alerts"  ("fired_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_alerts_open" ON "alerts"  ("rule_id", "source") WHERE state = 'firing'`);
    await queryRunner.query(`CREATE TABLE "metric_samples" ("series" character varying(64) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "value" double precision NOT NULL, CONSTRAINT "PK_3b5e618cbd0adfa780536fba196" PRIMARY KEY ("series", "at"))`);
    await queryRunner.query(`CREATE INDEX "ix_metric_samples_at" ON "metric_samples"  ("at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_metric_samples_at"`);
    await queryRunner.query(`DROP TABLE "metric_samples"`);
    await queryRunner.query(`DROP INDEX "public"."uq_alerts_open"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alerts_fired_at"`);
    await queryRunner.query(`DROP TABLE "alerts"`);
    await queryRunner.query(`DROP TABLE "alert_rules"`);
  }
}
