"""The dashboard's trend chart: bars in proportion, on a round axis, with every value as text."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.web.charts import HEIGHT, nice_top, trend_chart

MONTHS = ["Dec", "Jan", "Feb"]


def test_bars_are_grouped_by_month_in_proportion_to_their_values():
    chart = trend_chart(MONTHS, {"Filming": [2, 4, 0], "Recording": [1, 0, 3]})
    assert [b.value for b in chart.bars] == [2, 1, 4, 0, 0, 3]
    tallest = max(chart.bars, key=lambda b: b.value)
    assert tallest.y + tallest.height == chart.baseline
    two = chart.bars[0]
    assert two.height == pytest.approx(tallest.height / 2)
    assert chart.bars[4].height == 0
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert chart.bars[1].label == "Dec, Recording: 1"
    assert chart.series == [("Filming", "solid"), ("Recording", "hatched")]
    assert chart.rows == [("Dec", [2, 1]), ("Jan", [4, 0]), ("Feb", [0, 3])]
    assert chart.total == 10


def test_an_empty_year_still_draws_an_axis():
    chart = trend_chart(MONTHS, {"Filming": [0, 0, 0]})
    assert [g.value for g in chart.gridlines] == [0, 1]
    assert all(b.height == 0 for b in chart.bars)


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 months"):
        trend_chart(MONTHS, {"Filming": [1, 2]})


@given(st.integers(min_value=0, max_value=10**6))
def test_the_axis_top_is_round_and_covers_the_largest_value(largest):
    top, step = nice_top(largest)
    assert top >= largest
    assert top % step == 0
    assert 1 <= top // step <= 5


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=12, max_size=12))
def test_every_bar_fits_inside_the_plot(values):
    chart = trend_chart([str(i) for i in range(12)], {"Filming": values})
    for bar in chart.bars:
        assert 0 <= bar.y <= chart.baseline <= HEIGHT
        assert bar.y + bar.height == pytest.approx(chart.baseline)
        assert chart.left <= bar.x < bar.x + bar.width <= chart.right
