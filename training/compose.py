"""Compose the labelled documents of `data/` from the written parts in `data/parts/`.

Every text comes from `data/parts/` (written for this dataset); this script only arranges it the
way real pages arrange text: a whole page dumped to text (navigation, cookie banner, headline,
share bar, the article with ads and appeals in it, donation widget, related links, comments,
newsletter box, footer), or the same article after a main-content extractor (mostly body, with a
little residue). Seeded and deterministic: the same parts give the same files, byte for byte.

Splits are by part: an article, an appeal or a page skeleton belongs to one split only.

    python training/compose.py            # writes data/{train,validation,test}.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
PARTS = ROOT / "data" / "parts"
SPLITS = ("train", "validation", "test")
# Label of each UI category (see data/parts/README.md); categories not listed fill placeholders.
UI_LABEL = {
    "nav": "debris", "account": "debris", "skip": "debris", "cookie_text": "debris",
    "cookie_buttons": "debris", "share": "debris", "follow": "debris", "ads": "debris",
    "related_heading": "debris", "comments": "debris", "footer": "debris", "meta": "debris",
    "app": "debris", "widget": "debris", "forum": "debris", "shop": "debris",
    "appeal_buttons": "appeal", "newsletter_form": "debris", "caption_credits": "debris",
    # prose-like furniture (data/parts/ui_extra/)
    "author_bio": "debris", "company_about": "debris", "disclaimer": "debris", "reader_comment": "debris",
    "teaser": "debris", "sidebar": "debris", "caption": "debris", "byline_misc": "debris",
    "comment_meta": "debris", "notices": "debris", "comment_form": "debris",
}
LONG_FORM_SHARE = 0.4  # pages and extractor outputs whose article runs on with a second article's body
PAGE_DOCS_PER_ARTICLE = 2  # two differently built pages per article ...
EXTRACTED_DOCS_PER_ARTICLE = 2  # ... and two extractor outputs
EXTRACTED_RESIDUE_SHARE = 0.5  # extractor outputs with any residue ...
EXTRACTED_RESIDUE_RATE = 0.6  # ... and how much of each kind they keep
SHORT_MENU_SHARE = 0.2  # page headers whose menu has only one to three items
MINIMAL_PAGE_SHARE = 0.08  # bare pages: a few menu items, the article, a line or two after it
MAX_APPEAL_USES = 12  # keeps every appeal text under 1% of the documents
MAX_THREAD_USES = 12  # the same for every comment thread
THREAD_SHARE = 0.35  # comment sections that show a written thread (the rest: single comments)
CLIPPED_BOX_SHARE = 0.2  # related boxes that cut headlines and ledes to a fixed length ("…", "..")
VIDEO_BOX_SHARE = 0.1  # related boxes of videos: each card shows its running time ("01:52")
WIDE_SCRIPTS = ("zh", "ja", "ko")  # a character of these scripts takes about two Latin ones' width
CLIP_MARKS = ("..", "...", "…", " ...", " …", "[…]")  # how card templates mark a cut
# Extractors write list items "- ", and much of the residue they leave is a list: related links,
# menus, share and follow buttons. So a "- " says nothing about the label; context must.
EXTRACTED_LIST_MARKER_SHARE = 0.7  # extractor outputs whose residue lists keep their "- "
LIST_MARKERS = ("- ", "* ", "• ")  # how the written articles mark their list items
LISTED_CATEGORIES = {"nav", "account", "footer", "sidebar", "share", "follow"}  # UI printed as lists


def split_of(part_id: str) -> str:
    """Stable 80/10/10 split of a part by its id."""
    bucket = int(hashlib.sha256(part_id.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def read_jsonl(pattern: str) -> list[dict]:
    items = []
    for path in sorted(PARTS.glob(pattern)):
        with open(path, encoding="utf-8") as handle:
            items.extend(json.loads(line) for line in handle if line.strip())
    return items


def least_used(rng: random.Random, pool: list[dict], uses: Counter[str], cap: int) -> dict | None:
    """A part of `pool` among the least used so far, counted as used; None once all reach `cap`.

    Spreading uses keeps every written part in play and none in more than `cap` documents.
    """
    pool = [part for part in pool if uses[part["id"]] < cap]
    if not pool:
        return None
    least = min(uses[part["id"]] for part in pool)
    choice = rng.choice([part for part in pool if uses[part["id"]] <= least + 1])
    uses[choice["id"]] += 1
    return choice


def clip_text(rng: random.Random, lang: str) -> Callable[[str], str]:
    """One box's cut: card templates end long headlines and ledes at a fixed width with a mark."""
    width = rng.randint(18, 70) // (2 if lang in WIDE_SCRIPTS else 1)
    mark = rng.choice(CLIP_MARKS)
    return lambda text: text if len(text) <= width else text[:width].rstrip() + mark


class Page:
    """A document being built: paragraphs with labels, and the skeleton of block kinds."""

    def __init__(self, rng: random.Random, ui: dict, site: str, marker: str = ""):
        # marker: how this document writes the items of its menus and link lists ("- ", or none)
        self.rng, self.ui, self.site, self.marker = rng, ui, site, marker
        self.paragraphs: list[dict] = []
        self.blocks: list[list] = []  # [block kind, paragraphs], in page order
        self.appeal_ids: list[str] = []
        self.thread_ids: list[str] = []

    def fill(self, text: str) -> str:
        rng = self.rng
        return (
            text.replace("{site}", self.site)
            .replace("{year}", str(rng.randint(2012, 2026)))
            .replace("{section}", rng.choice(self.ui.get("sections") or ["News"]))
        )

    def add(self, text: str, label: str, block: str) -> None:
        text = " ".join(self.fill(text).split())
        if text:
            self.paragraphs.append({"text": text, "label": label})
            if self.blocks and self.blocks[-1][0] == block:
                self.blocks[-1][1] += 1
            else:
                self.blocks.append([block, 1])

    def ui_lines(self, category: str, k: int, block: str | None = None, ordered: bool = False) -> None:
        pool = self.ui.get(category) or []
        if not pool:
            return
        k = min(k, len(pool))
        if ordered:
            start = self.rng.randrange(0, len(pool) - k + 1)
            picked = pool[start : start + k]
        else:
            picked = self.rng.sample(pool, k)
        marker = self.marker if category in LISTED_CATEGORIES else ""
        for text in picked:
            self.add(marker + text, UI_LABEL[category], block or category)

    def one(self, category: str) -> str:
        return self.fill(self.rng.choice(self.ui.get(category) or [""]))


class Composer:
    """Builds documents for one split from its articles and appeals."""

    def __init__(
        self, split: str, articles: list[dict], appeals: list[dict], threads: list[dict],
        ui: dict[str, dict], residue: dict, seed: int,
    ):
        self.split, self.seed, self.ui, self.residue = split, seed, ui, residue
        self.articles = articles
        self.by_lang: dict[str, list[dict]] = defaultdict(list)
        for article in articles:
            self.by_lang[article["lang"]].append(article)
        self.appeals: dict[str, list[dict]] = defaultdict(list)
        for appeal in appeals:
            self.appeals[appeal["lang"]].append(appeal)
        self.appeal_uses: Counter[str] = Counter()
        self.threads: dict[str, list[dict]] = defaultdict(list)
        for thread in threads:
            self.threads[thread["lang"]].append(thread)
        self.thread_uses: Counter[str] = Counter()

    # -- parts -------------------------------------------------------------------------------
    def appeal(self, rng: random.Random, lang: str, *, short: bool | None = None, kinds: tuple[str, ...] = ()) -> dict | None:
        pool = [
            a for a in self.appeals[lang]
            if (not kinds or a["kind"] in kinds) and (short is None or (len(a["paragraphs"]) == 1) == short)
        ]
        return least_used(rng, pool, self.appeal_uses, MAX_APPEAL_USES)

    def add_appeal(self, page: Page, appeal: dict | None, block: str) -> None:
        if appeal is not None:
            page.appeal_ids.append(appeal["id"])
            for text in appeal["paragraphs"]:
                page.add(text, "appeal", block)

    def other_headlines(self, rng: random.Random, article: dict, k: int) -> list[str]:
        pool = [a for a in self.by_lang[article["lang"]] if a["id"] != article["id"]]
        return [a["headline"] for a in rng.sample(pool, min(k, len(pool)))]

    def related_box(self, page: Page, article: dict, teasers: bool) -> None:
        rng = page.rng
        page.ui_lines("related_heading", 1, "related")
        # One card layout per box, as a site's template repeats it: the other story's headline,
        # and with teasers its author, date and lede (its own standfirst or first paragraph).
        layout = ["headline"]
        if teasers:
            layout += [field for field, chance in (("byline", 0.4), ("date", 0.4), ("lede", 0.7)) if rng.random() < chance]
            if rng.random() < 0.3:
                rng.shuffle(layout)
        if rng.random() < VIDEO_BOX_SHARE:
            layout.insert(rng.randint(0, len(layout)), "duration")
        clip = clip_text(rng, article["lang"]) if rng.random() < CLIPPED_BOX_SHARE else None
        others = [a for a in self.by_lang[article["lang"]] if a["id"] != article["id"]]
        river = teasers and rng.random() < 0.3  # a long river of teasers after the article
        for other in rng.sample(others, min(rng.randint(6, 16) if river else rng.randint(2, 8), len(others))):
            if rng.random() < 0.15:
                page.add(f"{rng.randint(1, 10)}", "debris", "related")
            for field in layout:
                if field == "duration":
                    text = f"{rng.randint(0, 12):02d}:{rng.randint(0, 59):02d}"
                elif field == "lede":
                    text = rng.choice([other.get("teaser"), other.get("standfirst"), other["body"][0]])
                else:
                    text = other.get(field) or (page.one("meta") if field == "date" else None)
                if text and clip and field in ("headline", "lede"):
                    text = clip(text)
                if text and layout == ["headline"]:
                    text = page.marker + text  # a plain list of links
                if text:
                    page.add(text, "debris", "related")
        if rng.random() < 0.3:
            page.ui_lines("teaser", rng.randint(1, 4), "related")

    def thread(self, page: Page, lang: str) -> bool:
        """A written comment thread in one of the site's comment layouts; False if none is left."""
        rng = page.rng
        thread = least_used(rng, self.threads[lang], self.thread_uses, MAX_THREAD_USES)
        if thread is None:
            return False
        page.thread_ids.append(thread["id"])
        header = page.one("comment_headers") if page.ui.get("comment_headers") and rng.random() < 0.6 else "{name}"
        show_when, show_votes = rng.random() < 0.6, rng.random() < 0.7
        comments = thread["comments"][: rng.randint(2, len(thread["comments"]))] if rng.random() < 0.4 else thread["comments"]
        for comment in comments:
            page.add(header.replace("{name}", comment["author"]), "debris", "comments")
            if show_when and comment.get("when"):
                page.add(comment["when"], "debris", "comments")
            elif header == "{name}":
                # A bare name over a paragraph is a panel interview's layout too; a comment
                # under a bare name shows at least its time or a control ("Reply", "12 Likes").
                page.add(comment.get("when") or page.one("comment_meta"), "debris", "comments")
            for text in comment["paragraphs"]:
                page.add(text, "debris", "comments")
            if show_votes and comment.get("votes"):
                page.add(comment["votes"], "debris", "comments")
            if rng.random() < 0.3:
                page.ui_lines("comment_meta", 1, "comments")
        return True

    def markup(self, page: Page, k: int) -> None:
        """Markup or unrendered template placeholders that leaked into the dump."""
        rng = page.rng
        for _ in range(k):
            if rng.random() < 0.5:
                text = rng.choice(self.residue["markup"])
            else:
                wrapper = rng.choice(self.residue["wrappers"])
                fields = rng.sample(self.residue["fields"], rng.randint(1, 4))
                text = " ".join(wrapper.replace("%s", field) for field in fields)
            page.add(text, "debris", "markup")

    def related_list(self, page: Page, article: dict) -> None:
        """Related links as an extractor writes them: list items, headline and lede on one line."""
        rng = page.rng
        if rng.random() < 0.5:
            page.ui_lines("related_heading", 1, "related_list")
        others = [a for a in self.by_lang[article["lang"]] if a["id"] != article["id"]]
        for other in rng.sample(others, min(rng.randint(2, 5), len(others))):
            lede = other.get("teaser") or other.get("standfirst") or ""
            page.add(f"- {other['headline']} {lede if rng.random() < 0.5 else ''}", "debris", "related_list")

    def url(self, page: Page, article: dict) -> str:
        """A bare link, as pages print a share or source URL."""
        slug = "-".join(word.lower() for word in article["headline"].split()[:6] if word.isalnum()) or "story"
        host = "".join(ch for ch in page.site.lower() if ch.isalnum()) or "news"
        return f"https://www.{host}.com/{page.rng.randint(2015, 2026)}/{slug}-{page.rng.randint(10000, 99999)}"

    def long_read(self, rng: random.Random, article: dict) -> dict:
        """The article, or in LONG_FORM_SHARE of documents the article with a second one's body run on after it."""
        lang = article["lang"]
        if rng.random() < LONG_FORM_SHARE and len(self.by_lang[lang]) > 1:
            other = rng.choice([a for a in self.by_lang[lang] if a["id"] != article["id"]])
            return {**article, "body": article["body"] + other["body"]}
        return article

    def widget(self, page: Page) -> None:
        pool = page.ui.get("widget") or []
        if not pool:
            return
        rng = page.rng
        keep = sorted(rng.sample(range(len(pool)), min(len(pool), rng.randint(3, 10))))
        for i in keep:
            page.add(pool[i], "debris", "widget")

    # -- documents ---------------------------------------------------------------------------
    def header(self, page: Page, article: dict) -> None:
        rng = page.rng
        if rng.random() < 0.5:
            page.ui_lines("skip", rng.randint(1, 2))
        if rng.random() < 0.6:
            page.add(page.site, "debris", "brand")
        if rng.random() < 0.04:
            self.markup(page, rng.randint(1, 3))
        if rng.random() < 0.35:
            self.cookie(page)
        for _ in range(rng.choice([1, 1, 1, 2])):
            # Most menus are long; a minimal page dump holds only one to three items.
            page.ui_lines("nav", rng.randint(1, 3) if rng.random() < SHORT_MENU_SHARE else rng.randint(4, 40))
            if rng.random() < 0.6:
                page.ui_lines("account", rng.randint(1, 4))
        if rng.random() < 0.3:
            page.ui_lines("appeal_buttons", rng.randint(1, 2), "top_buttons")
        if rng.random() < 0.15:
            page.ui_lines("app", 1)
        if rng.random() < 0.15:
            page.ui_lines("notices", rng.randint(1, 2))
        if rng.random() < 0.3:
            crumbs = [page.one("nav") for _ in range(rng.randint(2, 4))]
            sep = rng.choice(page.ui.get("breadcrumb_sep") or [" / "])
            page.add(sep.join(crumbs), "debris", "breadcrumb")
        if rng.random() < 0.12:
            self.add_appeal(page, self.appeal(rng, article["lang"], short=True), "top_appeal")
        if rng.random() < 0.35:
            self.related_box(page, article, teasers=rng.random() < 0.5)
        if rng.random() < 0.2:
            page.ui_lines("ads", 1)
        if rng.random() < 0.15:
            page.ui_lines("sidebar", rng.randint(1, 4))

    def cookie(self, page: Page) -> None:
        rng = page.rng
        page.ui_lines("cookie_text", rng.randint(1, 2), "cookie")
        page.ui_lines("cookie_buttons", rng.randint(1, 4), "cookie")

    def article_top(self, page: Page, article: dict, extracted: bool) -> None:
        rng = page.rng
        if not extracted and rng.random() < 0.3:
            page.add(page.one("sections"), "debris", "kicker")
        if not extracted or rng.random() < 0.5:
            page.add(article["headline"], "body", "headline")
        if article.get("standfirst") and (not extracted or rng.random() < 0.3):
            page.add(article["standfirst"], "body", "standfirst")
        if not extracted and rng.random() < 0.3:
            page.ui_lines("share", rng.randint(1, 6), "share")
        for field in ("byline", "date"):
            if article.get(field) and (not extracted or rng.random() < 0.2):
                page.add(article[field], "body", field)
        if rng.random() < (0.05 if extracted else 0.15):
            page.ui_lines("byline_misc", 1)
        if not extracted and rng.random() < 0.35:
            page.ui_lines("meta", rng.randint(1, 2))
        if not extracted and rng.random() < 0.4:
            page.ui_lines("share", rng.randint(2, 8), "share")
        if article.get("captions") and rng.random() < (0.1 if extracted else 0.6):
            page.add(article["captions"][0], "debris", "caption")
            if rng.random() < 0.4:
                page.ui_lines("caption_credits", 1)
        elif rng.random() < (0.1 if extracted else 0.2):
            page.ui_lines("caption", 1)

    def body(self, page: Page, article: dict, extracted: bool, paywalled: bool) -> None:
        rng = page.rng
        items = list(article["body"])
        if paywalled:
            items = items[: rng.randint(1, min(4, len(items)))]
        # Real pages interrupt the article with boxes and carry on after them: one or two
        # gaps get a whole block (an appeal box, a related box), others a single line.
        gaps = list(range(len(items) - 1))
        block_gaps = set(rng.sample(gaps, min(len(gaps), rng.choice([0, 0, 0, 1, 1, 2])))) if gaps else set()
        rate = 0.15 if extracted else 0.6  # real pages: about one interruption per ten paragraphs
        kind = article.get("site_kind")
        for i, text in enumerate(items):
            if extracted and text.startswith(LIST_MARKERS):
                text = "- " + text[2:]
            if extracted and " | " in text and not text.startswith("|"):
                text = "| " + text + " |"
            page.add(text, "body", "body")
            if i == len(items) - 1:
                break
            if kind == "forum" and not extracted and rng.random() < 0.6:
                page.ui_lines("forum", rng.randint(1, 3))
            elif kind == "shop_deal" and not extracted and rng.random() < 0.3:
                page.ui_lines("shop", rng.randint(1, 2))
            if i in block_gaps and (not extracted or rng.random() < 0.2):
                self.mid_block(page, article)
                continue
            roll = rng.random() / rate
            if roll < 0.05:
                page.ui_lines("ads", 1)
            elif roll < 0.09:
                prefix = page.one("read_also_prefix") if "read_also_prefix" in page.ui else ""
                for headline in self.other_headlines(rng, article, rng.choice([1, 1, 2])):
                    page.add(f"{prefix} {headline}" if rng.random() < 0.7 else headline, "debris", "read_also")
            elif roll < 0.12:
                self.add_appeal(page, self.appeal(rng, article["lang"], short=True), "mid_appeal")
            elif roll < 0.14 and len(article.get("captions") or []) > 1:
                page.add(rng.choice(article["captions"][1:]), "debris", "caption")
        if not paywalled:
            # A press release's closing block (About the issuer, media contact, "###") is the same
            # on every release of that issuer: debris, as an author bio is.
            for text in article.get("issuer_boilerplate") or []:
                page.add(text, "debris", "issuer")

    def mid_block(self, page: Page, article: dict) -> None:
        """A box inside the article: an appeal, a newsletter sign-up, related links, or an ad."""
        rng, lang = page.rng, article["lang"]
        choice = rng.random()
        if choice < 0.35:
            if rng.random() < 0.5:
                page.ui_lines("related_heading", 1, "mid_newsletter")
            self.add_appeal(page, self.appeal(rng, lang, kinds=("newsletter",)), "mid_newsletter")
            page.ui_lines("newsletter_form", rng.randint(0, 2), "mid_newsletter")
            page.ui_lines("appeal_buttons", rng.randint(0, 1), "mid_newsletter")
        elif choice < 0.6:
            appeal = self.appeal(rng, lang, short=False, kinds=("donation", "membership", "subscription"))
            self.add_appeal(page, appeal, "mid_appeal_box")
            if appeal and rng.random() < 0.3:
                self.widget(page)
            else:
                page.ui_lines("appeal_buttons", 1, "mid_appeal_box")
        elif choice < 0.85:
            self.related_box(page, article, teasers=rng.random() < 0.5)
        else:
            page.ui_lines("ads", 1, "mid_ad")
            page.ui_lines("share", rng.randint(1, 4), "mid_ad")
            if article.get("captions"):
                page.add(rng.choice(article["captions"]), "debris", "mid_ad")

    def page_doc(self, article: dict, k: int) -> dict:
        doc_id = f"{article['id']}-page{k}"
        rng = random.Random(f"{self.seed}:{doc_id}")
        ui = self.ui[article["lang"]]
        page = Page(rng, ui, rng.choice(ui["site_names"]))
        lang = article["lang"]
        if rng.random() < MINIMAL_PAGE_SHARE:
            return self.minimal_page(page, article, doc_id)
        article = self.long_read(rng, article)
        self.header(page, article)
        self.article_top(page, article, extracted=False)
        paywalled = rng.random() < 0.08
        self.body(page, article, extracted=False, paywalled=paywalled)
        if paywalled:
            self.add_appeal(page, self.appeal(rng, lang, kinds=("paywall", "subscription")), "paywall")
            page.ui_lines("appeal_buttons", rng.randint(1, 2), "paywall")

        def end_appeal() -> None:
            kinds = rng.choice([("donation",), ("membership",), ("subscription",), ("donation", "membership")])
            appeal = self.appeal(rng, lang, short=rng.random() < 0.3, kinds=kinds)
            self.add_appeal(page, appeal, "end_appeal")
            if appeal and appeal["kind"] in ("donation", "membership") and rng.random() < 0.7:
                self.widget(page)
            elif rng.random() < 0.5:
                page.ui_lines("appeal_buttons", 1, "end_appeal")

        def newsletter() -> None:
            self.add_appeal(page, self.appeal(rng, lang, kinds=("newsletter",)), "newsletter")
            page.ui_lines("newsletter_form", rng.randint(0, 2), "newsletter")
            page.ui_lines("appeal_buttons", 1, "newsletter")

        def comments() -> None:
            page.ui_lines("comments", rng.randint(1, 3))
            if not (rng.random() < THREAD_SHARE and self.thread(page, lang)):
                # Single comments, each under its author's line ("jbaxt says:") and a timestamp.
                headers = "commenters" in ui and rng.random() < 0.7
                for _ in range(rng.randint(0, 8)):
                    if headers:
                        page.add(page.one("comment_headers").replace("{name}", page.one("commenters")), "debris", "comments")
                        if rng.random() < 0.5:
                            page.ui_lines("comment_meta", 1, "comments")
                    page.ui_lines("reader_comment", 1, "comments")
                    if rng.random() < 0.4:
                        page.ui_lines("comment_meta" if headers else "comments", 1, "comments")
            if rng.random() < 0.35:
                page.ui_lines("comment_form", rng.randint(1, 5), "comments", ordered=True)

        def tags() -> None:
            prefix = page.one("tags_prefix") if "tags_prefix" in ui else ""
            page.add(prefix + " " + ", ".join(page.one("nav") for _ in range(rng.randint(2, 5))), "debris", "tags")

        # Blocks after the article, each with its chance; their order varies from page to page.
        blocks = [
            (0.15, lambda: page.ui_lines("byline_misc", 1)),
            (0.2, lambda: page.ui_lines("disclaimer", 1)),
            (0.25, lambda: page.ui_lines("author_bio", 1)),
            (0.3, tags),
            (0.4, lambda: page.ui_lines("share", rng.randint(1, 6), "share")),
            (0.5, end_appeal),
            (0.3, lambda: page.ui_lines("follow", rng.randint(1, 2))),
            (0.7, lambda: self.related_box(page, article, teasers=True)),
            (0.3, lambda: page.ui_lines("ads", 1)),
            (0.45, comments),
            (0.4, newsletter),
            (0.4, lambda: self.related_box(page, article, teasers=False)),
            (0.2, lambda: page.ui_lines("sidebar", rng.randint(1, 5))),
            (0.2, lambda: page.ui_lines("app", rng.randint(1, 2))),
            (0.1, lambda: self.related_list(page, article)),
            (0.05, lambda: page.add(self.url(page, article), "debris", "url")),
            (0.1, lambda: page.ui_lines("notices", rng.randint(1, 2))),
        ]
        chosen = [action for chance, action in blocks if rng.random() < chance]
        head = chosen[:3]
        tail = chosen[3:]
        rng.shuffle(tail)
        for action in head + tail:
            action()
        if rng.random() < 0.25:
            self.cookie(page)
        if rng.random() < 0.08:
            self.markup(page, rng.randint(1, 10))
        if rng.random() < 0.3:
            page.ui_lines("nav", rng.randint(5, 25), "footer_nav")
        if rng.random() < 0.3:
            page.ui_lines("company_about", 1, "footer")
        page.ui_lines("footer", rng.randint(2, 18))
        return self.finish(doc_id, article, "page", page)

    def minimal_page(self, page: Page, article: dict, doc_id: str) -> dict:
        """A bare page (a mobile or text-only view): the short menu stands right above the headline."""
        rng = page.rng
        if rng.random() < 0.3:
            page.add(page.site, "debris", "brand")
        page.ui_lines("nav", rng.randint(1, 4))
        page.add(article["headline"], "body", "headline")
        for field in ("standfirst", "byline", "date"):
            if article.get(field) and rng.random() < 0.5:
                page.add(article[field], "body", field)
        self.body(page, article, extracted=False, paywalled=False)
        for category, chance in (("ads", 0.3), ("share", 0.3), ("appeal_buttons", 0.2), ("footer", 0.4)):
            if rng.random() < chance:
                page.ui_lines(category, rng.randint(1, 2))
        return self.finish(doc_id, article, "page", page)

    def extracted_doc(self, article: dict, k: int) -> dict:
        doc_id = f"{article['id']}-extracted{k}"
        rng = random.Random(f"{self.seed}:{doc_id}")
        ui = self.ui[article["lang"]]
        # Drawn from its own generator, so that no other draw of the document moves.
        listed = random.Random(f"{self.seed}:{doc_id}:marker").random() < EXTRACTED_LIST_MARKER_SHARE
        page = Page(rng, ui, rng.choice(ui["site_names"]), marker="- " if listed else "")
        lang = article["lang"]
        article = self.long_read(rng, article)
        # Most extractor outputs are clean already; where residue is left, it is a few lines.
        residue = rng.random() < EXTRACTED_RESIDUE_SHARE
        self.article_top(page, article, extracted=True)
        self.body(page, article, extracted=True, paywalled=residue and rng.random() < 0.05)
        if residue:
            for roll, action in (
                (0.2, lambda: page.ui_lines("share", rng.randint(1, 3), "share")),
                (0.3, lambda: self.add_appeal(page, self.appeal(rng, lang, short=rng.random() < 0.5), "end_appeal")),
                (0.2, lambda: self.add_appeal(page, self.appeal(rng, lang, kinds=("newsletter",)), "newsletter")),
                (0.15, lambda: page.ui_lines("follow", 1)),
                (0.15, lambda: self.related_box(page, article, teasers=False)),
                (0.1, lambda: page.add(page.one("tags_prefix") + " " + page.one("nav"), "debris", "tags")),
                (0.1, lambda: page.ui_lines("comments", 1)),
                (0.05, lambda: page.ui_lines("footer", 1)),
                (0.1, lambda: page.ui_lines("author_bio", 1)),
                (0.1, lambda: page.ui_lines("disclaimer", 1)),
                (0.1, lambda: page.ui_lines("byline_misc", 1)),
                (0.05, lambda: page.ui_lines("company_about", 1)),
                (0.05, lambda: page.ui_lines("reader_comment", rng.randint(1, 3))),
                (0.15, lambda: self.related_list(page, article)),
                (0.1, lambda: page.ui_lines("meta", 1)),
                (0.05, lambda: page.add(self.url(page, article), "debris", "url")),
            ):
                if rng.random() < roll * EXTRACTED_RESIDUE_RATE:
                    action()
        return self.finish(doc_id, article, "extracted", page)

    def finish(self, doc_id: str, article: dict, scenario: str, page: Page) -> dict:
        # The skeleton of a page: its blocks of furniture and text, in order, with their sizes.
        skeleton = hashlib.sha256(json.dumps(page.blocks).encode()).hexdigest()[:12] if scenario == "page" else None
        return {
            "doc_id": doc_id,
            "lang": article["lang"],
            "site_kind": article["site_kind"],
            "scenario": scenario,
            "skeleton": skeleton,
            "article_id": article["id"],
            "appeal_ids": page.appeal_ids,
            "thread_ids": page.thread_ids,
            "paragraphs": page.paragraphs,
        }

    def documents(self) -> Iterator[dict]:
        for article in self.articles:
            for k in range(PAGE_DOCS_PER_ARTICLE):
                yield self.page_doc(article, k)
            for k in range(EXTRACTED_DOCS_PER_ARTICLE):
                yield self.extracted_doc(article, k)


def load_parts() -> tuple[list[dict], list[dict], list[dict], dict[str, dict], dict]:
    articles = [a for a in read_jsonl("articles/*/*.jsonl") if a.get("body")]
    appeals = [a for a in read_jsonl("appeals/*.jsonl") if a.get("paragraphs")]
    threads = [t for t in read_jsonl("comments/*.jsonl") if t.get("comments")]
    residue = json.loads((PARTS / "residue.json").read_text(encoding="utf-8"))
    ui = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(PARTS.glob("ui/*.json"))}
    for path in sorted(PARTS.glob("ui_extra/*.json")):
        if path.stem in ui:
            for category, items in json.loads(path.read_text(encoding="utf-8")).items():
                ui[path.stem][category] = ui[path.stem].get(category, []) + items
    articles = [a for a in articles if a["lang"] in ui]
    return articles, appeals, threads, ui, residue


def compose(seed: int = 13) -> dict[str, list[dict]]:
    articles, appeals, threads, ui, residue = load_parts()
    out = {}
    for split in SPLITS:
        composer = Composer(
            split,
            [a for a in articles if split_of(a["id"]) == split],
            [a for a in appeals if split_of(a["id"]) == split],
            [t for t in threads if split_of(t["id"]) == split],
            ui,
            residue,
            seed,
        )
        out[split] = list(composer.documents())
    return out


def write(out: dict[str, list[dict]], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for split, docs in out.items():
        path = directory / f"{split}.jsonl.gz"
        # mtime=0 and no file name in the header: the same documents give the same bytes
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            for doc in docs:
                gz.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / "data")
    args = parser.parse_args()
    out = compose(args.seed)
    write(out, args.out)
    for split, docs in out.items():
        labels = Counter(p["label"] for d in docs for p in d["paragraphs"])
        print(f"{split}: {len(docs)} documents, {sum(labels.values())} paragraphs, {dict(labels)}")


if __name__ == "__main__":
    main()
