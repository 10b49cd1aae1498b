"""A law's page: its metadata, table of contents and tree, the official URL, and never a file path."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from service import create_app
from service.config import load_settings
from service.qa.engine import QAEngine

LAW = """# 中华人民共和国测试保障法

2024年6月28日 第十四届全国人民代表大会常务委员会第十次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了保障测试工作，制定本法。

第二条 国家建立测试保障制度。

## 第二章 保障措施

### 第一节 一般规定

第三条 县级以上人民政府应当采取下列措施：

（一）制定测试规划；

（二）保障测试经费。

第四条 本法自2025年1月1日起施行。
"""
CATALOG = '[[document]]\nid = "ceshi-fa"\nfile = "ceshi.md"\nurl = "https://www.npc.gov.cn/npc/c2/ceshi.html"\n'


@pytest.fixture(scope="module")
def law_client(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shipped = Path(load_settings()["CORPUS_DIR"])
    for name in ("userdict.txt", "synonyms.toml", "stopwords.txt"):  # the tokenizer's resources, not documents
        shutil.copy(shipped / name, corpus / name)
    (corpus / "raw").mkdir()
    (corpus / "raw" / "ceshi.md").write_text(LAW, encoding="utf-8")
    (corpus / "documents.toml").write_text(CATALOG, encoding="utf-8")
    engine = QAEngine(corpus, Path(load_settings()["PROMPTS_DIR"]))
    return create_app({"LOG_LEVEL": "WARNING"}, engine=engine).test_client(), engine


def test_law_page_shows_metadata_toc_tree_and_url_but_no_file(law_client):
    client, engine = law_client
    html = client.get("/documents/ceshi-fa").get_data(as_text=True)
    assert "<h1>中华人民共和国测试保障法</h1>" in html
    assert "法律" in html and "全国人民代表大会常务委员会" in html and "2025-01-01" in html
    assert '<nav class="toc" aria-label="目录">' in html
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group()
    assert toc.index("第一章 总则") < toc.index("第二章 保障措施") < toc.index("第一节 一般规定")
    assert 'href="#ceshi-fa-a3"' in toc
    assert "<h2>第二章 保障措施</h2>" in html and "<h3>第一节 一般规定</h3>" in html
    assert 'href="https://www.npc.gov.cn/npc/c2/ceshi.html"' in html
    assert "ceshi.md" not in html and "corpus/raw" not in html
    article = engine.by_id["ceshi-fa-a3"]
    assert "（二）保障测试经费" in article.text  # items stay inside their article
    assert article.label == "第二章 › 第一节 › 第三条"
    assert article.cite_as(engine.documents["ceshi-fa"]) == "《测试保障法》第三条"


def test_the_api_keeps_the_source_field(law_client):
    client, _ = law_client
    reply = client.post("/api/ask", json={"question": "县级以上人民政府应当采取哪些测试保障措施？"}).get_json()
    assert reply["citations"][0]["source"] == "corpus/raw/ceshi.md"
    assert reply["citations"][0]["clause"] == "第三条"


def test_a_link_to_a_clause_that_no_longer_exists_says_so(client):
    page = client.get("/documents/gengdi-zhanbu?clause=gengdi-zhanbu-a999").get_data(as_text=True)
    assert "已更改或删除" in page
    assert "已更改或删除" not in client.get("/documents/gengdi-zhanbu").get_data(as_text=True)
    live = client.application.extensions["qa"].document_clauses("gengdi-zhanbu")[0].id
    assert "已更改或删除" not in client.get(f"/documents/gengdi-zhanbu?clause={live}").get_data(as_text=True)
    escaped = client.get("/documents/gengdi-zhanbu?clause=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in escaped and "&lt;script&gt;" in escaped
