"""Formats in, the same clauses out: PDF and DOCX written here by pure-Python writers, GB18030 text, HTML pages."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from service.qa import extract as ex
from service.qa.ingest import ingest
from service.qa.structure import fold_text

FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
TITLE = "某市农村集体资产管理办法"
CHAPTERS = ("总则", "资产登记", "附则")
SENTENCES = (
    "农村集体经济组织应当建立健全资产管理制度，明确管理责任。",
    "乡镇人民政府负责指导本行政区域内的集体资产清查工作，并定期公布结果。",
    "集体资产的处置应当经成员大会或者成员代表大会讨论决定。",
    "县级以上农业农村主管部门应当加强对集体资产管理的监督检查。",
    "任何单位和个人不得侵占、挪用、截留集体资产。",
)


def articles() -> list[list[str]]:
    """Chapters of articles; each article is its paragraphs (款), one article has items."""
    out = []
    n = 0
    for c, _ in enumerate(CHAPTERS):
        chapter = []
        for k in range(4 if c < 2 else 2):
            n += 1
            body = "".join(SENTENCES[(n + j) % len(SENTENCES)] for j in range(2 + k % 3))
            paras = [body]
            if n == 3:
                paras = ["集体资产包括下列资产：", "（一）集体所有的土地和森林、山岭、草原、荒地、滩涂；",
                         "（二）集体所有的建筑物、生产设施和农田水利设施；", "（三）集体所有的货币资金和债权。"]
            if n == 6:  # a long article, broken across a page in the PDF and DOCX below
                paras = [body * 4, SENTENCES[0] * 3]
            chapter.append(paras)
        out.append(chapter)
    return out


def cn(n: int) -> str:
    from service.qa.extract import chinese_number

    return chinese_number(n)


def markdown() -> str:
    lines = [f"# {TITLE}", ""]
    n = 0
    for c, chapter in enumerate(articles()):
        lines += [f"## 第{cn(c + 1)}章 {CHAPTERS[c]}", ""]
        for paras in chapter:
            n += 1
            lines += [f"第{cn(n)}条 {paras[0]}", ""] + [p for q in paras[1:] for p in (q, "")]
    return "\n".join(lines)


def corpus_with(tmp_path: Path, name: str, data: bytes | str) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    target = raw / name
    if isinstance(data, str):
        target.write_text(data, encoding="utf-8")
    else:
        target.write_bytes(data)
    return tmp_path


def article_texts(report) -> dict[str, str]:
    return {c.number: fold_text(c.text) for c in report.clauses if c.number.endswith("条")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    corpus = corpus_with(tmp_path_factory.mktemp("md"), "banfa.md", markdown())
    report = ingest(corpus)
    assert len(article_texts(report)) == 10 and not report.errors
    return report


def need_font() -> None:
    if not FONT.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{FONT} missing: .ci/doc-deps.sh installs fonts-droid-fallback")
        pytest.skip(f"{FONT} missing (apt-get install fonts-droid-fallback)")


def write_pdf(path: Path) -> None:
    """A PDF with a running header, page numbers '- N -' and article 6 broken across a page."""
    from fpdf import FPDF

    class Page(FPDF):
        def header(self):
            self.set_font("cjk", size=9)
            self.cell(0, 6, f"{TITLE}（征求意见稿）", align="C")
            self.ln(10)

        def footer(self):
            self.set_y(-15)
            self.set_font("helvetica", size=9)  # the CJK font has no Latin digits
            self.cell(0, 8, f"- {self.page_no()} -", align="C")

    pdf = Page(format=(148, 210))  # A5 in mm
    pdf.add_font("cjk", fname=str(FONT))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.multi_cell(0, 9, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    n = 0
    for c, chapter in enumerate(articles()):
        pdf.multi_cell(0, 7, f"第{cn(c + 1)}章 {CHAPTERS[c]}", align="C", new_x="LMARGIN", new_y="NEXT")
        for paras in chapter:
            n += 1
            if n == 6:  # start it three lines above the bottom margin: it must continue on the next page
                pdf.add_page()
                pdf.set_y(pdf.h - 20 - 3 * 6)
            for k, para in enumerate(paras):
                text = f"第{cn(n)}条 {para}" if k == 0 else para
                pdf.multi_cell(0, 6, "　　" + text, wrapmode="CHAR", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_pdf_with_running_headers_and_page_numbers_gives_the_same_articles(tmp_path, reference):
    need_font()
    write_pdf(tmp_path / "banfa.pdf")
    corpus = corpus_with(tmp_path, "banfa.pdf", (tmp_path / "banfa.pdf").read_bytes())
    report = ingest(corpus)
    assert not report.errors, [str(p) for p in report.errors]
    assert article_texts(report) == article_texts(reference)
    text = (corpus / "raw" / "banfa.pdf.txt").read_text(encoding="utf-8")  # the text beside the original
    assert "征求意见稿" not in text and not re.search(r"-\s*\d+\s*-", text)
    for clause in report.clauses:
        assert fold_text(clause.text) in fold_text(text)
        assert clause.source == "corpus/raw/banfa.pdf.txt"
    (doc,) = report.documents
    assert doc.title == TITLE and doc.kind == "regulation"


def write_docx(path: Path) -> None:
    """Articles and items numbered by Word's automatic numbering (第%1条, （%2）); header, page field, page break."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1条 "/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text: str, level: int):
        p = document.add_paragraph(text)
        p._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))
        return p

    section = document.sections[0]
    section.header.paragraphs[0].text = f"{TITLE}（征求意见稿）"
    section.footer.paragraphs[0]._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    document.core_properties.title = TITLE
    document.add_paragraph(TITLE)
    n = 0
    for c, chapter in enumerate(articles()):
        document.add_paragraph(f"第{cn(c + 1)}章 {CHAPTERS[c]}")
        for paras in chapter:
            n += 1
            for k, para in enumerate(paras):
                if k == 0:
                    p = numbered("", 0)
                    if n == 6:  # the page breaks in the middle of this article
                        half = len(para) // 2
                        p.add_run(para[:half]).add_break(WD_BREAK.PAGE)
                        p.add_run(para[half:])
                    else:
                        p.add_run(para)
                elif para.startswith("（"):
                    numbered(para[3:], 1)
                else:
                    document.add_paragraph(para)
    document.save(str(path))


def test_docx_with_automatic_numbering_gives_the_same_articles(tmp_path, reference):
    write_docx(tmp_path / "src.docx")
    corpus = corpus_with(tmp_path, "banfa.docx", (tmp_path / "src.docx").read_bytes())
    report = ingest(corpus)
    assert not report.errors, [str(p) for p in report.errors]
    assert article_texts(report) == article_texts(reference)
    items = next(c for c in report.clauses if c.number == "第三条")
    assert "（二）集体所有的建筑物" in items.text  # the item's automatic number written out
    text = (corpus / "raw" / "banfa.docx.txt").read_text(encoding="utf-8")
    assert "征求意见稿" not in text


def test_gb18030_text_is_detected_and_kept_as_utf8_beside_it(tmp_path, reference):
    corpus = corpus_with(tmp_path, "banfa.txt", re.sub(r"^#+ ", "", markdown(), flags=re.M).encode("gb18030"))
    report = ingest(corpus)
    assert not report.errors
    assert article_texts(report) == article_texts(reference)
    assert (corpus / "raw" / "banfa.txt.txt").read_text(encoding="utf-8").startswith(TITLE)
    assert all(c.source == "corpus/raw/banfa.txt.txt" for c in report.clauses)


@pytest.mark.parametrize(("name", "says"), [
    ("notice.doc", ".docx"), ("notice.wps", ".docx"), ("notice.ofd", "PDF"), ("scan.jpg", "no text"),
])
def test_unsupported_formats_are_refused_naming_what_is_accepted(tmp_path, name, says):
    corpus = corpus_with(tmp_path, name, b"\xd0\xcf\x11\xe0 binary")
    report = ingest(corpus)
    (problem,) = report.errors
    assert problem.file == f"corpus/raw/{name}" and says in problem.message and ".md" in problem.message
    assert not report.documents


def test_a_pdf_without_a_text_layer_is_refused(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 150, style="F")  # a scanned page: pixels, no text
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(ex.ExtractionError, match="no text layer"):
        ex.extract(tmp_path / "scan.pdf", write=False)


def test_limits_size_time_and_zip_bombs(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\0" * 5_000_000)
    with pytest.raises(ex.ExtractionError, match="compressed over"):
        ex.extract(bomb, write=False)
    big = tmp_path / "big.txt"
    big.write_text("第一条 " + "字" * 200, encoding="utf-8")
    monkeypatch.setattr(ex, "MAX_SOURCE_BYTES", 100)
    with pytest.raises(ex.ExtractionError, match="byte limit"):
        ex.extract(big, write=False)
    monkeypatch.undo()
    need_font()
    write_pdf(tmp_path / "slow.pdf")
    with pytest.raises(ex.ExtractionError, match="longer than"):
        ex.extract(tmp_path / "slow.pdf", write=False, seconds=0)


@pytest.mark.parametrize(("name", "ok"), [
    ("意见.md", True), ("report 2024.pdf", True), ("../etc/passwd", False), (".hidden.txt", False),
    ("a\x00b.txt", False), ("a/b.txt", False), ("x" * 200 + ".txt", False), ("what?.html", False),
])
def test_safe_file_names(name, ok):
    assert ex.safe_name(name) is ok


GENERIC_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>城市更新行动见成效 - 某某日报</title></head>
<body>
<header><nav><a href="/">首页</a> | <a href="/news">新闻</a> | <a href="/gov">政务</a>
 | <a href="/login">登录</a></nav></header>
<div class="layout">
 <aside class="sidebar"><h3>热门文章</h3><ul><li><a href="/a">春耕备耕全面展开，各地抓紧抓好农业生产</a></li>
  <li><a href="/b">多地出台措施促进消费，文旅市场持续升温</a></li></ul></aside>
 <main><article>
  <h1>城市更新行动见成效</h1>
  <p class="byline">2025-03-02 08:00 来源：某某日报</p>
  <p>今年以来，本市累计完成老旧小区改造一百二十个，惠及居民四万余户，改造内容包括加装电梯、管网更新和停车设施建设。</p>
  <p>市住房城乡建设局表示，下一步将继续推进城中村改造，计划年内新开工安置住房八千套，并同步完善教育、医疗等配套设施。</p>
  <p>据介绍，改造资金由财政补助、居民出资和社会资本共同承担，其中财政补助占比约百分之六十。</p>
  <div class="share"><button onclick="share()">分享</button> <a href="#">微博</a> <a href="#">微信</a></div>
 </article></main>
</div>
<footer><p>版权所有 某某日报社 联系我们 网站地图</p><script>var tracker = 1;</script></footer>
</body></html>"""


def test_html_extractor_finds_the_article_on_a_generic_page(tmp_path):
    from service.qa.html_text import html_text

    text, hints = html_text(GENERIC_PAGE)
    assert "老旧小区改造一百二十个" in text and "财政补助占比约百分之六十" in text
    assert "城市更新行动见成效" in text.splitlines()[0]
    for boilerplate in ("首页", "热门文章", "春耕备耕", "版权所有", "分享", "tracker", "登录"):
        assert boilerplate not in text
    assert hints["title"] == "城市更新行动见成效"


def test_gov_cn_pages_lose_buttons_and_keep_their_information_table_as_notes(tmp_path):
    from service.qa.html_text import html_text
    from tests.qa.test_corpus_dev import DEV, shared_or_skip

    for name in ("xiaofei-fupin-yijian-2018.html", "dudao-jili-tongzhi-2018.html"):
        source = shared_or_skip(DEV / name)
        text, hints = html_text(source.read_text(encoding="utf-8"))
        assert hints["wenhao"].startswith("国办发〔2018〕") and hints["issuer"] == "国务院办公厅"
        assert "扫一扫在手机打开当前页" not in text and "sendmail" not in text
        report = ingest(corpus_with(tmp_path / name, name, source.read_bytes()))
        for clause in report.clauses:
            if clause.section != "文件信息":
                assert "索 引 号" not in clause.text and "主题分类" not in clause.text


def test_page_address_encoding_declaration_and_empty_pages(tmp_path):
    from service.qa.html_text import html_text

    page = ('<?xml version="1.0" encoding="utf-8"?><html><head><link rel="canonical" '
            'href="https://www.gov.cn/zhengce/content/ceshi.htm"></head><body><div><h1>关于测试的通知</h1>'
            '<p>一、各地要按照要求做好测试工作，确保测试工作有序推进。</p><p>二、有关部门要加强指导。</p></div></body></html>')
    text, hints = html_text(page)
    assert "各地要按照要求做好测试工作" in text and hints["url"] == "https://www.gov.cn/zhengce/content/ceshi.htm"
    corpus = corpus_with(tmp_path / "a", "tongzhi.html", page)
    corpus_with(tmp_path / "a", "empty.html", "<html><body><nav><a href='/'>首页</a></nav></body></html>")
    report = ingest(corpus)
    (doc,) = report.documents
    assert doc.url == "https://www.gov.cn/zhengce/content/ceshi.htm" and doc.title == "关于测试的通知"
    (problem,) = report.errors
    assert problem.file == "corpus/raw/empty.html" and "no text found" in problem.message
