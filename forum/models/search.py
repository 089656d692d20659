"""The search outbox (what changed and must be reindexed) and PostgreSQL's search documents."""
from sqlalchemy.dialects.postgresql import TSVECTOR

from ..extensions import db
from .types import UTCDateTime, utcnow

# tsvector on PostgreSQL; on SQLite the table exists (one schema everywhere) but stays empty.
SearchVector = db.Text().with_variant(TSVECTOR(), "postgresql")


class SearchOutbox(db.Model):
    """One changed record, written in the same transaction as the change. The index catches
    up from these rows and deletes them only once the index holds the change."""

    __tablename__ = "search_outbox"
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)  # topic, post, proposal, amendment
    record_id = db.Column(db.Integer, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class SearchDocument(db.Model):
    """The PostgreSQL full-text backend's index: one row per searchable thing."""

    __tablename__ = "search_documents"
    doc_id = db.Column(db.String(40), primary_key=True)  # "post:123"
    kind = db.Column(db.String(16), nullable=False)
    record_id = db.Column(db.Integer, nullable=False)
    topic_kind = db.Column(db.String(16), nullable=False, default="")
    username = db.Column(db.String(30), nullable=False, default="")
    category_id = db.Column(db.Integer, nullable=True)
    status = db.Column(db.String(16), nullable=False, default="")
    scope = db.Column(db.String(16), nullable=False, default="")
    votes = db.Column(db.Integer, nullable=False, default=0)
    visible = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False)
    generation = db.Column(db.Integer, nullable=False, default=0)
    title_tsv = db.Column(SearchVector, nullable=True)
    tsv = db.Column(SearchVector, nullable=True)

    __table_args__ = (
        db.Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        db.Index("ix_search_documents_title_tsv", "title_tsv", postgresql_using="gin"),
        db.Index("ix_search_documents_created", "visible", "created_at"),
        db.Index("ix_search_documents_username", "username"),
    )
