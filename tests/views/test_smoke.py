"""Every public page renders for visitors and members."""
import pytest

from tests.conftest import login

PUBLIC = ["/", "/latest", "/latest.json", "/top", "/top?period=weekly", "/new", "/unread",
          "/categories", "/categories.json", "/login", "/signup", "/password-reset"]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_pages_render(client, make, url):
    make.topic()
    response = client.get(url)
    assert response.status_code == 200


def test_topic_page_shows_posts_and_composer(client, make):
    topic = make.topic(title="Buses for everyone in the valleys")
    make.reply(topic, raw="I agree about **buses**.")
    member = make.user()
    login(client, member)
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert "Buses for everyone in the valleys" in page
    assert "<strong>buses</strong>" in page
    assert 'id="composer"' in page
