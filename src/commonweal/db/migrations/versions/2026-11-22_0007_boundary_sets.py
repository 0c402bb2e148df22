"""indicators: an organisation's own map boundaries (GeoJSON geometries keyed by geography code)

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-22 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundary_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("n_features", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_boundary_set_organisation_id_organisation"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_set")),
        sa.UniqueConstraint("organisation_id", "name",
                            name=op.f("uq_boundary_set_organisation_id_name")),
    )
    with op.batch_alter_table("boundary_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boundary_set_organisation_id"), ["organisation_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("boundary_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boundary_set_organisation_id"))
    op.drop_table("boundary_set")
