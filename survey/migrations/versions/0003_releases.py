"""Published releases: immutable, numbered snapshots of a cycle's results (SPEC 4b).

Release 1 of every cycle published before this revision is computed by `survey init`
after the upgrade (survey.releases.publish_missing), from the data as it stands: the
figures need the application's scoring, which a migration must not import.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:50:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=320), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=80), nullable=False),
    sa.Column('figures_hash', sa.String(length=64), nullable=False),
    sa.Column('results_version', sa.Integer(), nullable=False),
    sa.Column('held_back', sa.JSON(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('basis', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_releases_cycle_id_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('cycle_id', 'number', name=op.f('uq_releases_cycle_id_number'))
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_releases_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('release_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('board_code', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_release_parts_release_id_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_parts')),
    sa.UniqueConstraint('release_id', 'board_code', name=op.f('uq_release_parts_release_id_board_code'))
    )
    with op.batch_alter_table('release_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_parts_release_id'), ['release_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('release_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_parts_release_id'))
    op.drop_table('release_parts')
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_releases_cycle_id'))
    op.drop_table('releases')
