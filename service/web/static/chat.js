// The chat page: asks POST /api/ask, renders answers with their sources, keeps the conversation
// in localStorage so a reload does not lose it. All user and corpus text goes in as text nodes.
"use strict";

(function () {
  const STORAGE_KEY = "policy-qa.chat.v1";
  const ASK_TIMEOUT_MS = 20000;

  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const list = document.getElementById("messages");
  const pending = document.getElementById("pending");
  const emptyState = document.getElementById("empty-state");
  const newChat = document.getElementById("new-chat");

  // {conversationId, messages: [{type: "question", text} | {type: "answer", data}]}
  let state = load();
  let busy = false;

  function load() {
    try {
      const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) {
        return { conversationId: saved.conversationId || "", messages: saved.messages };
      }
    } catch (err) {
      // unreadable or blocked storage: start a fresh conversation rather than a broken page
    }
    return { conversationId: "", messages: [] };
  }

  function save() {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (err) {
      // private mode or full storage: the conversation still works, it just won't survive a reload
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, className, onClick) {
    const b = el("button", className, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function documentLink(citation) {
    const url = "/documents/" + encodeURIComponent(citation.doc_id) +
      "?clause=" + encodeURIComponent(citation.clause_id) + "#" + encodeURIComponent(citation.clause_id);
    return url;
  }

  // The clause text with the answering sentence wrapped in <mark>, built from text nodes only.
  function quote(citation, highlight) {
    const q = el("blockquote", "clause-text");
    const text = String(citation.text || "");
    const sentence = highlight ? String(citation.sentence || "") : "";
    const at = sentence ? text.indexOf(sentence) : -1;
    if (at < 0) {
      q.textContent = text;
      return q;
    }
    q.appendChild(document.createTextNode(text.slice(0, at)));
    q.appendChild(el("mark", "answer-sentence", sentence));
    q.appendChild(document.createTextNode(text.slice(at + sentence.length)));
    return q;
  }

  function reference(citation) {
    const parts = ["《" + citation.document + "》"];
    if (citation.section) parts.push(citation.section);
    if (citation.clause && citation.clause !== citation.section) parts.push(citation.clause);
    return parts.join(" ");
  }

  function citationItem(citation, highlight) {
    const item = el("li", "citation");
    const head = el("p", "citation-head");
    const link = el("a", "citation-doc", "《" + citation.document + "》");
    link.href = documentLink(citation);
    head.appendChild(link);
    const where = [citation.section, citation.clause].filter(Boolean).join(" ");
    if (where) head.appendChild(el("span", "citation-where", where));
    item.appendChild(head);
    item.appendChild(quote(citation, highlight));
    const open = el("a", "citation-open", "查看原文");
    open.href = documentLink(citation);
    item.appendChild(open);
    return item;
  }

  function sources(data, refused) {
    const citations = Array.isArray(data.citations) ? data.citations : [];
    if (!citations.length) return null;
    const box = el("details", refused ? "sources related" : "sources");
    if (!refused) box.open = true;
    box.appendChild(el("summary", null, (refused ? "相关内容" : "来源") + "（" + citations.length + "）"));
    if (refused) box.appendChild(el("p", "related-note", "以下条文与问题有关，但不能回答它，仅供参考。"));
    const items = el("ol", "citation-list");
    // only an answer's own citations have a sentence to highlight; a refusal quotes no answer
    citations.forEach((c) => items.appendChild(citationItem(c, !refused)));
    box.appendChild(items);
    return box;
  }

  function copyText(data) {
    const lines = [String(data.answer || "")];
    const first = (data.citations || [])[0];
    if (first) lines.push("来源：" + reference(first));
    return lines.join("\n");
  }

  async function copy(data, status) {
    const text = copyText(data);
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      // no clipboard API (plain http off localhost): select-and-copy through a hidden textarea
      const area = el("textarea", "visually-hidden");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand && document.execCommand("copy");
      area.remove();
      if (!ok) {
        status.textContent = "复制失败，请手动选择文字复制";
        return;
      }
    }
    status.textContent = "已复制";
  }

  async function postFeedback(data, rating, comment) {
    const body = { conversation_id: data.conversation_id, turn: data.turn, rating: rating };
    if (comment) body.comment = comment;
    const response = await fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
  }

  function feedback(data) {
    const box = el("div", "feedback");
    const status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    const commentForm = el("form", "feedback-comment");
    commentForm.hidden = true;
    let chosen = "";

    const send = async (rating, comment) => {
      status.textContent = "正在提交…";
      status.classList.remove("error");
      box.querySelectorAll("button").forEach((b) => (b.disabled = true));
      try {
        await postFeedback(data, rating, comment);
        status.textContent = comment ? "谢谢，补充说明已提交" : "谢谢反馈";
        if (!comment) commentForm.hidden = false;
        else commentForm.hidden = true;
      } catch (err) {
        status.textContent = "反馈未能提交：" + err.message;
        status.classList.add("error");
        status.appendChild(button("重试", "retry link", () => send(rating, comment)));
      } finally {
        box.querySelectorAll("button").forEach((b) => (b.disabled = false));
      }
    };

    const rate = (rating, pressed) => () => {
      chosen = rating;
      up.setAttribute("aria-pressed", String(pressed === up));
      down.setAttribute("aria-pressed", String(pressed === down));
      send(rating, "");
    };
    const up = button("有用", "rate up", null);
    const down = button("没用", "rate down", null);
    up.setAttribute("aria-pressed", "false");
    down.setAttribute("aria-pressed", "false");
    up.addEventListener("click", rate("up", up));
    down.addEventListener("click", rate("down", down));

    const label = el("label", null, "补充说明（可选）");
    const commentInput = el("input", "comment-input");
    commentInput.type = "text";
    commentInput.maxLength = 500;
    commentInput.id = "comment-" + data.conversation_id + "-" + data.turn;
    label.htmlFor = commentInput.id;
    commentForm.appendChild(label);
    commentForm.appendChild(commentInput);
    const submit = el("button", "secondary", "提交说明");
    submit.type = "submit";
    commentForm.appendChild(submit);
    commentForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const comment = commentInput.value.trim();
      if (comment && chosen) send(chosen, comment);
    });

    box.appendChild(el("span", "feedback-label", "这个回答："));
    box.appendChild(up);
    box.appendChild(down);
    box.appendChild(status);
    box.appendChild(commentForm);
    return box;
  }

  function renderQuestion(text) {
    const item = el("li", "message question");
    item.appendChild(el("p", "visually-hidden", "您问："));
    item.appendChild(el("p", "bubble", text));
    return item;
  }

  function renderAnswer(data) {
    const refused = data.answered === false && data.kind === "refusal";
    const kind = data.answered ? "answered" : refused ? "refusal" : "notice";
    const item = el("li", "message answer " + kind);
    item.dataset.turn = String(data.turn || "");
    if (refused) item.appendChild(el("p", "answer-label", "未找到答案"));
    else item.appendChild(el("p", "visually-hidden", "回答："));
    item.appendChild(el("p", "answer-text", data.answer));
    const box = sources(data, !data.answered);
    if (box) item.appendChild(box);
    const actions = el("div", "answer-actions");
    if (data.answered) {
      const status = el("span", "copy-status");
      status.setAttribute("role", "status");
      actions.appendChild(button("复制", "secondary copy", () => copy(data, status)));
      actions.appendChild(status);
    }
    if (data.conversation_id && data.turn) actions.appendChild(feedback(data));
    item.appendChild(actions);
    return item;
  }

  function renderError(message, question, index) {
    const item = el("li", "message error");
    item.setAttribute("role", "alert");
    item.appendChild(el("p", "error-text", message));
    item.appendChild(
      button("重试", "retry", () => {
        if (busy) return;
        item.remove();
        ask(question, index);
      }),
    );
    return item;
  }

  function render() {
    list.replaceChildren();
    state.messages.forEach((m, i) => {
      if (m.type !== "question") {
        list.appendChild(renderAnswer(m.data));
        return;
      }
      list.appendChild(renderQuestion(m.text));
      const next = state.messages[i + 1];
      // asked before the reload but never answered (an error, or the tab closed while waiting)
      if (!next || next.type !== "answer") list.appendChild(renderError("这个问题还没有得到回答。", m.text, i));
    });
    emptyState.hidden = state.messages.length > 0;
  }

  async function errorMessage(response) {
    let message = "";
    try {
      const body = await response.json();
      message = body && body.error && body.error.message ? String(body.error.message) : "";
    } catch (err) {
      // not JSON (a proxy's error page): fall back to the status below
    }
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After");
      return "请求太频繁了，请" + (wait ? " " + wait + " 秒后" : "稍后") + "再试。";
    }
    if (response.status >= 500) return "服务器暂时出错了（" + response.status + "），请稍后重试。";
    return message || "请求失败（" + response.status + "）。";
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    pending.hidden = !on;
    form.setAttribute("aria-busy", String(on));
  }

  // Ask a new question, or (with index) ask again the unanswered question stored at that index.
  async function ask(question, index) {
    if (busy) return;
    const conversation = state;
    if (index === undefined) {
      state.messages.push({ type: "question", text: question });
      index = state.messages.length - 1;
      save();
      list.appendChild(renderQuestion(question));
      emptyState.hidden = true;
    }
    setBusy(true);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ASK_TIMEOUT_MS);
    let error = "";
    let data = null;
    try {
      const body = { question: question, channel: "web" };
      if (state.conversationId) body.conversation_id = state.conversationId;
      const response = await fetch("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (response.ok) data = await response.json();
      else error = await errorMessage(response);
    } catch (err) {
      if (err && err.name === "AbortError") error = "等待回答超时，请重试。";
      else if (err instanceof SyntaxError) error = "服务器的回复无法识别，请稍后重试。";
      else error = "无法连接服务器，请检查网络后重试。";
    } finally {
      clearTimeout(timer);
      setBusy(false);
    }
    if (conversation !== state) return; // 新对话 was pressed while waiting: this reply belongs to the old one
    if (data) {
      state.conversationId = data.conversation_id || state.conversationId;
      // the answer goes right after its question, also when an older question is retried
      state.messages.splice(index + 1, 0, { type: "answer", data: data });
      save();
      if (index === state.messages.length - 2) list.appendChild(renderAnswer(data));
      else render();
    } else {
      list.appendChild(renderError(error, question, index));
    }
    if (list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  function submitInput() {
    const question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });

  input.addEventListener("keydown", (event) => {
    // Enter while an IME is composing Chinese picks a candidate; it must not send
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });

  document.querySelectorAll("button.example").forEach((b) => {
    b.addEventListener("click", () => {
      ask(b.dataset.question);
      input.focus();
    });
  });

  newChat.addEventListener("click", () => {
    state = { conversationId: "", messages: [] };
    save();
    render();
    input.value = "";
    input.focus();
  });

  render();
})();
