"""model versions are immutable; the job queue's schema (procrastinate)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Written by hand. The queue's tables come from procrastinate's own schema.sql for the
installed version, so the queue and the workspace share one database and one migration
history. A later procrastinate upgrade brings its own migration files: add them here as new
revisions (see procrastinate's docs, "Migrating").
"""

from typing import Sequence, Union

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A version's content never changes. Its links to the build, dataset and user that made it
# may only be cleared (ON DELETE SET NULL), so deleting those never fails on the trigger.
IMMUTABLE_FUNCTION = """
CREATE FUNCTION briefml_model_versions_immutable() RETURNS trigger AS $$
DECLARE
    links CONSTANT text[] := ARRAY['build_id', 'dataset_id', 'created_by'];
BEGIN
    IF (to_jsonb(NEW) - links) IS DISTINCT FROM (to_jsonb(OLD) - links)
       OR (NEW.build_id IS NOT NULL AND NEW.build_id IS DISTINCT FROM OLD.build_id)
       OR (NEW.dataset_id IS NOT NULL AND NEW.dataset_id IS DISTINCT FROM OLD.dataset_id)
       OR (NEW.created_by IS NOT NULL AND NEW.created_by IS DISTINCT FROM OLD.created_by) THEN
        RAISE EXCEPTION 'model version % of project % is immutable; build a new version instead',
            OLD.version, OLD.project_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

IMMUTABLE_TRIGGER = """
CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
FOR EACH ROW EXECUTE FUNCTION briefml_model_versions_immutable();
"""

QUEUE_TABLES = ["procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                "procrastinate_workers"]
QUEUE_TYPES = ["procrastinate_job_to_defer_v1", "procrastinate_job_event_type",
               "procrastinate_job_status"]


def upgrade() -> None:
    op.execute(IMMUTABLE_FUNCTION)
    op.execute(IMMUTABLE_TRIGGER)
    # Straight to psycopg, with no parameters: the schema has '%' and ':' that neither
    # SQLAlchemy nor psycopg may read as placeholders. Same connection, same transaction.
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    for table in QUEUE_TABLES:
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    functions = bind.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "WHERE starts_with(p.proname, 'procrastinate_')"
    ).scalars().all()
    for signature in functions:
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for type_name in QUEUE_TYPES:
        bind.exec_driver_sql(f"DROP TYPE IF EXISTS {type_name} CASCADE")
    op.execute("DROP TRIGGER IF EXISTS model_versions_immutable ON model_versions")
    op.execute("DROP FUNCTION IF EXISTS briefml_model_versions_immutable()")
