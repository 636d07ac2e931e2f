"""The client against a real incidentdb. Each test writes its incidents under a dataset of its
own (the `tag` fixture), so the tests share one server and may run in any order."""

import copy
import json
import time

import pandas as pd
import pytest
import requests

from incidentdb import Client, IncidentDBError


@pytest.fixture(scope="session")
def kabul(base):
    """Makes the Kabul record, the OpenAPI document's example of an incident, under a dataset
    and with the changes given."""
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    example = document["components"]["schemas"]["IncidentBody"]["example"]

    def make(dataset, **changes):
        return {**copy.deepcopy(example), "dataset": dataset, **changes}

    return make


@pytest.fixture(scope="session")
def baghdad(kabul):
    def make(dataset, **changes):
        return kabul(dataset, location={"country_code": "IQ", "admin1": "Baghdad",
                                       "place": "Baghdad", "latitude": 33.31,
                                       "longitude": 44.37, "geo_precision": "place"},
                     casualties={"killed": {"low": 2, "best": 3, "high": 4},
                                 "injured": {"low": None, "best": None, "high": None}},
                     **changes)

    return make


@pytest.fixture
def five(client, tag, kabul, baghdad):
    """Five incidents: three in Afghanistan in November 2020, one in January 2021, one in
    Iraq in November 2020."""
    made = [client.create(kabul(tag, occurred_on=day))
            for day in ("2020-11-21", "2020-11-02", "2020-11-03", "2021-01-05")]
    made.append(client.create(baghdad(tag, occurred_on="2020-11-10")))
    return made


def test_create_then_get_round_trip(client, tag, kabul):
    created = client.create(kabul(tag, external_id="kabul-1"), reason="round trip")
    assert created["id"] > 0 and created["version"] == 1
    assert created["location"]["country_code"] == "AFG"
    assert created["location"]["subregion"] == "Southern Asia"
    assert created["casualties"]["injured"]["best"] is None, "unknown stays null"
    fetched = client.get(created["id"])
    assert fetched == created
    with pytest.raises(IncidentDBError) as conflict:
        client.create(kabul(tag, external_id="kabul-1"))
    assert conflict.value.status == 409


def test_list_with_region_and_dates_equals_the_total(client, tag, five):
    filters = dict(region="Southern Asia", from_="2020-11", to="2020-11", dataset=tag)
    listed = list(client.iter_incidents(**filters))
    total = client.page(count=True, **filters)["total"]
    assert total == 3
    assert len(listed) == total == client.count(**filters)
    assert {i["occurred_on"] for i in listed} == {"2020-11-21", "2020-11-02", "2020-11-03"}
    # A list filter: any of the countries (sent comma-joined).
    both = list(client.iter_incidents(country=["AF", "IQ"], from_="2020-11", to="2020-11",
                                      dataset=tag))
    assert len(both) == 4
    # Paging by Link rel="next": two a page, every incident once.
    paged = [i["id"] for i in client.iter_incidents(dataset=tag, limit=2)]
    assert sorted(paged) == sorted(i["id"] for i in five)


def test_incidents_dataframe_has_every_row_and_killed_best(client, tag, five):
    frame = client.incidents(dataset=tag)
    assert len(frame) == 5 == client.count(dataset=tag)
    assert str(frame["killed_best"].dtype) == "Int64"
    assert frame["killed_best"].sum() == 8 * 4 + 3
    assert frame["injured_best"].isna().all(), "unknown is <NA>, never 0"
    assert set(frame["country_code"]) == {"AFG", "IRQ"}
    assert list(frame.columns[:3]) == ["id", "dataset", "external_id"]
    assert frame.loc[frame["country_code"] == "AFG", "perpetrators"].iloc[0] == \
        "Islamic State | Taliban"
    # The same rows as the CSV export read by pandas directly.
    direct = pd.read_csv(f"{client.base_url}v1/incidents?format=csv&dataset={tag}")
    assert list(direct.columns) == list(frame.columns)
    assert sorted(direct["id"]) == sorted(frame["id"])
    chosen = client.incidents(dataset=tag, region="Southern Asia",
                              columns=["place", "killed_best"])
    assert list(chosen.columns) == ["place", "killed_best"] and len(chosen) == 4


def test_stats_dataframe(client, tag, five):
    frame = client.stats(group_by="country", dataset=tag, from_="2020-11", to="2020-11")
    assert list(frame.columns[:3]) == ["country", "incidents", "killed_low"]
    rows = frame.set_index("country")
    assert rows.loc["AFG", "incidents"] == 3 and rows.loc["AFG", "killed_best"] == 24
    assert rows.loc["AFG", "injured_low"] == 75 and pd.isna(rows.loc["AFG", "injured_best"])
    assert rows.loc["AFG", "injured_unknown"] == 3
    assert rows.loc["IRQ", "incidents"] == 1 and rows.loc["IRQ", "killed_high"] == 4
    two = client.stats(group_by=["country", "month"], dataset=tag)
    assert len(two) == 3 and two["incidents"].sum() == 5
    assert list(two.columns[:2]) == ["country", "month"]


def test_import_file_reports_inserted_rows(client, tag, shared):
    path = shared / "datasets" / "ucdp_dev.csv"
    if not path.exists():
        pytest.fail(f"{path} is missing: the shared datasets are expected beside the repository")
    report = client.import_file(str(path), format="ucdp", dataset=tag)
    assert report["inserted"] == 200, report
    assert report["error_count"] == 0 and report["skipped"] == 0
    assert client.count(dataset=tag) == 200
    again = client.import_file(str(path), format="ucdp", dataset=tag)
    assert again["inserted"] == 0 and again["unchanged"] == 200, again


def test_errors_carry_the_problem(client, kabul):
    with pytest.raises(IncidentDBError) as unknown:
        client.page(country="Afghanstan")
    error = unknown.value
    assert error.status == 400 and error.title == "Invalid parameter"
    assert error.parameter == "country" and "Afghanistan" in error.suggestions
    assert "Afghanstan" in error.detail and "Afghanstan" in str(error)
    with pytest.raises(IncidentDBError) as missing:
        client.get(987654321)
    assert missing.value.status == 404 and missing.value.problem["status"] == 404
    with pytest.raises(IncidentDBError) as invalid:
        client.create({"occurred_on": "2020-13-40"})
    assert invalid.value.status == 422 and invalid.value.errors
    with pytest.raises(IncidentDBError) as anonymous:
        Client(client.base_url).create(kabul("anonymous"))
    assert anonymous.value.status == 401


def test_sync_mirrors_changes_and_deletions(client, tag, five, tmp_path):
    mirror = str(tmp_path / "mirror.ndjson")
    first = client.sync(mirror, dataset=tag)
    assert first["since"] is None and first["incidents"] == 5 and first["upserted"] == 5
    state = json.loads(open(mirror + ".state.json").read())
    assert state["as_of"] == first["as_of"]
    assert {i["id"] for i in Client.read_mirror(mirror)} == {i["id"] for i in five}

    changed, gone = five[0], five[1]
    client.update(changed["id"], {"casualties": {"killed": {"high": 10}}},
                  if_match=changed["version"])
    client.delete(gone["id"])
    second = client.sync(mirror, dataset=tag)
    assert second["since"] is not None and second["deleted"] == 1, second
    assert second["incidents"] == 4
    mirrored = {i["id"]: i for i in Client.read_mirror(mirror)}
    assert gone["id"] not in mirrored
    assert mirrored[changed["id"]]["casualties"]["killed"]["high"] == 10
    assert mirrored[changed["id"]]["version"] == 2
    # The mirror equals the service's own export, line for line (as sets of incidents).
    exported = [json.loads(line) for line in
                client.export("ndjson", dataset=tag).decode().splitlines() if line]
    assert sorted(mirrored.values(), key=lambda i: i["id"]) == \
        sorted(exported, key=lambda i: i["id"])
    # A sync with nothing new changes nothing.
    third = client.sync(mirror, dataset=tag)
    assert third["deleted"] == 0 and third["incidents"] == 4
    assert {i["id"]: i for i in Client.read_mirror(mirror)} == mirrored


def test_retries_429_after_retry_after(limited_base, token):
    patient = Client(limited_base, token=token, max_retries=5)
    started = time.monotonic()
    for _ in range(4):
        patient.page(limit=1)
    assert patient.retried >= 1, "a burst of 1 at 1 a second must have been answered 429"
    assert time.monotonic() - started >= 1.0
    impatient = Client(limited_base, token=token, max_retries=0)
    with pytest.raises(IncidentDBError) as refused:
        for _ in range(5):
            impatient.page(limit=1)
    assert refused.value.status == 429
    assert refused.value.response.headers.get("Retry-After")
    assert refused.value.title
