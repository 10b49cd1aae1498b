"""conversations, turns, feedback, seen Slack events

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    op.create_table('seen_events',
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_seen_events'))
    )
    with op.batch_alter_table('seen_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_events_seen_at'), ['seen_at'], unique=False)

    op.create_table('turns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('resolved', sa.Text(), nullable=False),
    sa.Column('normalized', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('clause_ids', sa.JSON(), nullable=False),
    sa.Column('top_clause_id', sa.String(length=128), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_turns_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_turns')),
    sa.UniqueConstraint('conversation_id', 'number', name=op.f('uq_turns_conversation_id_number'))
    )
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turns_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_turns_normalized'), ['normalized'], unique=False)

    op.create_table('feedback',
    sa.Column('turn_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=4), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("rating IN ('up', 'down')", name=op.f('ck_feedback_rating')),
    sa.ForeignKeyConstraint(['turn_id'], ['turns.id'], name=op.f('fk_feedback_turn_id_turns'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('turn_id', name=op.f('pk_feedback'))
    )


def downgrade() -> None:
    op.drop_table('feedback')
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turns_normalized'))
        batch_op.drop_index(batch_op.f('ix_turns_created_at'))

    op.drop_table('turns')
    with op.batch_alter_table('seen_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_events_seen_at'))

    op.drop_table('seen_events')
    op.drop_table('conversations')
