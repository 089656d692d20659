"""Whoosh, in SEARCH_INDEX_DIR on one host: writes under a file lock, reads from a cached
searcher that refreshes when the index changes.

The directory holds generations (gen-<n>/) and a CURRENT file naming the live one, so a full
rebuild fills a new generation while searches keep reading the old, then switches with one
atomic rename.
"""
import fcntl
import os
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import timezone

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema

from . import whoosh_patches  # applied on import
from . import whoosh_windows

ANALYZER = StemmingAnalyzer()

# Filters are terms of one keyword field ("k:post u:carys c:3 s:open sc:uk tk:lab v:1"): one
# field to index per document instead of seven, which keeps a rebuild of 100,000 posts quick.
# Searches look at windows of the newest documents first (windows.py), by the created column.
SCHEMA = Schema(
    doc_id=ID(unique=True, stored=True),
    title=TEXT(analyzer=ANALYZER, field_boost=2.0),
    body=TEXT(analyzer=ANALYZER),
    tags=KEYWORD(),
    tagcol=COLUMN(VarBytesColumn()),           # the same tags, read per candidate document
    created=COLUMN(NumericColumn("q")),        # for order:latest
    votes=COLUMN(NumericColumn("q")),          # for order:votes
)
# A filter matching fewer than this share of documents joins the query as a term; a broader one
# is checked on each candidate instead.
SELECTIVE = 0.1
# Relevance and votes rank the newest window holding at least this many matches.
RECENT_MATCHES = 200
TEXT_FIELDS = ("title", "body")


class WhooshBackend:
    name = "whoosh"

    def __init__(self, directory, rebuild_procs=1, decoded_blocks=None):
        self.directory = directory
        self.rebuild_procs = max(1, int(rebuild_procs))
        if decoded_blocks is not None:
            # One setting for the process (the cache is the process's): the last app made sets it.
            whoosh_patches.keep_decoded(decoded_blocks)
        self._local = threading.local()

    # -- where the live index is ----------------------------------------------------------------

    def _current_name(self):
        try:
            with open(os.path.join(self.directory, "CURRENT")) as handle:
                return handle.read().strip() or None
        except FileNotFoundError:
            return None

    def _new_generation(self):
        os.makedirs(self.directory, exist_ok=True)
        name = f"gen-{time.time_ns()}"
        path = os.path.join(self.directory, name)
        os.makedirs(path)
        whoosh_index.create_in(path, SCHEMA)
        return name

    def _switch_to(self, name):
        pointer = os.path.join(self.directory, "CURRENT")
        with open(pointer + ".new", "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer + ".new", pointer)
        for entry in os.listdir(self.directory):
            if entry.startswith("gen-") and entry != name:
                shutil.rmtree(os.path.join(self.directory, entry), ignore_errors=True)

    def _open(self, create=False):
        """The live index; with create (only while holding the lock), made if there is none."""
        name = self._current_name()
        if name is None or not whoosh_index.exists_in(os.path.join(self.directory, name)):
            if not create:
                return None
            name = self._new_generation()
            self._switch_to(name)
        return whoosh_index.open_dir(os.path.join(self.directory, name))

    # -- one writer at a time ---------------------------------------------------------------------

    @contextmanager
    def lock(self, blocking=True):
        """The writer lock: fcntl on a file, so the kernel releases it when a worker dies."""
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(os.path.join(self.directory, "writer.lock"), os.O_CREAT | os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- writing ----------------------------------------------------------------------------------

    @staticmethod
    def _fields(doc):
        created = doc["created_at"].astimezone(timezone.utc)
        tags = [f"k:{doc['kind']}", f"u:{doc['username']}", f"c:{doc['category_id'] or ''}",
                f"s:{doc['status']}", f"sc:{doc['scope']}", f"tk:{doc['topic_kind']}",
                "v:1" if doc["visible"] else "v:0"]
        return {"doc_id": doc["doc_id"], "title": doc["title"], "body": doc["body"],
                "tags": " ".join(tags), "tagcol": " ".join(tags).encode(),
                "created": int(created.timestamp() * 1000), "votes": int(doc["votes"])}

    def apply(self, changes, pause=None):
        """Write {doc_id: document or None} in one commit. Call with the lock held."""
        ix = self._open(create=True)
        writer = ix.writer(limitmb=128)
        try:
            for n, (doc_id, doc) in enumerate(changes.items()):
                if doc is None:
                    writer.delete_by_term("doc_id", doc_id)
                else:
                    writer.update_document(**self._fields(doc))
                if pause:
                    pause(n)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise

    def rebuild(self, batches, progress=None):
        """Fill a new generation from every document and switch to it. Call with the lock held."""
        name = self._new_generation()
        ix = whoosh_index.open_dir(os.path.join(self.directory, name))
        # procs > 1 indexes in that many processes, each writing a segment of its own.
        writer = ix.writer(limitmb=256, procs=self.rebuild_procs, multisegment=True) \
            if self.rebuild_procs > 1 else ix.writer(limitmb=256)
        try:
            for batch in batches:
                for doc in batch:
                    writer.add_document(**self._fields(doc))
                if progress:
                    progress(len(batch))
            writer.commit()
        except BaseException:
            writer.cancel()
            shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)
            raise
        self._switch_to(name)

    def doc_ids(self):
        """Every doc_id in the index with its kind: for consistency checks."""
        ix = self._open()
        if ix is None:
            return set()
        with ix.searcher() as searcher:
            return {fields["doc_id"] for fields in searcher.all_stored_fields()}

    # -- reading ----------------------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher, reopened when another process committed or rebuilt."""
        local = self._local
        name = self._current_name()
        searcher = getattr(local, "searcher", None)
        if searcher is not None and local.name == name:
            if searcher.up_to_date():
                return searcher
            local.searcher = searcher.refresh()
            return local.searcher
        if searcher is not None:
            searcher.close()
            local.searcher = None
        ix = self._open()
        if ix is None:
            return None
        local.searcher, local.name = ix.searcher(), name
        return local.searcher

    def _text_query(self, q):
        fields = ("title",) if q.in_title else TEXT_FIELDS
        parts = []
        # A word the analyser splits ("rent-cap") is searched as the phrase of its parts.
        for words in q.words + q.phrases:
            tokens = [t.text for t in ANALYZER(words)]
            if len(tokens) == 1:
                parts.append(wq.Or([wq.Term(f, tokens[0]) for f in fields]))
            elif tokens:
                parts.append(wq.Or([wq.Phrase(f, tokens) for f in fields]))
        return parts

    @staticmethod
    def _filter_groups(q):
        """Each filter as the set of tags of which a document needs one."""
        groups = []
        if q.types:
            groups.append({f"k:{t}" for t in q.types if t != "lab"}
                          | ({"tk:lab"} if "lab" in q.types else set()))
        if q.username:
            groups.append({f"u:{q.username}"})
        if q.category_id is not None:
            groups.append({f"c:{q.category_id}"})
        if q.statuses:
            groups.append({f"s:{s}" for s in q.statuses})
        if q.scopes:
            groups.append({f"sc:{s}" for s in q.scopes})
        if q.in_title:
            groups.append({"k:topic", "k:proposal"})
        return groups

    def _plan(self, searcher, q):
        """Split the filters: selective ones join the query (their postings lead the way),
        broad ones and dates are checked on each candidate the query turns up, so block-max
        skipping still works. Returns (query parts, predicate)."""
        total = max(searcher.doc_count_all(), 1)
        parts, broad = [], []
        for group in self._filter_groups(q):
            frequency = sum(searcher.doc_frequency("tags", tag) for tag in group)
            if frequency / total < SELECTIVE:
                # Boost 0: a filter adds nothing to relevance. (ConstantScoreQuery would do the
                # same, but reads the filter's whole posting list into a list at every search.)
                terms = [wq.Term("tags", tag, boost=0.0) for tag in sorted(group)]
                parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
            else:
                broad.append(group)
        after = int(q.after.timestamp() * 1000) if q.after else None
        before = int(q.before.timestamp() * 1000) if q.before else None
        reader = searcher.reader()
        tags_of = reader.column_reader("tagcol")
        created_of = reader.column_reader("created")

        def keep(docnum):
            tags = tags_of[docnum].split()
            if b"v:0" in tags:
                return False
            for group in broad:
                if not any(tag.encode() in tags for tag in group):
                    return False
            if after is not None or before is not None:
                created = created_of[docnum]
                if (after is not None and created < after) or \
                        (before is not None and created >= before):
                    return False
            return True

        return parts, keep, created_of

    def search(self, q, offset, limit, recent=RECENT_MATCHES):
        """[(kind, record_id)] for hits offset..offset+limit, best first, looking at the windows
        of windows.py: the newest documents first (whoosh_windows.py)."""
        text = self._text_query(q)
        if q.has_text and not text:
            return []  # only words too common to index, such as "the"
        searcher = self._searcher()
        if searcher is None or not searcher.doc_count_all():
            return []  # nothing indexed yet (an empty index has no columns to read)
        filters, keep, created_of = self._plan(searcher, q)
        parts = text + filters
        query = parts[0] if len(parts) == 1 else wq.And(parts) if parts else wq.Every()
        needed = offset + limit
        enough = needed if q.order == "latest" or not text else max(needed, recent)
        if q.order == "votes":
            votes_of = searcher.reader().column_reader("votes")
            order_key = lambda d: (votes_of[d], created_of[d])  # noqa: E731
        else:
            order_key = created_of.__getitem__
        docnums = whoosh_windows.rank(searcher, query, keep, created_of, order_key, needed,
                                      enough if recent else None,
                                      relevance=bool(text) and q.order == "relevance")
        hits = []
        for docnum in docnums[offset:offset + limit]:
            kind, _, record_id = searcher.stored_fields(docnum)["doc_id"].partition(":")
            hits.append((kind, int(record_id)))
        return hits

    def clear(self):
        shutil.rmtree(self.directory, ignore_errors=True)
        self._local = threading.local()
