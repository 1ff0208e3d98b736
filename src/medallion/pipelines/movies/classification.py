"""The review classification rule: is the exact token ``good`` left after tokenising and stop-word removal?

The rule, step by step (each step a Spark expression, so it runs the same in batch and in stream mode):

1. ``<br />`` line-break tags (any case, with or without the space and slash) are replaced by a space.
   The reviews come from HTML pages, where ``<br />`` is a line break; left in place it would glue the
   word before it into a token (``good<br``) and hide it. Set ``strip_br_tags: false`` in the pipeline's
   settings to tokenise the raw text instead. Other ``<...>`` text is left alone: only the break tag is
   markup in the vendor's files.
2. The text is lower-cased and split on runs of whitespace (Unicode whitespace, as Python's
   ``str.split()`` does); empty tokens are discarded.
3. The standard English stop words are removed: the list of Spark ML's ``StopWordsRemover`` (shipped as
   package data, so no JVM call or network is needed; a test checks it equals Spark's list).
4. ``positive_review`` is 1 when the exact token ``good`` remains, else 0. Punctuation stays part of a
   token, so ``good.`` and ``good,`` are not ``good``; nor are ``goodness`` or ``goodbye``.

Golden examples: "a good movie" → 1; "Good" → 1; "not good." → 0; "goodness" → 0; "good<br />" → 1.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pyspark.sql import Column
from pyspark.sql import functions as F

POSITIVE_TOKEN = "good"
BR_TAG = r"(?i)<br\s*/?>"
WHITESPACE = r"(?U)\s+"


@lru_cache(maxsize=1)
def english_stop_words() -> tuple[str, ...]:
    """Spark ML's English stop-word list (``StopWordsRemover.loadDefaultStopWords("english")``)."""
    text = (resources.files("medallion.pipelines.movies") / "data" / "stop_words_english.txt").read_text("utf-8")
    return tuple(word for word in text.splitlines() if word)


def review_tokens(text: Column, strip_br_tags: bool = True) -> Column:
    """Lower-cased whitespace tokens of a review, without stop words (steps 1-3)."""
    if strip_br_tags:
        text = F.regexp_replace(text, BR_TAG, " ")
    tokens = F.split(F.lower(text), WHITESPACE)
    stop_words = F.array(*[F.lit(word) for word in english_stop_words()])
    return F.filter(tokens, lambda token: (token != "") & ~F.array_contains(stop_words, token))


def positive_review(text: Column, strip_br_tags: bool = True) -> Column:
    """1 when the exact token ``good`` remains in the review's tokens, else 0 (an INT, as the spec says)."""
    return F.array_contains(review_tokens(text, strip_br_tags), POSITIVE_TOKEN).cast("int")
