"""Block Kit and Mattermost Markdown from an Answer: escaping, limits, sources, refusals."""
from __future__ import annotations

from service.qa.models import Answer, Citation
from service.slack.render import SECTION_LIMIT, mattermost_text, slack_message


def citation(sentence: str = "A&B <b>不低于</b> 18.65亿亩", document: str = "文件<甲>", number: str = "（一）"):
    return Citation("c1", "d1", document, "一、总体要求", number, f"前文。{sentence}后文。", "corpus/raw/x.txt",
                    0, 10, 1.0, sentence)


def answer(text: str = "目标 <!channel> & 18.65亿亩", *citations: Citation) -> Answer:
    return Answer(True, text, "quantity", citations or (citation(),), "问？", "cid", 1)


def test_blocks_carry_answer_quote_and_source_escaped():
    message = slack_message(answer())
    section, quote, context = message["blocks"]
    assert section["text"] == {"type": "mrkdwn", "text": "目标 &lt;!channel&gt; &amp; 18.65亿亩"}
    assert quote["text"]["text"] == "> A&amp;B &lt;b&gt;不低于&lt;/b&gt; 18.65亿亩"
    assert context["elements"] == [{"type": "mrkdwn", "text": "来源：《文件&lt;甲&gt;》 一、总体要求 （一）"}]
    assert message["text"] == "目标 &lt;!channel&gt; &amp; 18.65亿亩\n来源：《文件&lt;甲&gt;》 一、总体要求 （一）"


def test_every_source_listed_and_only_answering_sentences_quoted():
    other = citation(sentence="", document="另一文件", number="")
    message = slack_message(answer("答", citation(), other))
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "context"]
    assert [e["text"] for e in message["blocks"][-1]["elements"]] == [
        "来源：《文件&lt;甲&gt;》 一、总体要求 （一）", "另见：《另一文件》 一、总体要求"]


def test_long_text_is_clipped_without_breaking_an_entity():
    text = "&" * 2000
    block = slack_message(answer(text))["blocks"][0]["text"]["text"]
    assert len(block) <= SECTION_LIMIT and block.endswith("&amp;…")


def test_refusal_is_its_text_alone():
    refusal = Answer(False, "抱歉，没有找到 <x>", "refusal", (citation(),))
    assert slack_message(refusal) == {
        "text": "抱歉，没有找到 &lt;x&gt;",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "抱歉，没有找到 &lt;x&gt;"}}],
    }
    assert mattermost_text(refusal) == "抱歉，没有找到 \\<x\\>"


def test_mattermost_markdown_escapes_and_cites():
    text = mattermost_text(answer("**粗** [链接](http://x) #1"))
    assert text.splitlines() == [
        "\\*\\*粗\\*\\* \\[链接\\](http://x) \\#1",
        "",
        "> A&B \\<b\\>不低于\\</b\\> 18.65亿亩",
        "",
        "**来源**：《文件\\<甲\\>》 一、总体要求 （一）",
    ]
