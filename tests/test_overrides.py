"""Korean values on the command line: what each spelling becomes, and what Hydra then reads."""

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from neka.cli.overrides import parses, quote_arguments, quote_override

PARSER = OverridesParser.create()


@pytest.mark.parametrize("typed, value", [
    ("data.label_column=학점", "학점"),
    ("data.text_columns=[제목,본문]", ["제목", "본문"]),
    ("data.text_columns=[제목, 본문 ]", ["제목", "본문"]),
    ("data.drop_columns=[나이]", ["나이"]),
    ("data.drop_columns=[나이,id]", ["나이", "id"]),
    ("data.label_column=점수_2", "점수_2"),
    ("data.label_column=최종 학점", "최종 학점"),
    ("data.path=성적.csv", "성적.csv"),
    ("data.path=C:\\Users\\홍길동\\성적.csv", "C:\\Users\\홍길동\\성적.csv"),
    ("+data.label_column=학점", "학점"),
    ("data.text_columns=[제목,'본 문']", ["제목", "본 문"]),
    ("hydra.run.dir=결과_${now:%H}", "결과_${now:%H}"),  # still an interpolation, inside the quotes
])
def test_korean_values_read_as_typed(typed, value):
    assert not parses(typed)  # what Hydra alone stops on
    assert PARSER.parse_override(quote_override(typed)).value() == value


def test_a_korean_sweep_sweeps_each_value():
    override = PARSER.parse_override(quote_override("data.label_column=학점,등급"))
    assert override.is_sweep_override()
    assert list(override.sweep_string_iterator()) == ["'학점'", "'등급'"]
    chosen = PARSER.parse_override(quote_override("data.label_column=choice(학점,등급)"))
    assert list(chosen.sweep_string_iterator()) == ["학점", "등급"]


@pytest.mark.parametrize("typed", [
    "data.label_column=label", "optimizer.lr=1e-5,3e-5", "data.drop_columns=[age]", "data.label_column='학점'",
    "data.drop_columns=['나이']", "data.label_column=${oc.env:학점}", "data.label_column= 'a b'",
    "trainer.max_epochs=3",
])
def test_what_parses_today_is_left_as_typed(typed):
    assert quote_override(typed) == typed


@pytest.mark.parametrize("typed", [
    "data.label_column=학점]",     # not a value, quoted or not
    "data.label_column={가:1}",    # a dict key cannot be quoted
    "data.label_column=학\\,점",   # an escape means something else inside quotes
    "데이터=1",                    # keys are ASCII
])
def test_what_still_does_not_parse_stays_as_typed_for_the_error(typed):
    assert quote_override(typed) == typed


def test_only_overrides_are_rewritten():
    arguments = ["-m", "--config-dir", "설정", "data.label_column=학점", "--cfg", "job", "data=table"]
    assert quote_arguments(arguments) == ["-m", "--config-dir", "설정", "data.label_column='학점'", "--cfg", "job",
                                          "data=table"]
