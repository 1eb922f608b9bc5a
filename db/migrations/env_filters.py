"""Which database objects Alembic's autogenerate compares against the models."""


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the queue's own tables (procrastinate's schema, revision 0002) to procrastinate."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name) or ""
    return not table_name.startswith("procrastinate_")
