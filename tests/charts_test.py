"""Server-drawn charts: the geometry (app/services/charts.py) and the figure it renders."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from decimal import Decimal

import pytest
from flask import render_template_string

from app.services import charts


@pytest.mark.parametrize("largest, top", [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (21, 25), (2400, 2500),
                                          (Decimal("0.3"), Decimal("0.5")), (99999, 100000)])
def test_nice_top_is_the_next_round_number(largest, top):
    assert charts.nice_top(Decimal(largest)) == Decimal(top)


def test_columns_scale_to_the_largest_value_and_keep_row_order():
    chart = charts.columns("Revenue", [("Jan", Decimal("100")), ("Feb", Decimal("250.50")), ("Mar", 0)],
                           label_header="Month", value_header="Revenue", money=True)
    jan, feb, mar = chart.bars
    assert [b.label for b in chart.bars] == ["Jan", "Feb", "Mar"]
    plot = chart.plot_bottom - chart.plot_top
    assert feb.height == pytest.approx(plot * 250.5 / 500, abs=0.1)      # top of the scale: 500
    assert jan.height == pytest.approx(plot * 100 / 500, abs=0.1) and mar.height == 0
    assert feb.y + feb.height == pytest.approx(chart.plot_bottom, abs=0.1)
    assert jan.x < feb.x < mar.x
    assert feb.display == "$250.50" and chart.total_display == "$350.50"
    assert chart.ticks[0].display == "$0" and chart.ticks[-1].display == "$500"
    assert "highest Feb ($250.50)" in chart.summary and "lowest Mar ($0.00)" in chart.summary


def test_negative_values_draw_nothing_but_stay_in_the_table():
    chart = charts.columns("Net", [("A", -5), ("B", 10)], label_header="x", value_header="y")
    assert chart.bars[0].height == 0 and chart.table_rows[0][1] == "-5"


def test_empty_chart_says_so():
    chart = charts.columns("Revenue", [], label_header="Month", value_header="Revenue")
    assert chart.empty and chart.summary == "Revenue: nothing to show."
    assert charts.columns("R", [("Jan", 0)], label_header="m", value_header="v").empty


def test_percent_bars_run_to_one_hundred():
    chart = charts.bars("Utilisation", [("Ann", 50), ("Bob", 120)], label_header="Instructor",
                        value_header="Utilisation", percent=True)
    ann, bob = chart.bars
    assert bob.width == pytest.approx(2.4 * ann.width, abs=0.2)       # scale top 250 > 120
    assert ann.display == "50 %" and chart.total_display == ""


def test_stacked_segments_add_up_to_the_column():
    chart = charts.stacked("Cancellations", ["North", "South"], [("Cancelled", [3, 1]), ("No-show", [1, 0])],
                           label_header="Branch", value_header="Total")
    north = chart.bars[0]
    assert [s.value for s in north.segments] == [3, 1] and north.display == "4"
    assert sum(s.height for s in north.segments) == pytest.approx(north.height, abs=0.2)
    assert chart.table_rows[0] == ("North", "3", "1", "4", None)
    with pytest.raises(ValueError):
        charts.stacked("x", ["a"], [(str(i), [1]) for i in range(7)], label_header="a", value_header="b")


def test_label_step_keeps_at_most_twelve_labels():
    chart = charts.columns("x", [(str(i), i) for i in range(24)], label_header="a", value_header="b")
    assert chart.label_step == 2


def test_figure_has_an_accessible_name_a_table_and_links(app):
    chart = charts.columns("Lessons", [("Mon", 3, "/schedules/?day=mon"), ("Tue", 5, None)],
                           label_header="Day", value_header="Lessons")
    with app.test_request_context():
        html = render_template_string("{% from '_macros/charts.html' import chart %}{{ chart(c, 'week') }}", c=chart)
    assert '<p class="visually-hidden" id="week-name">Lessons: 2 entries' in html
    assert 'aria-hidden="true"' in html and 'role="img"' not in html
    assert html.count("<rect") == 2 and '<a href="/schedules/?day=mon" tabindex="-1">' in html
    assert "<table" in html and '<th scope="row" data-label="Day"><a href="/schedules/?day=mon">Mon</a>' in html
    assert "Total</th>" in html and ">8</td>" in html
    assert "style=" not in html
