import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { CatalogTemplateEntity } from './catalog-template.entity';

/**
 * An icon or README of a catalog template, copied from the repository at sync time. Kept in the
 * database (not in the sync cache on disk) so every replica can serve it, not only the one that synced.
 */
@Entity('catalog_template_assets')
export class CatalogTemplateAssetEntity {
  @PrimaryColumn({ name: 'catalog_template_id', type: 'uuid' })
  catalogTemplateId!: string;

  /** icon | readme */
  @PrimaryColumn({ type: 'varchar', length: 16 })
  kind!: string;

  @ManyToOne('CatalogTemplateEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'catalog_template_id', foreignKeyConstraintName: 'FK_catalog_template_assets_template' })
  catalogTemplate?: Relation<CatalogTemplateEntity>;

  @Column({ name: 'content_type', type: 'varchar', length: 64 })
  contentType!: string;

  @Column({ type: 'bytea' })
  data!: Buffer;

  /** Git object id of the file, doubling as a strong ETag. */
  @Column({ type: 'varchar', length: 64 })
  oid!: string;
}
