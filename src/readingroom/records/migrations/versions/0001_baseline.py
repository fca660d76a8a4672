"""Baseline: the records schema of the release before migrations (commit 50066d5), made then by create_all.

Timestamps are naive UTC DateTime columns (the models' UTCDateTime stores them so).

Revision ID: 0001
Revises: (none)
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conference_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('licence_id', sa.String(length=100), nullable=True),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('is_educator', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('attendance_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['conference_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attendance_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_attendance_session_participant', ['session_id', 'participant_id'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.Column('quarter_hours', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.Column('module', sa.String(length=200), nullable=True),
    sa.Column('credit_type', sa.String(length=100), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['conference_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('uq_certificate_live_session', ['participant_id', 'session_id'], unique=True, sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))
        batch_op.create_index('uq_certificate_self_study_module', ['participant_id', 'module'], unique=True, sqlite_where=sa.text("format = 'self-study' AND module IS NOT NULL"), postgresql_where=sa.text("format = 'self-study' AND module IS NOT NULL"))

    op.create_table('evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_at'), ['at'], unique=False)
        batch_op.create_index('ix_evaluation_participant_module', ['participant_id', 'module'], unique=False)

    op.create_table('module_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('disclosures_seen_at', sa.DateTime(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('seconds_on_task', sa.Float(), nullable=False),
    sa.Column('last_heartbeat_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'module', name='uq_module_progress_participant_module')
    )
    op.create_table('poll_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.String(length=100), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['conference_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('poll_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_answer_answered_at'), ['answered_at'], unique=False)

    op.create_table('question_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('case_slug', sa.String(length=200), nullable=False),
    sa.Column('question_id', sa.String(length=100), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['conference_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_answer_answered_at'), ['answered_at'], unique=False)

    op.create_table('test_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('test_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_attempt_at'), ['at'], unique=False)
        batch_op.create_index('ix_test_attempt_participant_module', ['participant_id', 'module'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('test_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_test_attempt_participant_module')
        batch_op.drop_index(batch_op.f('ix_test_attempt_at'))

    op.drop_table('test_attempt')
    with op.batch_alter_table('question_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_answer_answered_at'))

    op.drop_table('question_answer')
    with op.batch_alter_table('poll_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_answer_answered_at'))

    op.drop_table('poll_answer')
    op.drop_table('module_progress')
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_participant_module')
        batch_op.drop_index(batch_op.f('ix_evaluation_at'))

    op.drop_table('evaluation')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_self_study_module', sqlite_where=sa.text("format = 'self-study' AND module IS NOT NULL"), postgresql_where=sa.text("format = 'self-study' AND module IS NOT NULL"))
        batch_op.drop_index('uq_certificate_live_session', sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))

    op.drop_table('certificate')
    with op.batch_alter_table('attendance_event', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_session_participant')
        batch_op.drop_index(batch_op.f('ix_attendance_event_at'))

    op.drop_table('attendance_event')
    op.drop_table('participant')
    op.drop_table('conference_session')
