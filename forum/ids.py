"""Row ids from input: a URL, a form field or a JSON value."""

# The largest value of the integer columns ids live in (PostgreSQL INTEGER): a larger number
# would make the database driver raise instead of finding nothing.
ID_MAX = 2 ** 31 - 1


def as_id(value):
    """A row id, or None: a whole positive number in ASCII digits ("²" and "١" are digits to
    str.isdigit, not to int), small enough for the database's integer columns."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 0 < int(text) <= ID_MAX:
        return None
    return int(text)
