from sqlalchemy import create_engine


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
