/**
 * The design's tables: users, sessions (a cache of Session objects), connections, repositories,
 * catalog_templates (with weighted full-text search), configuration and audit_log.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795630000000 implements MigrationInterface {
  name = 'InitialSchema1795630000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_log" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor_id" uuid, "actor_username" character varying(63), "action" character varying(64) NOT NULL, "resource_type" character varying(64) NOT NULL, "resource_id" character varying(253), "outcome" character varying(16) NOT NULL DEFAULT 'success', "changes" jsonb, "request_id" character varying(64), "client_ip" character varying(64), CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_at" ON "audit_log"  ("at") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_actor" ON "audit_log"  ("actor_id") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_action" ON "audit_log"  ("action") `);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_resource" ON "audit_log"  ("resource_type", "resource_id") `);
    await queryRunner.query(`CREATE TABLE "catalog_templates" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "repository_id" uuid NOT NULL, "name" character varying(253) NOT NULL, "display_name" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "category" character varying(100) NOT NULL DEFAULT 'Other', "tags" text array NOT NULL DEFAULT '{}', "app_type" character varying(16) NOT NULL DEFAULT 'webapp', "icon_path" text, "readme_path" text, "source_path" text NOT NULL, "source_commit" character varying(64), "version" character varying(64), "manifest" jsonb NOT NULL, "install_count" integer NOT NULL DEFAULT '0', "search_vector" tsvector, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_65f6776364502c42999527fabcc" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_catalog_templates_category" ON "catalog_templates"  ("category") `);
    await queryRunner.query(`CREATE INDEX "ix_catalog_templates_popularity" ON "catalog_templates"  ("install_count") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_catalog_templates_repository_name" ON "catalog_templates"  ("repository_id", "name") `);
    await queryRunner.query(`CREATE TABLE "repositories" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(63) NOT NULL, "url" text NOT NULL, "branch" character varying(255) NOT NULL DEFAULT 'main', "path" text NOT NULL DEFAULT '', "auth_type" character varying(16) NOT NULL DEFAULT 'none', "auth_secret_ref" character varying(253), "sync_interval" character varying(16) NOT NULL DEFAULT '1h', "auto_sync" boolean NOT NULL DEFAULT true, "public" boolean NOT NULL DEFAULT true, "allowed_users" text array NOT NULL DEFAULT '{}', "status" character varying(16) NOT NULL DEFAULT 'Pending', "last_sync_at" TIMESTAMP WITH TIME ZONE, "last_commit" character varying(64), "template_count" integer NOT NULL DEFAULT '0', "sync_error" text, "file_errors" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ef0c358c04b4f4d29b8ca68ddff" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_repositories_name" ON "repositories"  ("name") `);
    await queryRunner.query(`CREATE TABLE "configuration" ("key" character varying(128) NOT NULL, "value" jsonb NOT NULL, "secret" boolean NOT NULL DEFAULT false, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" character varying(63), CONSTRAINT "PK_36aa5305bb4de9034d272f6a244" PRIMARY KEY ("key"))`);
    await queryRunner.query(`CREATE TABLE "connections" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "session_id" uuid NOT NULL, "user_id" uuid, "client_ip" character varying(64), "user_agent" text, "connected_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_activity_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "disconnected_at" TIMESTAMP WITH TIME ZONE, "disconnect_reason" character varying(32), CONSTRAINT "PK_0a1f844af3122354cbd487a8d03" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_connections_user" ON "connections"  ("user_id") `);
    await queryRunner.query(`CREATE INDEX "ix_connections_open_by_activity" ON "connections"  ("last_activity_at") WHERE disconnected_at IS NULL`);
    await queryRunner.query(`CREATE INDEX "ix_connections_open_by_session" ON "connections"  ("session_id") WHERE disconnected_at IS NULL`);
    await queryRunner.query(`CREATE TABLE "sessions" ("id" uuid NOT NULL, "name" character varying(253) NOT NULL, "namespace" character varying(63) NOT NULL, "user_id" uuid, "username" character varying(63) NOT NULL, "template" character varying(253) NOT NULL, "state" character varying(16) NOT NULL, "phase" character varying(16) NOT NULL DEFAULT 'Pending', "app_type" character varying(16) NOT NULL DEFAULT 'webapp', "url" text, "pod_name" character varying(253), "active_connections" integer NOT NULL DEFAULT '0', "total_connections" integer NOT NULL DEFAULT '0', "last_connection_at" TIMESTAMP WITH TIME ZONE, "last_disconnect_at" TIMESTAMP WITH TIME ZONE, "last_activity_at" TIMESTAMP WITH TIME ZONE, "resource_version" character varying(64), "spec" jsonb NOT NULL DEFAULT '{}', "status" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_sessions_username" ON "sessions"  ("username") `);
    await queryRunner.query(`CREATE INDEX "ix_sessions_template" ON "sessions"  ("template") `);
    await queryRunner.query(`CREATE INDEX "ix_sessions_phase" ON "sessions"  ("phase") `);
    await queryRunner.query(`CREATE INDEX "ix_sessions_created_at" ON "sessions"  ("created_at") `);
    await queryRunner.query(`CREATE INDEX "ix_sessions_user_state" ON "sessions"  ("user_id", "state") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_sessions_namespace_name" ON "sessions"  ("namespace", "name") `);
    await queryRunner.query(`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" character varying(63) NOT NULL, "email" character varying(320), "display_name" character varying(200), "role" character varying(32) NOT NULL DEFAULT 'user', "password_hash" text, "auth_provider" character varying(16) NOT NULL DEFAULT 'local', "oidc_issuer" text, "oidc_subject" text, "disabled" boolean NOT NULL DEFAULT false, "quota" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_login_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_username" ON "users"  ("username") `);
    await queryRunner.query(`CREATE INDEX "ix_users_email" ON "users"  ("email") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_oidc_identity" ON "users"  ("oidc_issuer", "oidc_subject") WHERE oidc_subject IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_catalog_templates_tags" ON "catalog_templates" USING GIN ("tags")`);
    await queryRunner.query(`CREATE INDEX "ix_catalog_templates_search" ON "catalog_templates" USING GIN ("search_vector")`);
    // Full-text document: name and display name weigh most, then tags, then the description.
    await queryRunner.query(`CREATE FUNCTION catalog_templates_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('simple', coalesce(NEW.name, '') || ' ' || coalesce(NEW.display_name, '')), 'A') ||
    setweight(to_tsvector('simple', array_to_string(NEW.tags, ' ')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END
$$`);
    await queryRunner.query(`CREATE TRIGGER catalog_templates_search_vector BEFORE INSERT OR UPDATE OF name, display_name, tags, description ON "catalog_templates" FOR EACH ROW EXECUTE FUNCTION catalog_templates_search_vector()`);
    await queryRunner.query(`ALTER TABLE "catalog_templates" ADD CONSTRAINT "FK_eedde2d8d22e796ba4fa6630464" FOREIGN KEY ("repository_id") REFERENCES "repositories"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "connections" ADD CONSTRAINT "FK_b6017de7e2968b5fd1a856b9992" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" DROP CONSTRAINT "FK_b6017de7e2968b5fd1a856b9992"`);
    await queryRunner.query(`ALTER TABLE "catalog_templates" DROP CONSTRAINT "FK_eedde2d8d22e796ba4fa6630464"`);
    await queryRunner.query(`DROP INDEX "uq_users_oidc_identity"`);
    await queryRunner.query(`DROP INDEX "ix_users_email"`);
    await queryRunner.query(`DROP INDEX "uq_users_username"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "uq_sessions_namespace_name"`);
    await queryRunner.query(`DROP INDEX "ix_sessions_user_state"`);
    await queryRunner.query(`DROP INDEX "ix_sessions_created_at"`);
    await queryRunner.query(`DROP INDEX "ix_sessions_phase"`);
    await queryRunner.query(`DROP INDEX "ix_sessions_template"`);
    await queryRunner.query(`DROP INDEX "ix_sessions_username"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "ix_connections_open_by_session"`);
    await queryRunner.query(`DROP INDEX "ix_connections_open_by_activity"`);
    await queryRunner.query(`DROP INDEX "ix_connections_user"`);
    await queryRunner.query(`DROP TABLE "connections"`);
    await queryRunner.query(`DROP TABLE "configuration"`);
    await queryRunner.query(`DROP INDEX "uq_repositories_name"`);
    await queryRunner.query(`DROP TABLE "repositories"`);
    await queryRunner.query(`DROP TRIGGER catalog_templates_search_vector ON "catalog_templates"`);
    await queryRunner.query(`DROP FUNCTION catalog_templates_search_vector()`);
    await queryRunner.query(`DROP INDEX "ix_catalog_templates_search"`);
    await queryRunner.query(`DROP INDEX "ix_catalog_templates_tags"`);
    await queryRunner.query(`DROP INDEX "uq_catalog_templates_repository_name"`);
    await queryRunner.query(`DROP INDEX "ix_catalog_templates_popularity"`);
    await queryRunner.query(`DROP INDEX "ix_catalog_templates_category"`);
    await queryRunner.query(`DROP TABLE "catalog_templates"`);
    await queryRunner.query(`DROP INDEX "ix_audit_log_resource"`);
    await queryRunner.query(`DROP INDEX "ix_audit_log_action"`);
    await queryRunner.query(`DROP INDEX "ix_audit_log_actor"`);
    await queryRunner.query(`DROP INDEX "ix_audit_log_at"`);
    await queryRunner.query(`DROP TABLE "audit_log"`);
  }
}
