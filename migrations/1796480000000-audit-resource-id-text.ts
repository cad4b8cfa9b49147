/**
 * Audit rows name their resource as e.g. `Pod/<namespace>/<name>`: a 63-character namespace and a 253-character
 * object name do not fit the 253 characters `resource_id` had, and the audit row (and the audited operation with it)
 * failed. The column becomes text. Going down cuts longer ids to 253 characters.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditResourceIdText1796480000000 implements MigrationInterface {
  name = 'AuditResourceIdText1796480000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_log" ALTER COLUMN "resource_id" TYPE text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_log" ALTER COLUMN "resource_id" TYPE character varying(253) USING left("resource_id", 253)`);
  }
}
