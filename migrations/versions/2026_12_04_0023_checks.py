"""the 排查 side: risk points, control measures, check tasks and items, sweeps

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('hazard_factors', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                            name=op.f('fk_risk_point_created_by_id_user')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                            name=op.f('fk_risk_point_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_point'))
    )
    op.create_index(op.f('ix_risk_point_enterprise_id'), 'risk_point', ['enterprise_id'])
    op.create_table('control_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_point_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('check_item', sa.String(length=500), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['risk_point_id'], ['risk_point.id'],
                            name=op.f('fk_control_measure_risk_point_id_risk_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_control_measure'))
    )
    op.create_index(op.f('ix_control_measure_risk_point_id'), 'control_measure',
                    ['risk_point_id'])
    op.create_table('sweep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('industry_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                            name=op.f('fk_sweep_created_by_id_user')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'], name=op.f('fk_sweep_hazard_id_hazard')),
    sa.ForeignKeyConstraint(['industry_id'], ['industry.id'],
                            name=op.f('fk_sweep_industry_id_industry')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_sweep_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep'))
    )
    op.create_index(op.f('ix_sweep_hazard_id'), 'sweep', ['hazard_id'])
    op.create_table('check_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=True),
    sa.Column('sweep_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'],
                            name=op.f('fk_check_task_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['measure_id'], ['control_measure.id'],
                            name=op.f('fk_check_task_measure_id_control_measure')),
    sa.ForeignKeyConstraint(['sweep_id'], ['sweep.id'], name=op.f('fk_check_task_sweep_id_sweep')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_task')),
    sa.UniqueConstraint('measure_id', 'period_start',
                        name=op.f('uq_check_task_measure_id_period_start')),
    sa.UniqueConstraint('sweep_id', 'enterprise_id',
                        name=op.f('uq_check_task_sweep_id_enterprise_id'))
    )
    op.create_index('ix_check_task_enterprise_keyset', 'check_task', ['enterprise_id', 'id'])
    op.create_index('ix_check_task_state_due', 'check_task', ['state', 'due_on'])
    op.create_table('check_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('content', sa.String(length=500), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('hazard_id', sa.Integer(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'],
                            name=op.f('fk_check_item_answered_by_id_user')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazard.id'],
                            name=op.f('fk_check_item_hazard_id_hazard')),
    sa.ForeignKeyConstraint(['task_id'], ['check_task.id'],
                            name=op.f('fk_check_item_task_id_check_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_item')),
    sa.UniqueConstraint('task_id', 'position', name=op.f('uq_check_item_task_id_position'))
    )
    op.create_index(op.f('ix_check_item_hazard_id'), 'check_item', ['hazard_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_check_item_hazard_id'), table_name='check_item')
    op.drop_table('check_item')
    op.drop_index('ix_check_task_state_due', table_name='check_task')
    op.drop_index('ix_check_task_enterprise_keyset', table_name='check_task')
    op.drop_table('check_task')
    op.drop_index(op.f('ix_sweep_hazard_id'), table_name='sweep')
    op.drop_table('sweep')
    op.drop_index(op.f('ix_control_measure_risk_point_id'), table_name='control_measure')
    op.drop_table('control_measure')
    op.drop_index(op.f('ix_risk_point_enterprise_id'), table_name='risk_point')
    op.drop_table('risk_point')
