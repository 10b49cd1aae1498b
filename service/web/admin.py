"""GET /admin, /api/admin/stats and the CSV exports, behind a bearer token (no token configured: 404)."""
from __future__ import annotations

import hmac
import re

from flask import Blueprint, Response, abort, current_app, jsonify, render_template_string, request

from ..store import Store, report
from .errors import ApiError

bp = Blueprint("admin", __name__)

MAX_DAYS = 3650
DAYS_RE = re.compile(r"[0-9]{1,4}")
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政策问答 · 管理</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.n{text-align:right}.clause{color:#555;font-size:90%;max-width:40em}
</style></head><body>
<h1>政策问答 · 管理</h1>
<p>最近 {{ s.days }} 天（自 {{ s.since }}，UTC）：{{ s.questions }} 个问题，{{ s.conversations }} 个对话；
已回答 {{ s.answered }}，未回答 {{ s.refused }}，回答率
{{ "-" if s.answer_rate is none else "%.1f%%" % (s.answer_rate * 100) }}；
平均耗时 {{ s.latency_ms.avg }} ms。渠道：
{% for c, n in s.channels.items() %}{{ c }} {{ n }}{{ "，" if not loop.last }}{% endfor %}</p>
<p>反馈：👍 {{ s.feedback.up }} · 👎 {{ s.feedback.down }} · 附意见 {{ s.feedback.comments }}</p>
<p>导出 CSV：<a href="{{ url_for('admin.unanswered_csv', days=s.days) }}">未回答队列</a> ·
<a href="{{ url_for('admin.turns_csv', days=s.days) }}">全部问答</a></p>
<h2>每日问题数</h2>
<table><tr><th>日期</th><th>问题</th><th>已回答</th></tr>
{% for d in s.per_day %}<tr><td>{{ d.date }}</td><td class="n">{{ d.questions }}</td>
<td class="n">{{ d.answered }}</td></tr>{% else %}<tr><td colspan="3">暂无</td></tr>{% endfor %}
</table>
<h2>未回答队列（拒答与差评，按问题归并，最新在前）</h2>
<table><tr><th>最近</th><th>次数</th><th>拒答</th><th>差评</th><th>问题</th><th>最接近的条款</th></tr>
{% for q in s.unanswered %}<tr><td>{{ q.last_asked }}</td><td class="n">{{ q.count }}</td>
<td class="n">{{ q.refusals }}</td><td class="n">{{ q.down_votes }}</td><td>{{ q.question }}</td>
<td class="clause">{% if q.near_clause %}《{{ q.near_clause.document }}》{{ q.near_clause.section }}
{{ q.near_clause.clause }}<br>{{ q.near_clause.text|truncate(160) }}{% else %}-{% endif %}</td></tr>
{% else %}<tr><td colspan="6">暂无</td></tr>{% endfor %}
</table>
<h2>最近的意见</h2>
<table><tr><th>时间</th><th>评价</th><th>问题</th><th>意见</th></tr>
{% for c in s.recent_comments %}<tr><td>{{ c.at }}</td><td>{{ "👍" if c.rating == "up" else "👎" }}</td>
<td>{{ c.question }}</td><td>{{ c.comment }}</td></tr>{% else %}<tr><td colspan="4">暂无</td></tr>{% endfor %}
</table>
</body></html>
"""


def store() -> Store:
    return current_app.extensions["store"]


@bp.before_request
def require_token():
    """Admin exists only when ADMIN_TOKEN is set, and answers only to that bearer token."""
    token = current_app.config["ADMIN_TOKEN"]
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"code": "unauthorized", "message": "需要有效的管理令牌"}})
    else:
        response = Response("需要有效的管理令牌 (Authorization: Bearer …)\n", mimetype="text/plain")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="policy-qa admin"'
    return response


@bp.after_request
def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    return response


def read_days() -> int:
    raw = request.args.get("days", "30")
    # ASCII digits only: str.isdigit() also takes "¹", which int() refuses
    if not DAYS_RE.fullmatch(raw) or not 1 <= int(raw) <= MAX_DAYS:
        raise ApiError(400, "invalid_days", f"days 须为 1 到 {MAX_DAYS} 之间的整数")
    return int(raw)


def current_stats() -> dict:
    stats = store().stats(read_days())
    stats["unanswered"] = report.with_clauses(stats["unanswered"], current_app.extensions["qa"].by_id)
    return stats


def csv_response(text: str, name: str) -> Response:
    # a BOM so that Excel opens the Chinese text as UTF-8
    return Response("\ufeff" + text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/admin")
def page():
    try:
        stats = current_stats()
    except ApiError as err:
        return Response(err.message + "\n", status=err.status, mimetype="text/plain")
    return render_template_string(PAGE, s=stats)


@bp.get("/api/admin/stats")
def stats_json():
    return jsonify(current_stats())


@bp.get("/api/admin/unanswered.csv")
def unanswered_csv():
    rows = report.queue_rows(current_stats()["unanswered"])
    return csv_response(report.to_csv(rows, report.QUEUE_COLUMNS), "unanswered.csv")


@bp.get("/api/admin/turns.csv")
def turns_csv():
    rows = report.turn_rows(store().export_turns(read_days()))
    return csv_response(report.to_csv(rows, report.TURN_COLUMNS), "turns.csv")
