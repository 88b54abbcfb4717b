"""Data-set parsers (on small fixtures we wrote) and metrics."""

from pathlib import Path

import pytest

from emoethics.errors import InputError
from emoethics.evals.datasets import load_examples
from emoethics.evals.emotions import evaluate, profile_intensity, profile_labels, sample
from emoethics.evals.metrics import multilabel_scores, pearson, spearman

from fakes import ScriptedAnalyzer

HEAD_EC = "ID\tTweet\tanger\tanticipation\tdisgust\tfear\tjoy\tlove\toptimism\tpessimism\tsadness\tsurprise\ttrust"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_xed_both_layouts(tmp_path):
    ann = write(tmp_path, "en.tsv", "I hate you\t1, 3\nYay!\t5\n")
    neu = write(tmp_path, "neu.txt", "9\tOne moment please.\n")
    a = load_examples(ann, "xed")
    assert [(e.text, set(e.labels)) for e in a] == [("I hate you", {"anger", "disgust"}), ("Yay!", {"joy"})]
    assert load_examples(neu, "xed")[0].labels == frozenset()
    with pytest.raises(InputError, match="unknown XED label"):
        load_examples(write(tmp_path, "bad.tsv", "text\t12\n"), "xed")


def test_goemotions_mapping(tmp_path):
    write(tmp_path, "labels.txt", "admiration\namusement\nanger\nneutral\nlove\n")
    data = write(tmp_path, "dev.tsv", "great job\t0,1\tid1\nmeh\t3\tid2\nI love it\t4\tid3\n")
    ex = load_examples(data, "goemotions")
    # love is Plutchik's dyad of joy and trust
    assert [set(e.labels) for e in ex] == [{"trust", "joy"}, set(), {"joy", "trust"}]


def test_semeval_ec_and_ei(tmp_path):
    ec = write(tmp_path, "ec.txt", HEAD_EC + "\n2018-1\tSo angry #rage\t1\t0\t1\t0\t0\t1\t0\t0\t0\t0\t0\n")
    assert load_examples(ec, "semeval-ec")[0].labels == frozenset({"anger", "disgust"})
    ei = write(
        tmp_path, "ei.txt", "ID\tTweet\tAffect Dimension\tIntensity Score\n2018-1\tI am terrified\tfear\t0.875\n"
    )
    assert load_examples(ei, "semeval-ei")[0].intensity == {"fear": 0.875}
    with pytest.raises(InputError, match="header lacks"):
        load_examples(write(tmp_path, "x.txt", "ID\tTweet\n1\thi\n"), "semeval-ec")
    with pytest.raises(InputError, match="not a Plutchik emotion"):
        load_examples(
            write(tmp_path, "y.txt", "ID\tTweet\tAffect Dimension\tIntensity Score\n1\thi\tlove\t0.5\n"), "semeval-ei"
        )


def test_generic_jsonl_and_csv_with_column_map(tmp_path):
    j = write(tmp_path, "a.jsonl", '{"body": "wow", "emo": ["surprise", "Joy"]}\n')
    assert load_examples(j, "jsonl", columns={"text": "body", "labels": "emo"})[0].labels == frozenset(
        {"surprise", "joy"}
    )
    c = write(tmp_path, "a.csv", "text,anger,fear\nugh,0.8,0.1\n")
    ex = load_examples(c, "csv")[0]
    assert ex.labels == frozenset({"anger"}) and ex.intensity == {"anger": 0.8, "fear": 0.1}


def test_metrics_by_hand():
    gold = [frozenset({"joy"}), frozenset({"anger", "fear"}), frozenset()]
    pred = [frozenset({"joy"}), frozenset({"anger"}), frozenset({"fear"})]
    s = multilabel_scores(gold, pred, ["anger", "fear", "joy"])
    assert s["per_label"]["joy"]["f1"] == 1.0 and s["per_label"]["anger"]["f1"] == 1.0
    assert s["per_label"]["fear"]["f1"] == 0.0
    assert s["macro_f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["micro_f1"] == pytest.approx(2 * 0.6667 * 0.6667 / 1.3333, abs=1e-3)  # p=r=2/3
    assert s["jaccard"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [1, 4, 9, 100]) == pytest.approx(1.0)
    assert spearman([1, 1, 2], [3, 3, 1]) == pytest.approx(-1.0)
    assert pearson([1, 1], [2, 3]) == 0.0


def test_evaluate_with_scripted_analyzer(tmp_path):
    ec = write(
        tmp_path,
        "ec.txt",
        HEAD_EC + "\n1\tgrr\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n2\tyay\t0\t0\t0\t0\t1\t0\t0\t0\t0\t0\t0\n",
    )
    analyzer = ScriptedAnalyzer({"grr": {"fear-anger": "anger"}, "yay": {"sadness-joy": "sadness"}})
    r = evaluate(analyzer, load_examples(ec, "semeval-ec"))
    c = r["classification"]
    assert c["per_label"]["anger"]["f1"] == 1.0 and c["per_label"]["joy"]["f1"] == 0.0
    assert profile_labels(analyzer.analyze("yay")) == frozenset({"sadness"})
    ei = write(
        tmp_path,
        "ei.txt",
        "ID\tTweet\tAffect Dimension\tIntensity Score\n1\tgrr\tanger\t0.9\n2\tmeh\tanger\t0.1\n3\tyay\tjoy\t0.5\n",
    )
    r = evaluate(analyzer, load_examples(ei, "semeval-ei"))
    assert r["intensity"]["anger"]["pearson"] == pytest.approx(1.0)


def test_intensity_is_the_emotions_own_score_where_the_analyser_gives_one():
    """Anger rated 0.9 in a text that also carries more fear: the spectrum leans to fear (no
    anger at all), the per-emotion score still says how angry it is."""
    profile = ScriptedAnalyzer({"x": {"fear-anger": "fear"}}).analyze("x")
    assert profile_intensity(profile, "anger") == 0.0
    scored = profile.model_copy(update={"emotions": {"anger": 0.7, "fear": 0.8}})
    assert profile_intensity(scored, "anger") == 0.7
    assert profile_intensity(scored, "joy") == max(0.0, scored.reading("sadness-joy").intensity)
    graded = scored.model_copy(update={"intensities": {"anger": 0.4, "fear": 0.9}})
    assert profile_intensity(graded, "anger") == 0.4  # the intensity before the probability


def test_labels_are_the_analysers_own_where_it_lists_them():
    """Anger and fear both present: one reading can lean only one way, the list keeps both."""
    profile = ScriptedAnalyzer({"x": {"fear-anger": "anger"}}).analyze("x")
    assert profile_labels(profile) == frozenset({"anger"})
    listed = profile.model_copy(update={"present": ["anger", "fear"]})
    assert profile_labels(listed) == frozenset({"anger", "fear"})


def test_goodnewseveryone_dominant_and_other_emotions_fold_onto_plutchik(tmp_path):
    head = "id\theadline\tdominant_emotion\tintensity\tother_emotions\treader_emotions"
    rows = [
        "a\tCity wins the cup\tpride\tmedium\tpositive_surprise\tjoy",
        "b\tMinister admits the lie\tshame\tmedium\tannoyance\tannoyance",
        "c\tRates stay the same\tnegative_anticipation_including_pessimism\tmedium\t"
        "no_other_additional_emotions_are_expressed\tno_i_did_not_feel_any_emotion",
    ]
    ex = load_examples(write(tmp_path, "gne.tsv", "\n".join([head, *rows]) + "\n"), "gne")
    assert [e.labels for e in ex] == [
        frozenset({"joy", "surprise"}),
        frozenset({"fear", "disgust", "anger"}),
        frozenset({"anticipation"}),
    ]
    with pytest.raises(InputError, match="GoodNewsEveryone header"):
        load_examples(write(tmp_path, "bad.tsv", "id\ttitle\n1\tx\n"), "gne")


def test_sample_is_seeded_and_ordered():
    xs = list(range(100))
    assert sample(xs, 10, 1) == sample(xs, 10, 1) == sorted(sample(xs, 10, 1))
    assert sample(xs, 10, 1) != sample(xs, 10, 2)
