"""The generated client against a running incidentdb: python check.py BASE_URL TOKEN."""

import json
import sys
import urllib.request

from incidentdb_client import AuthenticatedClient
from incidentdb_client.api.incidents import create_incident, list_incidents
from incidentdb_client.api.stats import get_stats
from incidentdb_client.models import GroupKey, IncidentBody

base, token = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base, token=token)

# The Kabul record: the OpenAPI document's example of an incident.
with urllib.request.urlopen(f"{base}/openapi.json") as answer:
    kabul = json.load(answer)["components"]["schemas"]["IncidentBody"]["example"]
created = create_incident.sync_detailed(client=client, body=IncidentBody.from_dict(kabul))
assert created.status_code == 201, created.content
incident = created.parsed
assert incident.location.region == "Asia", incident.location
assert incident.casualties.injured.best is None, "unknown stays null"

for day in ("2020-11-02", "2020-11-03", "2021-01-05"):
    other = dict(kabul, occurred_on=day, perpetrators=[])
    assert create_incident.sync_detailed(
        client=client, body=IncidentBody.from_dict(other)).status_code == 201

listed = list_incidents.sync(client=client, region=["Southern Asia"], from_="2020-11",
                             to="2020-11", count=True)
assert listed.total == 3, listed
assert {i.occurred_on.isoformat() for i in listed.data} == {"2020-11-21", "2020-11-02", "2020-11-03"}

seen = []
page = list_incidents.sync(client=client, country=["AF"], limit=2)
while True:
    seen.extend(i.id for i in page.data)
    if not page.next_cursor:
        break
    page = list_incidents.sync(client=client, country=["AF"], limit=2, cursor=page.next_cursor)
assert len(seen) == 4 and len(set(seen)) == 4, seen

stats = get_stats.sync(client=client, group_by=[GroupKey.COUNTRY], from_="2020-11", to="2020-11")
row = stats.data[0]
assert row.incidents == 3 and row.killed.best == 24, row
assert row.injured.best is None and row.injured.low == 75, row
print("generated client: create, filtered list, paging and stats all answered as expected")
