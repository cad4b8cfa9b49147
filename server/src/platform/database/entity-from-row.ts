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

const selectLists = new WeakMap<object, Map<string, string>>();

/**
 * The SELECT list of an entity's columns under their property names (`s.user_id AS "userId"`), for a hand-written
 * statement whose rows are read as the entity's data as they come (a plain object per row, no entity instance and no
 * copy: a page of 100 sessions made 100 entities out of 100 rows). For entities without column transformers.
 * `except`: properties left out (a statement that reads them otherwise).
 */
export function entityColumns(dataSource: DataSource, target: EntityTarget<ObjectLiteral>, alias: string, except: readonly string[] = []): string {
  const metadata = dataSource.getMetadata(target);
  let byKey = selectLists.get(metadata);
  if (!byKey) selectLists.set(metadata, (byKey = new Map()));
  const key = `${alias}\0${except.join(',')}`;
  let list = byKey.get(key);
  if (list === undefined) {
    list = metadata.columns
      .filter((c) => !except.includes(c.propertyName))
      .map((c) => `${alias}.${c.databaseName} AS "${c.propertyName}"`)
      .join(', ');
    byKey.set(key, list);
  }
  return list;
}
