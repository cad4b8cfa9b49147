/**
 * Auth hardening: a retired signing key keeps no private half (private_jwk becomes nullable and is deleted for
 * keys already retired), and each refresh token carries when its family's sign-in happened, so a family ends at the
 * absolute lifetime however often it rotated (existing families count from their first token).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuthHardening1796454956490 implements MigrationInterface {
  name = 'AuthHardening1796454956490';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signing_keys" ALTER COLUMN "private_jwk" DROP NOT NULL`);
    await queryRunner.query(`UPDATE "signing_keys" SET "private_jwk" = NULL WHERE "retired_at" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" ADD "family_started_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `UPDATE "refresh_tokens" r SET "family_started_at" = f."started" FROM (SELECT "family_id", min("created_at") AS "started" FROM "refresh_tokens" GROUP BY "family_id") f WHERE f."family_id" = r."family_id"`,
    );
    await queryRunner.query(`ALTER TABLE "refresh_tokens" ALTER COLUMN "family_started_at" SET DEFAULT now()`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" ALTER COLUMN "family_started_at" SET NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP COLUMN "family_started_at"`);
    // Retired keys have no private half any more; they can only be dropped (they verify nothing after a lifetime anyway).
    await queryRunner.query(`DELETE FROM "signing_keys" WHERE "private_jwk" IS NULL`);
    await queryRunner.query(`ALTER TABLE "signing_keys" ALTER COLUMN "private_jwk" SET NOT NULL`);
  }
}
