"""The review classification rule: exact token ``good`` after lower-casing, whitespace split, stop words."""

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from medallion.pipelines.movies.classification import english_stop_words, positive_review, review_tokens

GOLDEN = [
    ("a good movie", 1),
    ("Good", 1),
    ("not good.", 0),
    ("goodness", 0),
]
BR_TAGS = [
    ("good<br />", 1),
    ("It was good<br /><br />The end.", 1),
    ("so GOOD<BR/>really", 1),
    ("good<br>", 1),
    ("<br />good", 1),
    ("not good.<br /><br />", 0),
    ("goodness<br />", 0),
]
LOOKALIKES = [
    ("good, but long", 0),
    ('"good"', 0),
    ("(good)", 0),
    ("Goodbye", 0),
    ("so-good", 0),
    ("Was it good? No.", 0),
    ("", 0),
    ("   ", 0),
]
WHITESPACE = [
    ("really\tgood\nfilm", 1),
    ("  good  ", 1),
    ("a\u00a0good\u2003movie", 1),  # non-breaking and em spaces are whitespace too
]


def classify(spark, texts, strip_br_tags=True):
    frame = spark.createDataFrame([(t,) for t in texts], "review_str STRING")
    return [row[0] for row in frame.select(positive_review(F.col("review_str"), strip_br_tags)).collect()]


@pytest.mark.parametrize(
    "examples", [GOLDEN, BR_TAGS, LOOKALIKES, WHITESPACE], ids=["golden", "br_tags", "lookalikes", "whitespace"]
)
def test_positive_review_examples(spark, examples):
    texts = [text for text, _ in examples]
    assert classify(spark, texts) == [expected for _, expected in examples]


def test_positive_review_is_an_int_column_and_null_for_null_text(spark):
    frame = spark.createDataFrame([("a good movie",), (None,)], "review_str STRING")
    result = frame.select(positive_review(F.col("review_str")).alias("positive_review"))
    expected = spark.createDataFrame([(1,), (None,)], "positive_review INT")
    assert_df_equality(result, expected, ignore_nullable=True)


def test_without_tag_stripping_the_tag_glues_to_the_word(spark):
    assert classify(spark, ["good<br />", "a good<br />movie", "good <br />"], strip_br_tags=False) == [0, 0, 1]


def test_tokens_are_lower_cased_without_stop_words_and_keep_punctuation(spark):
    frame = spark.createDataFrame([("This is NOT a Good<br />movie, is it?",)], "review_str STRING")
    tokens = frame.select(review_tokens(F.col("review_str")).alias("tokens")).first()["tokens"]
    assert tokens == ["good", "movie,", "it?"]  # "it?" is not the stop word "it"


def test_stop_words_are_spark_ml_english_list(spark):
    spark_list = list(spark._jvm.org.apache.spark.ml.feature.StopWordsRemover.loadDefaultStopWords("english"))
    assert list(english_stop_words()) == spark_list
    assert "good" not in spark_list and "not" in spark_list
