import { Arg, Args, Authorized, Query, Resolver } from 'type-graphql';
import { Access } from '../../platform/graphql/authorization';
import { PaginationArgs, type Connection } from '../../platform/graphql/pagination';
import type { AuditService } from './audit.service';
import type { AuditLogEntity } from './audit-log.entity';
import { AuditLogFilterInput } from './dto/audit-log-filter.input';
import { AuditLogConnection } from './dto/audit-log-entry.type';

export interface AuditResolverDeps {
  audit: AuditService;
}

@Resolver()
export class AuditResolver {
  constructor(private readonly deps: AuditResolverDeps) {}

  @Authorized(...Access.AUDIT_READ)
  @Query(() => AuditLogConnection, { description: 'The audit log, newest first (admins and auditors).' })
  auditLog(
    @Args(() => PaginationArgs) page: PaginationArgs,
    @Arg('filter', () => AuditLogFilterInput, { nullable: true, description: 'Optional conditions on the entries.' }) filter?: AuditLogFilterInput,
  ): Promise<Connection<AuditLogEntity>> {
    return this.deps.audit.list(filter ?? {}, page.first, page.after);
  }
}
