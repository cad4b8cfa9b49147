/**
 * Per-node usage series are named `<family>/<node>`, and a node name may have 253 characters: the 64 characters of
 * `metric_samples.series` left nodes with names over 46 characters without graphs. The column takes 300 characters.
 * Going down drops the samples of series that would not fit (they are only samples, kept for a day).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MetricSeriesNodeNames1796512637258 implements MigrationInterface {
  name = 'MetricSeriesNodeNames1796512637258';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "metric_samples" ALTER COLUMN "series" TYPE character varying(300)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "metric_samples" WHERE length("series") > 64`);
    await queryRunner.query(`ALTER TABLE "metric_samples" ALTER COLUMN "series" TYPE character varying(64)`);
  }
}
