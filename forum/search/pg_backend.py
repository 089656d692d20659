"""PostgreSQL full-text search: the search_documents table (tsvector columns, GIN indexes),
for deployments where several app hosts share one database. Writes take an advisory lock, so
one catches up at a time, and run in the same transaction as the outbox rows they clear.
"""
from sqlalchemy import bindparam, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..models import SearchDocument
from . import windows

# Two int4 keys for pg_advisory locks: "search index writer".
LOCK_KEYS = (0x666F72, 0x736561)
COLUMNS = ("doc_id", "kind", "record_id", "topic_kind", "username", "category_id", "status",
           "scope", "votes", "visible", "created_at")


class PostgresBackend:
    name = "postgres"

    def __init__(self, config="english"):
        self.config = literal_column(f"'{config}'::regconfig") if config.isidentifier() \
            else literal_column("'english'::regconfig")

    def try_lock(self, session):
        """The writer lock for this transaction; False when another writer holds it."""
        return session.scalar(select(func.pg_try_advisory_xact_lock(*LOCK_KEYS)))

    def lock_session(self, session):
        """Hold the writer lock on this session's connection until unlock_session."""
        session.execute(select(func.pg_advisory_lock(*LOCK_KEYS)))

    def unlock_session(self, session):
        session.execute(select(func.pg_advisory_unlock(*LOCK_KEYS)))

    def _upsert(self, generation=0):
        table = SearchDocument.__table__
        title, body = bindparam("title"), bindparam("body")
        values = {c: bindparam(c) for c in COLUMNS}
        values["generation"] = generation
        values["title_tsv"] = func.to_tsvector(self.config, title)
        values["tsv"] = func.setweight(func.to_tsvector(self.config, title),
                                       literal_column("'A'")).op("||")(
            func.setweight(func.to_tsvector(self.config, body), literal_column("'B'")))
        stmt = pg_insert(table).values(values)
        return stmt.on_conflict_do_update(
            index_elements=["doc_id"],
            set_={c: stmt.excluded[c] for c in values if c != "doc_id"})

    @staticmethod
    def _row(doc):
        return {c: doc[c] for c in COLUMNS} | {"title": doc["title"], "body": doc["body"]}

    def apply(self, session, changes, generation=0, pause=None):
        """Write {doc_id: document or None} in the caller's transaction."""
        gone = [doc_id for doc_id, doc in changes.items() if doc is None]
        rows = [self._row(doc) for doc in changes.values() if doc is not None]
        if gone:
            session.execute(delete(SearchDocument).where(SearchDocument.doc_id.in_(gone)))
        for n, row in enumerate(rows):
            session.execute(self._upsert(generation), [row])
            if pause:
                pause(n)

    def apply_batch(self, session, docs, generation):
        if docs:
            session.execute(self._upsert(generation), [self._row(d) for d in docs])

    def next_generation(self, session):
        return (session.scalar(select(func.max(SearchDocument.generation))) or 0) + 1

    def drop_older(self, session, generation):
        session.execute(delete(SearchDocument).where(SearchDocument.generation < generation))

    def doc_ids(self, session):
        return set(session.scalars(select(SearchDocument.doc_id)))

    def _tsquery(self, q):
        parts = [func.plainto_tsquery(self.config, w) for w in q.words]
        parts += [func.phraseto_tsquery(self.config, p) for p in q.phrases]
        query = parts[0]
        for part in parts[1:]:
            query = query.op("&&")(part)
        return query

    def search(self, session, q, offset, limit, recent=200):
        """[(kind, record_id)] for hits offset..offset+limit, best first, looking at the same
        windows of recent documents as the Whoosh backend (windows.py)."""
        d = SearchDocument
        where = [d.visible.is_(True)]
        if q.types:
            kinds = [t for t in q.types if t != "lab"]
            options = [d.kind.in_(kinds)] if kinds else []
            if "lab" in q.types:
                options.append(d.topic_kind == "lab")
            where.append(options[0] if len(options) == 1 else options[0] | options[1])
        if q.username:
            where.append(d.username == q.username)
        if q.category_id is not None:
            where.append(d.category_id == q.category_id)
        if q.statuses:
            where.append(d.status.in_(q.statuses))
        if q.scopes:
            where.append(d.scope.in_(q.scopes))
        if q.after:
            where.append(d.created_at >= q.after)
        if q.before:
            where.append(d.created_at < q.before)
        if q.in_title:
            where.append(d.kind.in_(("topic", "proposal")))
        newest_order = [d.created_at.desc(), d.doc_id.desc()]
        order, needed = newest_order, offset + limit
        enough = needed
        if q.has_text:
            tsquery = self._tsquery(q)
            vector = d.title_tsv if q.in_title else d.tsv
            where.append(vector.op("@@")(tsquery))
            if q.order == "relevance":
                order = [func.ts_rank_cd(vector, tsquery).desc()] + newest_order
                enough = max(needed, recent)
        if q.order == "votes":
            order = [d.votes.desc()] + newest_order
            enough = max(needed, recent)
        for size in (tuple(windows.SIZES) if recent else ()) + (None,):
            since = where
            if size is not None:
                # The window: documents at least as new as the size-th newest.
                boundary = session.scalar(select(d.created_at).where(d.visible.is_(True))
                                          .order_by(d.created_at.desc())
                                          .offset(size - 1).limit(1))
                if boundary is None:
                    break  # fewer documents than that: search them all
                since = where + [d.created_at >= boundary]
                matches = session.scalar(select(func.count()).select_from(
                    select(d.doc_id).where(*since).limit(enough).subquery()))
                if matches < enough:
                    continue
            break
        stmt = select(d.kind, d.record_id).where(*since).order_by(*order) \
            .offset(offset).limit(limit)
        return [(kind, record_id) for kind, record_id in session.execute(stmt)]

    def clear(self, session):
        session.execute(delete(SearchDocument))
