"""`medallion report` opened in a real headless Chromium: what a person would see."""

import re

from medallion.cli import main
from medallion.read.report.charts import PALETTE
from tests.browser import count_colours, dump_dom, screenshot
from tests.integration.analysts.conftest import write_gold


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def test_the_report_shows_every_gold_table_with_its_chart_in_a_browser(gold_root, tmp_path, capsys):
    page = tmp_path / "reports" / "index.html"
    assert main(["report", "--root", str(gold_root), "--out", str(page)]) == 0
    assert f"report: {page}" in capsys.readouterr().out

    dom = dump_dom(page)
    assert re.findall(r'<article id="([\w-]+)"', dom) == ["fitness-gym_summary", "fitness-workout_bpm_summary"]
    assert re.findall(r"<figcaption>([^<]+)</figcaption>", dom) == [
        "Minutes in gym and minutes exercising per day (total)",
        "Heart rate (bpm) by age: lowest to highest, mean marked",
    ]
    assert dom.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 2
    kpis = re.findall(r'<span class="value">([^<]+)</span><span class="label">([^<]+)</span>', dom)
    assert ("6", "rows") in kpis and ("429", "total minutes in gym") in kpis
    assert ("8", "rows") in kpis and ("63.5", "mean average heart rate (bpm)") in kpis
    assert "12470</td>" in dom  # identifiers stay as written, not 12,470
    assert "<script" not in dom and "http://" not in dom.replace('xmlns="http://www.w3.org/2000/svg"', "")

    shot = screenshot(page, tmp_path / "report.png")
    seen = count_colours(
        shot, {"bars": hex_rgb(PALETTE[0]), "second series": hex_rgb(PALETTE[1]), "ranges": hex_rgb("#bfdbfe")}
    )
    assert seen["bars"] > 2000 and seen["second series"] > 1000 and seen["ranges"] > 2000, f"charts not drawn: {seen}"


def test_the_same_data_gives_the_same_page(gold_root, tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    main(["report", "--root", str(gold_root), "--out", str(first)])
    main(["report", "--root", str(gold_root), "--out", str(second)])
    assert first.read_bytes() == second.read_bytes()


def test_a_gold_table_not_written_yet_says_how_to_get_it(tmp_path):
    root = write_gold(tmp_path / "lake", tables=("gym_summary",))
    page = tmp_path / "index.html"
    main(["report", "--root", str(root), "--out", str(page)])
    html = page.read_text()
    assert 'id="fitness-workout_bpm_summary"' in html
    assert "Not written yet: run <code>medallion run fitness</code>." in html
    assert html.count("<svg") == 1


def test_an_empty_lakehouse_is_an_error_not_an_empty_page(tmp_path, capsys):
    assert main(["report", "--root", str(tmp_path / "empty"), "--out", str(tmp_path / "x.html")]) == 1  # missing data
    assert "No gold table has been written under" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_an_empty_gold_table_says_so_instead_of_an_empty_grid(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    from tests.integration.analysts.conftest import WORKOUT_BPM_SUMMARY

    root = write_gold(tmp_path / "lake", tables=("gym_summary",))
    write_deltalake(f"{root}/fitness/gold/workout_bpm_summary", pa.Table.from_pylist([], schema=WORKOUT_BPM_SUMMARY))
    page = tmp_path / "index.html"
    main(["report", "--root", str(root), "--out", str(page)])
    empty = page.read_text().split('id="fitness-workout_bpm_summary"')[1]
    assert "No rows yet: the table exists and is empty." in empty
    assert "<svg" not in empty and "<table>" not in empty and "mean average heart rate" not in empty


def test_long_tokens_are_shortened_with_the_full_value_on_hover(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    root = tmp_path / "lake"
    token = "e0de7bdad3356c3495c752d29d3d2308726b560909d198607c820c982fcc04ce"
    write_deltalake(f"{root}/fitness/gold/gym_summary", pa.table({"mac_address": [token], "minutes_in_gym": [5.0]}))
    page = tmp_path / "index.html"
    main(["report", "--root", str(root), "--out", str(page)])
    assert f'<td title="{token}">{token[:23]}…</td>' in page.read_text()
