/** Login rate limits shared by every replica (before: counters in each process's memory). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SharedLoginRateLimits1795680000808 implements MigrationInterface {
  name = 'SharedLoginRateLimits1795680000808';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "login_rate_limits" ("key" character varying(255) NOT NULL, "points" integer NOT NULL DEFAULT 0, "expire" bigint, CONSTRAINT "PK_login_rate_limits" PRIMARY KEY ("key"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_rate_limits"`);
  }
}
