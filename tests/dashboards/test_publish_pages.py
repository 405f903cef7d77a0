"""The published pages are computed from the data tables when they are written: edit a table, publish
again, and the page says something else (no browser: the HTML is read directly)."""

import math
import re
import shutil

from dashboards import publish
from somana_core import story
from somana_core.data import data_dir


def _figure(html_text: str, name: str) -> str:
    return re.search(rf"data-figure='{name}'>([^<]*)<", html_text).group(1)


def test_index_break_even_follows_the_factory_assumptions(tmp_path, monkeypatch):
    chapters = publish._chapters()
    before = _figure(publish.index_page([], chapters, 0), "break_even_units")
    assert before == f"{math.ceil(story.break_even_story(1.0, 0.0)['break_even_units_per_month']):,d}"
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    table = copy / "factory_assumptions.csv"
    table.write_text(table.read_text().replace("rent_per_month,,2500,", "rent_per_month,,5000,"))
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    after = _figure(publish.index_page([], chapters, 0), "break_even_units")
    assert int(after.replace(",", "")) > int(before.replace(",", ""))


def test_order_flow_without_a_measurement_says_how_to_make_one():
    page = publish.order_flow_page([], None, "missing.json")
    assert "benchmarks/pipeline.py" in page and "data-figure='no-results'" in page


def test_gallery_variants_come_from_the_table_for_existing_families():
    from somana_core.geometry import FAMILIES

    variants = publish.gallery_variants()
    from somana_core.economics import founder_assumptions

    # every portfolio family is shown; a family the table does not list (board_enclosure needs a board file) is not
    assert set(founder_assumptions().families) <= {v["family"] for v in variants} <= set(FAMILIES)
    assert all(isinstance(v["settings"], dict) for v in variants)


def test_the_command_refuses_a_file_as_folder_and_a_missing_results_file(tmp_path):
    import subprocess
    import sys

    a_file = tmp_path / "site"
    a_file.write_text("")
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(a_file)], capture_output=True, text=True)
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(tmp_path / "out"), "--pipeline-results",
                           str(tmp_path / "none.json")], capture_output=True, text=True)
    assert done.returncode == 2 and "no such file" in done.stderr and not (tmp_path / "out").exists()


def test_site_and_portfolio_show_the_same_whole_dollars():
    from dashboards.components.portfolio_explorer import _money

    for x in (7731.5, 10819.431, -1234.5, 123456.5):
        assert publish._usd(x).replace(" USD", "") == _money(x).replace("$", "")
    explorer_income = story.scenario().summary()["operating_income_per_month_usd"]
    site = _figure(publish.index_page([], [], 0), "operating_income")
    assert site == publish._usd(explorer_income) == f"{int(_money(explorer_income)[1:].replace(',', '')):,d} USD"


def test_gallery_prices_are_the_configurators_and_the_margins_page_prices_the_same_frame():
    """The gallery card, /configure's quote table and the Margins page: one function, one price."""
    import re

    from dashboards.configure import _quote_table
    from somana_core import geometry, quote

    item = next(v for v in publish.gallery_variants() if v["family"] == "eyewear_frame" and not v["settings"])
    card, _ = publish._gallery_card(0, item)
    spec = geometry.make_spec("eyewear_frame", {})
    q = quote.quote_product(geometry.build(spec), "eyewear_frame", material="PLA", machine=spec.machine)
    shown = q.customer_view()["unit_price"]
    assert re.search(r"data-unit-price='([^']*)'", card).group(1) == str(shown)
    assert f"{shown:,.2f} USD" in card and f"{shown:,.2f}" in _quote_table(q, 1, "PLA")
    assert "cost" not in _quote_table(q, 1, "PLA").lower() and "band" not in _quote_table(q, 1, "PLA")
    margins = story.margins(1.0).set_index("family")
    assert margins.loc["eyewear_frame", "price_usd"] == shown  # a market price: the same for the default frame


def test_margins_page_names_contribution_and_operating_margin_at_the_policy_price():
    chapter = publish._chapters()[0]
    page = chapter.figures(1.0)
    row = story.margins(1.0).set_index("family").loc["eyewear_frame"]
    assert row["price_usd"] == 300.0  # market band: 175 + 0.2 x (800 - 175), above cost + 30%
    assert _figure(page, "margin_eyewear_frame") == (f"{row['contribution_margin']:.0%} / "
                                                     f"{row['operating_margin_at_plan']:.0%}")
    assert "at 300.00 USD: contribution / operating margin" in page and "gross margin" not in page
