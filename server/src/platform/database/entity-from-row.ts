import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity from a raw row of its table (`RETURNING *`, `SELECT t.*` of a hand-written statement): column names
 * become property names. The driver has already parsed the values (timestamps, JSON, integers); column transformers
 * are not applied, so use it only for entities without them. Columns missing from the row stay unset.
 */
export function entityFromRow<T extends ObjectLiteral>(dataSource: DataSource, target: EntityTarget<T>, row: Record<string, unknown>): T {
  const metadata = dataSource.getMetadata(target);
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    if (column.databaseName in row) column.setEntityValue(entity, row[column.databaseName]);
  }
  return entity;
}
