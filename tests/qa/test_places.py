from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import pytest

from service.qa.places import Gazetteer, Region

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def names(gaz, text):
    return [(p.text, p.name) for p in gaz.find(text)]


def test_loaded_once(gaz):
    assert Gazetteer.load() is gaz


@pytest.mark.parametrize(
    ("text", "written", "name", "level", "province"),
    [
        ("贵州的耕地", "贵州", "贵州省", "province", "贵州省"),
        ("河南省的政策", "河南省", "河南省", "province", "河南省"),
        ("广西有什么规定", "广西", "广西壮族自治区", "province", "广西壮族自治区"),
        ("黔东南的GDP", "黔东南", "黔东南苗族侗族自治州", "prefecture", "贵州省"),
        ("黔东南州去年", "黔东南州", "黔东南苗族侗族自治州", "prefecture", "贵州省"),
        ("黔东南苗族侗族自治州人民政府", "黔东南苗族侗族自治州", "黔东南苗族侗族自治州", "prefecture", "贵州省"),
        ("遵义有多少", "遵义", "遵义市", "prefecture", "贵州省"),
        ("凯里市的补贴", "凯里市", "凯里市", "county", "贵州省"),
        ("全州县的补贴", "全州县", "全州县", "county", "广西壮族自治区"),
        ("兴安盟", "兴安盟", "兴安盟", "prefecture", "内蒙古自治区"),
    ],
)
def test_divisions_by_full_or_short_name(gaz, text, written, name, level, province):
    (place,) = gaz.find(text)
    assert (place.text, place.name, place.level, place.province) == (written, name, level, province)
    assert text[place.start : place.end] == written and not place.is_country


@pytest.mark.parametrize("bare", ["全州", "凯里", "沛"])
def test_county_needs_its_suffix(gaz, bare):
    assert gaz.find(f"{bare}的规定") == []


@pytest.mark.parametrize(
    ("text", "short", "name"),
    [
        ("美国的耕地", "美国", "美利坚合众国"),
        ("日本", "日本", "日本国"),
        ("韩国呢", "韩国", "大韩民国"),
        ("英国", "英国", "大不列颠及北爱尔兰联合王国"),
    ],
)
def test_countries(gaz, text, short, name):
    (place,) = gaz.find(text)
    assert place.is_country and place.level == "country" and (place.text, place.name) == (short, name)


@pytest.mark.parametrize(
    "word", ["城里", "老家", "厂里", "寨子里", "村里", "市里", "县里", "省里", "三楼", "城区", "郊区", "矿区"]
)
def test_everyday_words_are_never_places(gaz, word):
    assert gaz.find(f"我在{word}，想问一下") == []


def test_personal_story_has_no_place(gaz):
    story = "我在城里打工，老家好几亩地都撂荒了，厂里的人说寨子里村里都这样，住三楼，市里县里省里管不管？"
    assert gaz.find(story) == []


@pytest.mark.parametrize("text", ["华亭镇", "北新村", "嘉定工业区", "南阳市城乡一体化示范区"])
def test_no_towns_villages_or_zones(gaz, text):
    assert all(p.text != text for p in gaz.find(text))


@pytest.mark.parametrize("text", ["示范县建设", "振兴县域经济", "长治久安", "大同小异", "拉美国家"])
def test_words_holding_a_place_name_are_not_places(gaz, text):
    assert gaz.find(text) == []


def test_longest_match_and_reading_order(gaz):
    text = "贵州省黔东南州凯里市和浙江山东"
    assert names(gaz, text) == [
        ("贵州省", "贵州省"),
        ("黔东南州", "黔东南苗族侗族自治州"),
        ("凯里市", "凯里市"),
        ("浙江", "浙江省"),
        ("山东", "山东省"),
    ]
    spans = [(p.start, p.end) for p in gaz.find(text)]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


def test_county_followed_by_its_own_suffix_word(gaz):
    assert names(gaz, "沛县县城") == [("沛县", "沛县")]


def test_containment(gaz):
    assert gaz.within("凯里市", "黔东南")
    assert gaz.within("黔东南", "贵州")
    assert gaz.within("凯里市", "贵州省")
    assert gaz.within("贵州", "中国") and gaz.within("凯里市", "中国")
    assert gaz.within("贵州", "贵州省")
    assert not gaz.within("贵州", "凯里市")
    assert not gaz.within("全州县", "黔东南")
    assert not gaz.within("凯里市", "河南")
    assert not gaz.within("日本", "中国")
    assert not gaz.within("不是地名", "贵州")
    kaili, guizhou = gaz.find("凯里市在贵州")
    assert gaz.within(kaili, guizhou) and gaz.within(kaili.region, guizhou)


def test_ambiguous_names_keep_every_reading(gaz):
    regions = gaz.lookup("朝阳区")
    assert {r.province for r in regions} >= {"北京市", "吉林省"}
    assert gaz.lookup("海南")[0] == Region("海南省", "海南", "province", "海南省", "", "460000")


def test_empty_and_plain_text(gaz):
    assert gaz.find("") == [] and gaz.find("耕地保有量是多少？") == []


@pytest.mark.parametrize("name", ["places.tsv", "countries.tsv"])
def test_data_names_its_source_and_licence(name):
    head = resources.files("service").joinpath("data", name).read_text(encoding="utf-8").splitlines()[0]
    assert "jionlp" in head and "Apache-2.0" in head and "build_gazetteer.py" in head


def _builder():
    spec = importlib.util.spec_from_file_location("build_gazetteer", ROOT / "scripts" / "build_gazetteer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builder_keeps_divisions_and_drops_towns_and_zones():
    build = _builder()
    tree = "\n".join(
        [
            "贵州省\t520000\t贵州",
            "\t黔东南苗族侗族自治州\t522600\t黔东南",
            "\t\t凯里市\t522601\t凯里",
            "\t\t\t某某镇",
            "\t\t\t\t城里村",
            "\t\t凯里经济开发区\t522671\t凯里开发区",
            "\t\t城区\t522699\t城区",
            "\t省直辖行政区划\t529000\t省直辖",
            "\t\t仁怀市\t529001\t仁怀",
        ]
    )
    rows = {row[0]: row for row in build.china_rows(tree, {"城区": "n"})}
    assert set(rows) == {"贵州省", "黔东南苗族侗族自治州", "凯里市", "仁怀市"}
    assert rows["贵州省"][-1] == ["贵州省", "贵州"]
    assert rows["黔东南苗族侗族自治州"][-1] == ["黔东南苗族侗族自治州", "黔东南", "黔东南州"]
    assert rows["凯里市"][-1] == ["凯里市"] and rows["凯里市"][4] == "黔东南苗族侗族自治州"
    assert rows["仁怀市"][3:5] == ("贵州省", "")
