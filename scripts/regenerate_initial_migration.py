"""Regenerate migration 0001 from the models (allowed until the first release; later, add revisions).

Usage: python scripts/regenerate_initial_migration.py
GiST indexes are made conditional on PostgreSQL; SQLite has no use for them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile

from alembic import command

from strengthmap.storage import MIGRATIONS_DIR, alembic_config, create_store_engine

MESSAGE = "initial schema: the whole domain model"


def main() -> int:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_store_engine(f"sqlite:///{tmp}/empty.sqlite")
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=MESSAGE, autogenerate=True, rev_id="0001")
        engine.dispose()
    (path,) = versions.glob("0001_*.py")
    text = path.read_text()
    text = re.sub(
        r"^(\s*)(batch_op\.(?:create|drop)_index\('[a-z_]+_gist'.*)$",
        r"\1if op.get_bind().dialect.name == 'postgresql':\n\1    \2",
        text,
        flags=re.M,
    )
    text = text.replace(
        "def upgrade() -> None:\n",
        "def upgrade() -> None:\n"
        "    if op.get_bind().dialect.name == 'postgresql':\n"
        "        op.execute('CREATE EXTENSION IF NOT EXISTS postgis')\n",
        1,
    )
    path.write_text(text)
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(path)], check=False)
    subprocess.run([sys.executable, "-m", "ruff", "check", "-q", "--fix", str(path)], check=False)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
