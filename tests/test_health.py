from sqlalchemy import create_engine, text


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(app, client):
    store = app.extensions["herald"].store
    store.engine = create_engine("sqlite:////nonexistent-dir/herald.db")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_readyz_checks_the_database_and_its_schema(app, client):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["database"] == "ok"
    assert ready.get_json()["broker"].startswith("not used")  # tests run background work in-process
    store = app.extensions["herald"].store
    _, head = store.schema_revisions()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        behind = client.get("/readyz")
    finally:  # the database is shared with later tests: put the record back
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert behind.status_code == 503 and "flask --app app db upgrade" in behind.get_json()["database"]


def test_readyz_is_not_ready_when_the_broker_is_unreachable(tmp_path, clock, sqlite_template):
    from tests.conftest import make_app

    app = make_app("sqlite", tmp_path, clock, sqlite_template, tasks="celery",
                   broker_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    body = app.test_client().get("/readyz")
    assert body.status_code == 503 and body.get_json() == {"status": "error", "database": "ok",
                                                         "broker": "unreachable"}


def test_metrics_count_sends_webhooks_and_queue_depth(client, ctx):
    from app.services.demo import CUSTOMERS, DEMO
    from app.services.send import SendRequest, send

    def sample(text_: str, name: str, **labels) -> float:
        for line in text_.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = client.get("/metrics").get_data(as_text=True)
    send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel is on its way."))
    send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["opted_out"], text="Your parcel is late."))
    client.post("/webhooks/twilio", data={"MessageSid": "SM1"})  # unsigned: refused
    after = client.get("/metrics")
    assert after.status_code == 200 and after.content_type.startswith("text/plain")
    body = after.get_data(as_text=True)
    assert sample(body, "herald_sends_total", channel="sms", outcome="sent") == \
        sample(before, "herald_sends_total", channel="sms", outcome="sent") + 1
    assert sample(body, "herald_sends_total", channel="sms", outcome="refused") == \
        sample(before, "herald_sends_total", channel="sms", outcome="refused") + 1
    assert sample(body, "herald_webhook_events_total", provider="twilio", result="refused") >= 1
    assert sample(body, "herald_provider_call_seconds_count", provider="sandbox") >= 1
    assert 'herald_queue_depth{queue="writebacks"} 0.0' in body
