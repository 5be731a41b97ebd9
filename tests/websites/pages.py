"""A synthetic ministry homepage, the kind of page the website watch protects."""

from __future__ import annotations

NEWS = [
    ("Minister opens new regional office", "The new office will serve citizens in the northern districts."),
    ("Public consultation on water policy", "Citizens may send comments until the end of the month."),
    ("Annual report published", "The ministry's annual report for last year is now available."),
]


def ministry_page(
    *,
    title: str = "Ministry of Interior - Official website",
    news: list[tuple[str, str]] | None = None,
    inject_head: str = "",
    inject_body: str = "",
    token: str = "c0ffee1234567890abcdef",
    clock: str = "2026-11-23 10:15",
    visitors: int = 1234,
) -> str:
    items = "\n".join(
        f'<li class="news-item"><h3><a href="/news/{i}">{t}</a></h3><p>{s}</p></li>'
        for i, (t, s) in enumerate(news if news is not None else NEWS)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="description" content="Official website of the Ministry of Interior">
  <link rel="stylesheet" href="/static/site.css?v={visitors}">
  <script src="/static/site.js?v=20261123" nonce="{token}"></script>
  {inject_head}
</head>
<body>
  <header id="top">
    <img id="logo" src="/static/crest.png" alt="Ministry crest">
    <nav class="main-nav"><ul>
      <li><a href="/services">Services</a></li><li><a href="/news">News</a></li>
      <li><a href="/contact">Contact</a></li><li><a href="https://www.gov.example/">Government portal</a></li>
    </ul></nav>
    <form class="search" action="/search" method="get"><input name="q"><input type="hidden" name="csrf"
      value="{token}"><button>Search</button></form>
  </header>
  <main id="content">
    <h1>Welcome to the Ministry of Interior</h1>
    <p>The ministry is responsible for public safety, civil registration and local government.</p>
    <section class="latest-news"><h2>Latest news</h2><ul>{items}</ul></section>
    <section class="services"><h2>Online services</h2>
      <p>Apply for an identity card, register a birth or renew a residence permit online.</p>
    </section>
    {inject_body}
  </main>
  <footer id="footer"><p>Last updated {clock}. Visitors: {visitors}.</p>
    <p>&copy; Ministry of Interior. All rights reserved.</p></footer>
</body>
</html>"""
