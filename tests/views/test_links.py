"""Links built by formatting must be exactly what url_for builds."""
import pytest
from flask import url_for

from forum.views.links import Link

CASES = [
    ("topics.show", ("slug", "topic_id"), {}, [("a-topic", 1), ("x", 123456)]),
    ("topics.show_post", ("slug", "topic_id", "post_number"), {},
     [("a-topic", 7, 1), ("b", 1, 2000)]),
    ("topics.show", ("slug", "topic_id"), {"page": 3, "reply_to": 9}, [("a-topic", 7)]),
    ("topics.category", ("slug", "category_id"), {}, [("general", 2)]),
    ("users.profile", ("username",), {},
     [("member00001",), ("a.b-c_d",), ("Zoë",), ("o'neil",), ("x y/z?#&=%",)]),
    ("users.avatar", ("username",), {}, [("member00001",), ("Zoë",)]),
    ("posts.like", ("post_id",), {}, [(1,), (98765,)]),
    ("posts.edit", ("post_id",), {}, [(4,)]),
    ("posts.withdraw", ("post_id",), {}, [(4,)]),
    ("posts.revisions", ("post_id",), {}, [(4,)]),
]


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/forum/"])
@pytest.mark.parametrize("endpoint,names,fixed,samples", CASES)
def test_links_are_url_for_links(app, base_url, endpoint, names, fixed, samples):
    with app.test_request_context("/", base_url=base_url):
        link = Link(endpoint, *names, **fixed)
        for values in samples:
            assert link(*values) == url_for(endpoint, **fixed, **dict(zip(names, values)))


def test_query_string_values_are_refused(app):
    with app.test_request_context("/"):
        with pytest.raises(ValueError):
            Link("topics.show", "page", slug="a", topic_id=1)
