"""The chat page end to end: headless Chromium against the real app on a loopback port."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def ask(page, question: str):
    """Type a question, press Enter, and wait for the page to settle on its reply."""
    answers = page.locator("#messages > li.answer, #messages > li.error")
    before = answers.count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(answers).to_have_count(before + 1)
    return answers.last


def test_question_gets_an_answer_with_its_highlighted_source(page):
    page.goto("/")
    expect(page.locator("#empty-state")).to_be_visible()
    answer = ask(page, "耕地保有量目标是多少？")
    expect(answer).to_have_class("message answer answered")
    expect(answer.locator(".answer-text")).to_contain_text("18.65亿亩")
    source = answer.locator(".citation").first
    expect(source.locator(".citation-doc")).to_have_text(
        "《中共中央办公厅 国务院办公厅关于加强耕地保护提升耕地质量完善占补平衡的意见》"
    )
    expect(source.locator(".citation-where")).to_contain_text("一、总体要求")
    expect(source.locator("mark.answer-sentence")).to_contain_text("全国耕地保有量不低于18.65亿亩")
    expect(page.locator("#empty-state")).to_be_hidden()
    # sources collapse and expand
    expect(source).to_be_visible()
    answer.locator(".sources > summary").click()
    expect(source).to_be_hidden()
    answer.locator(".sources > summary").press("Enter")
    expect(source).to_be_visible()


def test_source_link_lands_on_the_highlighted_clause(page):
    page.goto("/")
    answer = ask(page, "耕地保有量目标是多少？")
    answer.locator(".citation .citation-doc").first.click()
    page.wait_for_url("**/documents/gengdi-zhanbu?clause=gengdi-zhanbu-u5f0507e6#gengdi-zhanbu-u5f0507e6")
    clause = page.locator("#gengdi-zhanbu-u5f0507e6")
    expect(clause).to_have_class("clause cited")
    expect(clause).to_contain_text("全国耕地保有量不低于18.65亿亩")
    expect(clause).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == "gengdi-zhanbu-u5f0507e6"
    # highlighted: its background differs from an uncited clause's
    bg = page.evaluate("id => getComputedStyle(document.getElementById(id)).backgroundColor", "gengdi-zhanbu-u5f0507e6")
    other = page.evaluate("id => getComputedStyle(document.getElementById(id)).backgroundColor", "gengdi-zhanbu-h2i1")
    assert bg != other


def test_follow_up_keeps_the_conversation_and_survives_a_reload(page):
    page.goto("/")
    first = ask(page, "黔东南2023年地区生产总值是多少？")
    expect(first.locator(".answer-text")).to_contain_text("1329.65亿元")
    page.reload()
    # the conversation is still on screen after the reload, and the server still knows it
    expect(page.locator("#messages li.question")).to_have_text(["您问：黔东南2023年地区生产总值是多少？"])
    expect(page.locator("#messages li.answer .answer-text")).to_contain_text("1329.65亿元")
    expect(page.locator("#empty-state")).to_be_hidden()
    follow = ask(page, "增长了多少？")
    expect(follow).to_have_class("message answer answered")
    expect(follow.locator(".answer-text")).to_contain_text("4%")
    ids = page.evaluate("JSON.parse(localStorage.getItem('policy-qa.chat.v1')).messages"
                        ".filter(m => m.type === 'answer').map(m => m.data.conversation_id)")
    assert len(ids) == 2 and ids[0] == ids[1]
    # 新对话 starts over: empty page, and the same elliptical question no longer has a subject
    page.click("#new-chat")
    expect(page.locator("#messages > li")).to_have_count(0)
    expect(page.locator("#empty-state")).to_be_visible()
    fresh = ask(page, "增长了多少？")
    expect(fresh.locator(".answer-text")).not_to_contain_text("1329.65")


def test_hostile_question_renders_as_text_and_runs_nothing(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/")
    ask(page, XSS)
    expect(page.locator("#messages li.question .bubble")).to_have_text(XSS)
    assert page.locator("#messages img").count() == 0
    page.reload()  # re-rendered from localStorage, still as text
    expect(page.locator("#messages li.question .bubble")).to_have_text(XSS)
    assert page.locator("#messages img").count() == 0
    page.wait_for_timeout(200)  # an onerror handler would have fired by now
    assert dialogs == []


def test_refusal_looks_different_and_offers_related_content_only(page):
    page.goto("/")
    answer = ask(page, "今天天气怎么样？")
    expect(answer).to_have_class("message answer refusal")
    expect(answer.locator(".answer-label")).to_have_text("未找到答案")
    expect(answer.locator(".answer-text")).to_contain_text("没有找到")
    # nothing is quoted as if it answered: no highlighted sentence, no open sources, no copy
    assert answer.locator("mark").count() == 0
    assert answer.locator("button.copy").count() == 0
    related = answer.locator("details.sources")
    if related.count():
        expect(related.locator("summary")).to_contain_text("相关内容")
        assert related.get_attribute("open") is None


def test_example_question_asks_it_and_enter_sends_while_shift_enter_breaks_the_line(page):
    page.goto("/")
    examples = page.locator("button.example")
    expect(examples).to_have_count(6)
    examples.first.click()
    expect(page.locator("#messages li.answer")).to_have_count(1)
    expect(page.locator("#messages li.question .bubble")).to_have_text(examples.first.inner_text())
    page.fill("#question", "第一行")
    page.press("#question", "Shift+Enter")
    page.keyboard.type("第二行")
    assert page.input_value("#question") == "第一行\n第二行"
    expect(page.locator("#messages li.question")).to_have_count(1)


def test_send_is_disabled_with_an_indicator_while_waiting(page):
    page.goto("/")
    release = []

    def slow(route):
        release.append(route)

    page.route("**/api/ask", slow)
    page.fill("#question", "耕地保有量目标是多少？")
    page.press("#question", "Enter")
    expect(page.locator("#pending")).to_be_visible()
    expect(page.locator("#pending")).to_have_text("正在查找…")
    expect(page.locator("#send")).to_be_disabled()
    for _ in range(50):  # the route handler runs while Playwright waits
        if release:
            break
        page.wait_for_timeout(20)
    assert len(release) == 1
    release[0].continue_()
    expect(page.locator("#messages li.answer")).to_have_count(1)
    expect(page.locator("#pending")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()


def test_errors_show_inline_with_a_retry(page):
    page.goto("/")
    # a 400 from the real server shows its message
    error = ask(page, "？？？")
    expect(error).to_have_class("message error")
    expect(error.locator(".error-text")).to_have_text("问题不能为空")
    # the server unreachable, then back: retry asks again and the answer replaces the error
    page.route("**/api/ask", lambda route: route.abort("connectionrefused"))
    error = ask(page, "耕地保有量目标是多少？")
    expect(error.locator(".error-text")).to_contain_text("无法连接服务器")
    page.unroute("**/api/ask")
    error.locator("button.retry").click()
    expect(page.locator("#messages li.error")).to_have_count(1)  # only the 400 one is left
    expect(page.locator("#messages li.answer .answer-text")).to_contain_text("18.65亿亩")
    expect(page.locator("#messages li.question")).to_have_count(2)
    # rate limited
    page.route("**/api/ask", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "30"}, content_type="application/json",
        body=json.dumps({"error": {"code": "rate_limited", "message": "too many"}}),
    ))
    error = ask(page, "哪几类数码产品有购新补贴？")
    expect(error.locator(".error-text")).to_have_text("请求太频繁了，请 30 秒后再试。")
    expect(error.locator("button.retry")).to_be_visible()
    # after a reload the unanswered questions still offer a retry, and its answer lands under its question
    page.unroute("**/api/ask")
    page.reload()
    errors = page.locator("#messages li.error")
    expect(errors).to_have_count(2)
    expect(errors.locator(".error-text")).to_have_text(["这个问题还没有得到回答。"] * 2)
    errors.last.locator("button.retry").click()
    expect(page.locator("#messages > li")).to_have_count(6)
    kinds = page.eval_on_selector_all("#messages > li", "items => items.map(i => i.className)")
    assert kinds == ["message question", "message error", "message question", "message answer answered",
                     "message question", "message answer answered"]
    expect(page.locator("#messages > li").last.locator(".answer-text")).to_contain_text("手机")


def test_feedback_posts_the_turn_and_reports_a_failure_inline(page):
    # /api/feedback belongs to another part of the service: fake it here so this test checks the page only
    posted = []

    def feedback(route):
        posted.append(route.request.post_data_json)
        status = 503 if len(posted) == 1 else 200
        route.fulfill(status=status, content_type="application/json",
                      body=json.dumps({"error": {"code": "unavailable", "message": "x"}} if status != 200 else {}))

    page.route("**/api/feedback", feedback)
    page.goto("/")
    answer = ask(page, "耕地保有量目标是多少？")
    answer.locator("button.rate.down").click()
    status = answer.locator(".feedback-status")
    expect(status).to_contain_text("反馈未能提交")
    status.locator("button.retry").click()
    expect(status).to_have_text("谢谢反馈")
    expect(answer.locator("button.rate.down")).to_have_attribute("aria-pressed", "true")
    answer.locator(".comment-input").fill("想看到完整条文")
    answer.locator(".feedback-comment button").click()
    expect(status).to_have_text("谢谢，补充说明已提交")
    conversation = page.evaluate("JSON.parse(localStorage.getItem('policy-qa.chat.v1')).conversationId")
    assert posted == [
        {"conversation_id": conversation, "turn": 1, "rating": "down"},
        {"conversation_id": conversation, "turn": 1, "rating": "down"},
        {"conversation_id": conversation, "turn": 1, "rating": "down", "comment": "想看到完整条文"},
    ]


def test_copy_puts_answer_and_source_on_the_clipboard(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto("/")
    answer = ask(page, "耕地保有量目标是多少？")
    answer.locator("button.copy").click()
    expect(answer.locator(".copy-status")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "18.65亿亩" in copied
    title = "中共中央办公厅 国务院办公厅关于加强耕地保护提升耕地质量完善占补平衡的意见"
    assert copied.endswith(f"来源：《{title}》 一、总体要求")


CONTRAST = """selectors => selectors.map(selector => {
  const node = document.querySelector(selector);
  if (!node) return [selector, 0];
  const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let back = node, bg = null;
  while (back && !bg) {
    const c = rgba(getComputedStyle(back).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) bg = c;
    back = back.parentElement;
  }
  const fg = luminance(rgba(getComputedStyle(node).color));
  const b = luminance(bg || [255, 255, 255]);
  return [selector, (Math.max(fg, b) + 0.05) / (Math.min(fg, b) + 0.05)];
})"""


def test_text_has_readable_contrast(page):
    page.goto("/")
    page.route("**/api/ask", lambda route: route.fulfill(status=503, body="down"), times=1)
    ask(page, "耕地保有量目标是多少？")
    ask(page, "耕地保有量目标是多少？")
    ask(page, "日本的耕地保有量是多少？")
    page.locator("details.related > summary").click()
    selectors = [
        ".intro", ".site-header .brand", ".question .bubble", ".answered .answer-text", ".citation-doc",
        ".citation-where", ".answered .clause-text", "mark.answer-sentence", ".citation-open", "button.copy",
        "button.rate", ".feedback-label", "#send", "#new-chat", ".refusal .answer-label", ".refusal .answer-text",
        ".related .related-note", ".related .clause-text", ".error .error-text", ".error button.retry",
    ]
    page.evaluate("document.getElementById('empty-state').hidden = false")
    ratios = dict(page.evaluate(CONTRAST, selectors))
    low = {selector: round(ratio, 2) for selector, ratio in ratios.items() if ratio < 4.5}  # WCAG AA, body text
    assert not low, low


def test_keyboard_alone_can_ask(page):
    page.goto("/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    focused = []
    for _ in range(20):
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
        if focused[-1] == "question":
            break
        page.keyboard.press("Tab")
    assert focused[-1] == "question", focused
    page.keyboard.type("耕地保有量目标是多少？")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.answer .answer-text")).to_contain_text("18.65亿亩")


def test_phone_width_has_no_sideways_scroll(browser, live_server, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, base_url=live_server, locale="zh-CN",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/")
        answer = ask(page, "哪几类数码产品有购新补贴？")
        expect(answer.locator("mark.answer-sentence")).to_be_visible()
        for path in ("/", "/documents", "/documents/tizhen-xiaofei"):
            if path != "/":
                page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
        page.goto("/")
        for selector in ("#question", "#send", "#new-chat"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, selector
        page.screenshot(path=tmp_path / "phone.png", full_page=True)
    finally:
        context.close()


def test_screenshot_of_a_cited_answer(browser, live_server, tmp_path):
    """Make the README's screenshot; `make screenshot` copies it to docs/screenshot.png."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=live_server, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto("/")
        answer = ask(page, "耕地保有量目标是多少？")
        expect(answer.locator("mark.answer-sentence")).to_be_visible()
        shot = tmp_path / "screenshot.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        target = os.environ.get("POLICY_QA_SCREENSHOT")
        if target:
            shutil.copyfile(shot, Path(target))
    finally:
        context.close()
