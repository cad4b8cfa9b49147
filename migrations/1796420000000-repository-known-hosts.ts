/**
 * Pinned ssh host keys of a template repository (known_hosts lines; public keys, not secrets): an ssh URL is
 * fetched with StrictHostKeyChecking=yes against these (and its Secret's and the platform's known_hosts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class RepositoryKnownHosts1796420000000 implements MigrationInterface {
  name = 'RepositoryKnownHosts1796420000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "repositories" ADD "known_hosts" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "repositories" DROP COLUMN "known_hosts"`);
  }
}
