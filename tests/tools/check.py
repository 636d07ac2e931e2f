"""The tools users already have, against a real incidentdb: python check.py BASE_URL TOKEN.

curl -I (HEAD: 200, the GET's headers, no body), GDAL's /vsicurl/ through pyogrio (every
feature of the GeoJSON export, with its killed_best), and pandas.read_csv of the CSV export with
bom=true (non-ASCII names intact). Prints `tools: N passed, N failed`."""

import json
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pandas as pd
import requests

base, token = sys.argv[1], sys.argv[2]
auth = {"Authorization": f"Bearer {token}"}
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}: {detail}")


def place(country, admin1, name, lat, lon, killed, day):
    return {
        "dataset": "tools", "occurred_on": day, "event_type": "Violence against civilians",
        "description": f"An attack in {name}.",
        "location": {"country_code": country, "admin1": admin1, "place": name,
                     "latitude": lat, "longitude": lon, "geo_precision": "place"},
        "casualties": {"killed": {"low": killed, "best": killed, "high": None},
                       "injured": {"low": None, "best": None, "high": None}},
        "perpetrators": [{"name": "Ejército de Liberación Nacional", "claim": "attributed"}],
    }


created = [
    place("CO", "Bogotá D.C.", "Bogotá", 4.711, -74.072, 3, "2021-03-01"),
    place("Côte d'Ivoire", "Abidjan", "Yopougon", 5.336, -4.067, 2, "2021-03-02"),
    place("TR", "İstanbul", "Şişli", 41.06, 28.987, 1, "2021-03-03"),
]
nowhere = place("CO", "Antioquia", "Medellín", None, None, None, "2021-03-04")
nowhere["location"].update(latitude=None, longitude=None, geo_precision="admin1")
for incident in created + [nowhere]:
    answer = requests.post(f"{base}/v1/incidents", json=incident, headers=auth)
    assert answer.status_code == 201, answer.text

# -- curl -I ---------------------------------------------------------------------------------
url = f"{base}/v1/incidents?country=CO&limit=1"
head = subprocess.run(["curl", "-sS", "-I", url], capture_output=True, text=True, check=True)
lines = head.stdout.replace("\r\n", "\n").split("\n")
headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
check("curl -I: 200", lines[0].split()[1] == "200", lines[0])
check("curl -I: Content-Type application/json", headers.get("content-type", "").startswith(
    "application/json"), headers)
check("curl -I: Link rel=\"next\" (two incidents in CO, one a page)",
      'rel="next"' in headers.get("link", ""), headers.get("link"))
check("curl -I: nothing after the headers", head.stdout.endswith("\n\n"), repr(head.stdout[-40:]))
get = requests.get(url)
check("curl -I: Content-Length is the GET's", headers.get("content-length") ==
      str(len(get.content)), (headers.get("content-length"), len(get.content)))
# On the wire: a HEAD answer sends no body bytes (curl -I stops at the headers anyway).
parts = urlsplit(url)
with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
    raw.sendall(f"HEAD {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Connection: close\r\n\r\n".encode())
    received = b""
    while chunk := raw.recv(65536):
        received += chunk
head_bytes, _, body_bytes = received.partition(b"\r\n\r\n")
check("HEAD on the wire: 200 and no body", head_bytes.startswith(b"HTTP/1.1 200")
      and body_bytes == b"", repr(received[-80:]))
export_head = subprocess.run(["curl", "-sS", "-I", f"{base}/v1/incidents?format=geojson"],
                             capture_output=True, text=True, check=True).stdout
check("curl -I on the GeoJSON export: 200, application/geo+json",
      export_head.startswith("HTTP/1.1 200") and "application/geo+json" in export_head,
      export_head)

# -- GDAL: /vsicurl/ through pyogrio -----------------------------------------------------------
import pyogrio  # noqa: E402

geojson_url = f"{base}/v1/incidents?format=geojson"
total = requests.get(f"{base}/v1/incidents?count=true&limit=1").json()["total"]
export = requests.get(geojson_url)
omitted = int(export.headers["X-Omitted-Without-Coordinates"])
check("GeoJSON export: the incident without coordinates left out and counted", omitted >= 1,
      omitted)
print(f"     GDAL {pyogrio.__gdal_version_string__} (pyogrio {pyogrio.__version__}); "
      f"{total} incidents, {omitted} without coordinates")
# GDAL's /vsicurl/ (what pyogrio puts before a bare URL) asks for the size (HEAD), then for
# byte ranges; /vsicurl_streaming/ reads the stream in order, and the GeoJSON driver given the
# URL itself (`GeoJSON:http://...`) downloads it whole: all three must read the export.
for source in ("/vsicurl/" + geojson_url, "/vsicurl_streaming/" + geojson_url,
               "GeoJSON:" + geojson_url):
    frame = pyogrio.read_dataframe(source)
    name = source.split("http")[0]
    check(f"pyogrio {name}: every feature", len(frame) == total - omitted,
          (len(frame), total, omitted))
    check(f"pyogrio {name}: a killed_best column", "killed_best" in frame.columns,
          list(frame.columns))
    by_place = dict(zip(frame["place"], frame["killed_best"]))
    check(f"pyogrio {name}: killed_best values and non-ASCII places",
          by_place.get("Bogotá") == 3 and by_place.get("Şişli") == 1, by_place)
    check(f"pyogrio {name}: point geometries at the coordinates",
          set(frame.geometry.geom_type) == {"Point"} and abs(
              frame[frame["place"] == "Bogotá"].geometry.iloc[0].x + 74.072) < 1e-9,
          frame.geometry.head())
    some = pyogrio.read_dataframe(source + "&dataset=tools&country=CO,CI,TR")
    check(f"pyogrio {name}: a filtered export URL", sorted(some["place"]) ==
          ["Bogotá", "Yopougon", "Şişli"], list(some["place"]))

# -- pandas: read_csv of the export with a BOM -------------------------------------------------
csv_url = f"{base}/v1/incidents?format=csv&dataset=tools"
raw = requests.get(csv_url + "&bom=true").content
check("CSV with bom=true starts with the UTF-8 byte order mark", raw.startswith(b"\xef\xbb\xbf"),
      raw[:10])
table = pd.read_csv(csv_url + "&bom=true")
check("pd.read_csv(bom=true): the first column is `id` (the BOM is not in its name)",
      table.columns[0] == "id", table.columns[:3])
check("pd.read_csv(bom=true): every incident", len(table) == 4, len(table))
names = set(table["place"]) | set(table["admin1"]) | set(table["country"])
for name in ("Bogotá", "Bogotá D.C.", "Medellín", "Côte d'Ivoire", "Şişli", "İstanbul"):
    check(f"pd.read_csv(bom=true): {name} intact", name in names, sorted(map(str, names)))
check("pd.read_csv(bom=true): perpetrators intact",
      set(table["perpetrators"]) == {"Ejército de Liberación Nacional"}, set(table["perpetrators"]))
check("pd.read_csv(bom=true): unknown killed_best is NaN, not 0",
      table.loc[table["place"] == "Medellín", "killed_best"].isna().all(),
      table[["place", "killed_best"]])
plain = pd.read_csv(csv_url)
check("pd.read_csv without bom: the same table", plain.equals(table), plain.compare(table)
      if plain.shape == table.shape else plain.shape)

print(f"tools: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
