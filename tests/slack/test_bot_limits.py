"""Rate limits on the bot routes count per platform user, since every request comes from the platform's address."""
from __future__ import annotations

from tests.slack.slack_helpers import FORM, JSON_CT, MM_TOKEN, command_body, drain, event_body, post_signed, unique
from tests.slack.test_mattermost import form


def test_slack_commands_are_limited_per_user_not_per_address(make_app, response_url_server):
    app = make_app(RATE_LIMIT="2 per minute")
    client = app.test_client()
    busy, other = unique("U"), unique("U")

    def command(user: str):
        return post_signed(client, "/slack/commands", command_body("耕地保有量目标是多少？", response_url_server.url,
                                                                   user_id=user))

    assert [command(busy).status_code for _ in range(3)] == [200, 200, 429]
    refused = command(busy)
    assert refused.get_json()["error"]["code"] == "rate_limited" and "Retry-After" in refused.headers
    assert command(other).status_code == 200
    # a forged request naming another user is refused by its signature and costs that user nothing
    forged = client.post("/slack/commands", data=command_body("耕地保有量目标是多少？", response_url_server.url,
                                                              user_id=other), content_type=FORM,
                         headers={"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"})
    assert forged.status_code == 401
    assert command(other).status_code == 200
    drain(app)


def test_slack_events_count_against_the_user_who_wrote(make_app):
    app = make_app(RATE_LIMIT="1 per minute")
    client = app.test_client()
    busy = unique("U")

    def mention(user: str):
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> 今天天气怎么样？", "channel": unique("C"),
                 "ts": f"{unique('')[:6]}.0001"}
        return post_signed(client, "/slack/events", event_body(event), content_type=JSON_CT)

    assert [mention(busy).status_code for _ in range(2)] == [200, 429]
    assert mention(unique("U")).status_code == 200
    drain(app)


def test_mattermost_commands_are_limited_per_user(make_app):
    client = make_app(RATE_LIMIT="2 per minute").test_client()
    busy = unique("mmu")

    def command(user: str, token: str = MM_TOKEN):
        return client.post("/mattermost/commands", data=form("耕地保有量目标是多少？", user_id=user),
                           content_type=FORM, headers={"Authorization": f"Token {token}"})

    assert [command(busy).status_code for _ in range(3)] == [200, 200, 429]
    assert command(unique("mmu")).status_code == 200
    # wrong tokens are counted under the address, not under the user they name
    other = unique("mmu")
    assert [command(other, "wrong").status_code for _ in range(2)] == [401, 401]
    assert command(other).status_code == 200
