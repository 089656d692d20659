"""Repairs to Whoosh 2.7's reading code (Whoosh gets no more releases), applied once on
import. None changes what a search finds: tests/unit/test_search_engine.py holds them to what
a walk through every document would find."""
from array import array
from bisect import bisect_left
from collections import OrderedDict
from itertools import accumulate, count

from whoosh.codec import whoosh3
from whoosh.matching import ReadTooFar
from whoosh.system import _INT_SIZE

# Posting blocks kept decoded, the most recently read, across all segments: about 1.2 KB each
# (128 document numbers and their weights), so 8192 is about 10 MB a process. Set by
# SEARCH_DECODED_BLOCKS (WhooshBackend).
DECODED_BLOCKS = 8192
# A posting list shorter than this (in bytes on disk: a few blocks) is skipped through block by
# block, as Whoosh does, and gets no table.
TABLE_FROM_BYTES = 4096


def remember_missing_columns():
    """Whoosh looks on disk, once per posting, for the lengths column of every field that has
    none (the ID fields), which made a rebuild spend a third of its time in stat(). Remember the
    answer per reader instead."""
    reader_class = whoosh3.W3PerDocReader
    if getattr(reader_class, "_forum_patched", False):
        return
    original = reader_class._cached_reader

    def cached_reader(self, fieldname, column):
        missing = self.__dict__.setdefault("_forum_missing", set())
        if fieldname in missing:
            return None
        reader = original(self, fieldname, column)
        if reader is None:
            missing.add(fieldname)
        return reader

    reader_class._cached_reader = cached_reader
    reader_class._forum_patched = True


def _block_table(matcher):
    """(last document number of each block, where each block starts) of the matcher's posting
    list, read once per segment and term: segments never change."""
    postfile = matcher._postfile
    tables = postfile.__dict__.setdefault("_forum_blocks", {})
    table = tables.get(matcher._baseoffset)
    if table is None:
        maxids, positions = array("q"), array("q")
        position = matcher._baseoffset
        while True:
            postfile.seek(position)
            length = postfile.read_int()
            maxids.append(postfile.read_pickle()[1])
            positions.append(position)
            if length < 0:
                break
            position += _INT_SIZE + length
        table = tables[matcher._baseoffset] = (maxids, positions)
    return table


_decoded = OrderedDict()   # (file token, block offset) -> (document numbers, weights)
_tokens = count()


def keep_decoded(blocks):
    """Keep at most `blocks` decoded blocks from now on, letting go of the oldest at once."""
    global DECODED_BLOCKS
    DECODED_BLOCKS = max(0, int(blocks))
    _trim()


def _trim():
    while len(_decoded) > DECODED_BLOCKS:
        _decoded.popitem(last=False)


def _file_token(postfile):
    """A number for a segment's postings file that no other file is ever given (an id() could
    be given again to a file opened after this one is gone)."""
    token = postfile.__dict__.get("_forum_token")
    if token is None:
        token = postfile.__dict__["_forum_token"] = next(_tokens)
    return token


def _extent(matcher):
    # Whoosh reads a term's length on disk with struct.unpack and keeps the 1-tuple it returns.
    length = matcher._length
    return length[0] if isinstance(length, tuple) else length


def jump_to_blocks():
    """Whoosh skips forward through a posting list by reading every block's header on the way:
    a search of the newest documents, at the end of each list, read hundreds of headers per word
    before it looked at any of them, then stepped through the block one posting at a time. Look
    the block up in a table of the list's blocks instead, bisect the block, and keep the blocks
    searches read decoded."""
    matcher_class = whoosh3.W3LeafMatcher
    if getattr(matcher_class, "_forum_patched", False):
        return
    original = matcher_class.skip_to

    original_read_weights = matcher_class._read_weights

    def read_ids_and_weights(self):
        # A block is pickled and compressed, its document numbers stored as gaps that Whoosh
        # adds up one call per posting: most of a search's time went on reading the same
        # blocks of common words again. Keep the numbers and weights of recently read blocks.
        if self._byteids:
            if self._data is None:
                self._read_data()
            self._ids = self._data[0]
            return original_read_weights(self)
        key = (_file_token(self._postfile), self._dataoffset)
        found = _decoded.get(key)
        if found is None:
            if self._data is None:
                self._read_data()
            original_read_weights(self)
            # Whoosh writes weights as 4-byte floats: an array("f") holds them exactly.
            found = (array("i", accumulate(self._data[0])), array("f", self._weights))
            _decoded[key] = found
            _trim()
        else:
            _decoded.move_to_end(key)
        self._ids, self._weights = found

    def skip_to(self, targetid):
        if self._byteids:
            return original(self, targetid)
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            if _extent(self) < TABLE_FROM_BYTES:
                while self.is_active() and targetid > self._maxid:
                    self._next_block()
                if not self.is_active():
                    return
            else:
                maxids, positions = _block_table(self)
                at = bisect_left(maxids, targetid)
                if at == len(maxids):  # past the last document: at the end, as Whoosh leaves it
                    self._goto(positions[-1])
                    self._atend = True
                    return
                self._goto(positions[at])
        # The target is in this block: find it by bisection, not one posting at a time.
        if self._ids is None:
            self._read_ids()
        self._i = bisect_left(self._ids, targetid, self._i)

    matcher_class.skip_to = skip_to
    matcher_class._read_ids = read_ids_and_weights
    matcher_class._read_weights = read_ids_and_weights
    matcher_class._forum_patched = True


remember_missing_columns()
jump_to_blocks()
