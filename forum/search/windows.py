"""Windows of recent documents that searches look at first: the newest 1,000 documents, then
the newest 4,000, 16,000, 64,000, then all of them.

order:latest stops at the first window holding a full page of matches (nothing older can come
first); relevance and votes rank the first window holding SEARCH_RECENT_MATCHES matches (the
best of the newest, as Discourse's search_prefer_recent_posts), so a word found in half the
forum is ranked among a few hundred recent uses instead of scored 50,000 times. A window
counts documents, not days, so it works however unevenly a forum's posting is spread in time.
"""
SIZES = (1_000, 4_000, 16_000, 64_000)
