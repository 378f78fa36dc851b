"""Partnerships shared by several boards, target industries, outcome figures; sectors
from the shipped list (SPEC 16).

Free-text sectors that match a name or code of survey/data/sectors.csv (case,
spacing and punctuation ignored) are rewritten to the list's name, in partnerships and in every
cycle's participations; the rest are kept as typed and listed (here in the log, and at
/admin/sectors and after `survey init`) for an administrator to map.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 15:55:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from survey.sectors import find_sector

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table('board_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('sector_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_board_targets_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_targets')),
    sa.UniqueConstraint('board_id', 'sector_code', name=op.f('uq_board_targets_board_id_sector_code'))
    )
    with op.batch_alter_table('board_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_board_targets_board_id'), ['board_id'], unique=False)

    op.create_table('outcome_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('measure_key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_outcome_values_cycle_id_cycles')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_outcome_values_partnership_id_partnerships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_values')),
    sa.UniqueConstraint('partnership_id', 'cycle_id', 'measure_key', name=op.f('uq_outcome_values_partnership_id_cycle_id_measure_key'))
    )
    with op.batch_alter_table('outcome_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_values_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_values_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('partnership_boards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_partnership_boards_board_id_boards')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_boards_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership_boards')),
    sa.UniqueConstraint('partnership_id', 'board_id', name=op.f('uq_partnership_boards_partnership_id_board_id'))
    )
    with op.batch_alter_table('partnership_boards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_boards_board_id'), ['board_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partnership_boards_partnership_id'), ['partnership_id'], unique=False)

    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('also_boards', sa.String(length=400), server_default='', nullable=False))

    map_sectors(op.get_bind())


def map_sectors(conn: sa.Connection) -> list[str]:
    """Rewrite free-text sectors that are on the list to the list's name; return (and
    log) the distinct texts that are not."""
    unmatched: set[str] = set()
    for table in ("partnerships", "participations"):
        texts = conn.execute(sa.text(f"SELECT DISTINCT sector FROM {table}")).scalars()
        for text in list(texts):
            if not (text or "").strip():
                continue
            sector = find_sector(text)
            if sector is None:
                unmatched.add(text)
            elif sector.name != text:
                conn.execute(sa.text(f"UPDATE {table} SET sector = :name WHERE sector = :text"),
                             {"name": sector.name, "text": text})
    for text in sorted(unmatched):
        log.warning("sector %r is not on the sector list: map it at /admin/sectors", text)
    return sorted(unmatched)


def downgrade() -> None:
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_column('also_boards')

    with op.batch_alter_table('partnership_boards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_boards_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_partnership_boards_board_id'))

    op.drop_table('partnership_boards')
    with op.batch_alter_table('outcome_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_values_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_values_cycle_id'))

    op.drop_table('outcome_values')
    with op.batch_alter_table('board_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_board_targets_board_id'))

    op.drop_table('board_targets')
