"""Text from input: a form field or a JSON value."""


def as_text(value):
    """The value as text, trimmed, with line breaks as "\\n" whatever the browser sent
    (forms send "\\r\\n"); anything that is not a string (a number, a list, an object, null)
    reads as empty, so a field's own check says what is missing rather than storing "['x']"."""
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def counted(number, word, plural=None):
    """ "1 support", "3 supports", "0 supports": a number with its noun agreeing."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"
