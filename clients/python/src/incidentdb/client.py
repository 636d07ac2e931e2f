"""The incidentdb client: one `requests.Session`, retries on 429/503, problem+json errors."""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urljoin

import requests

__all__ = ["Client", "IncidentDBError", "CASUALTY_COLUMNS"]

# The CSV export's casualty columns: whole numbers where known, empty where unknown. The
# DataFrame gives them pandas' nullable integer type, so an unknown figure stays <NA> (never 0,
# and not a float NaN that turns 8 into 8.0).
CASUALTY_COLUMNS = (
    "killed_low", "killed_best", "killed_high",
    "injured_low", "injured_best", "injured_high",
)
_STATS_COUNT_COLUMNS = ("incidents",) + tuple(
    f"{kind}_{part}" for kind in ("killed", "injured") for part in ("low", "best", "high", "unknown")
)

# How far before the last `as_of` a sync reads again (the README's "minus a minute": a write in
# flight when `as_of` was read may carry a slightly earlier time; imports are idempotent).
SYNC_MARGIN = _dt.timedelta(minutes=1)


class IncidentDBError(Exception):
    """An answer that is not a success, with the service's RFC 9457 problem document.

    `status` is the HTTP status; `title`, `detail`, `parameter` (the query or path
    parameter at fault, if any), `suggestions` (closest known names) and `errors` (invalid
    fields or import rows) come from the problem; `problem` is the whole document (empty when
    the answer was not problem+json).
    """

    def __init__(self, status: int, problem: Dict[str, Any], response: Optional[requests.Response] = None):
        self.status = status
        self.problem = problem
        self.response = response
        self.type = problem.get("type")
        self.title = problem.get("title") or (response.reason if response is not None else None)
        self.detail = problem.get("detail")
        self.parameter = problem.get("parameter")
        self.suggestions = problem.get("suggestions")
        self.errors = problem.get("errors")
        message = f"{status} {self.title or ''}".strip()
        if self.detail:
            message += f": {self.detail}"
        super().__init__(message)


def _pandas():
    try:
        import pandas  # noqa: F401
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "this method returns a pandas DataFrame: pip install 'incidentdb[pandas]'"
        ) from error
    return pandas


def _param_value(value: Any) -> Optional[str]:
    """A filter value as the API reads it: lists comma-joined, booleans lower case."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return ",".join(_param_value(item) for item in items)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


def _params(filters: Dict[str, Any]) -> Dict[str, str]:
    """Keyword filters as query parameters. `from_` stands for `from` (a Python keyword);
    None leaves a filter out."""
    params = {}
    for name, value in filters.items():
        name = name[:-1] if name.endswith("_") else name
        text = _param_value(value)
        if text is not None:
            params[name] = text
    return params


def _parse_time(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _format_time(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


class Client:
    """A client of one incidentdb service.

    `Client("http://127.0.0.1:8080", token="...")`: `token` is an API key (needed for writes,
    and for reads when the service sets `INCIDENTDB_READ_REQUIRES_KEY`). Answers 429 (over the
    rate limit) and 503 (busy) are retried after their `Retry-After`, at most `max_retries`
    times and never waiting more than `max_wait` seconds at once; any other failure raises
    `IncidentDBError`. `retried` counts the retries made so far.
    """

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        max_wait: float = 30.0,
        session: Optional[requests.Session] = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.retried = 0
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "incidentdb-python/0.1")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    # -- the one way requests are made ------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Dict[str, str]] = None,
        json_body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        data: Optional[Callable[[], Any]] = None,
        stream: bool = False,
    ) -> requests.Response:
        """Sends a request, retrying 429 and 503 after `Retry-After`; raises on failure.

        `data` is a callable giving a fresh body each try (an upload reopens its file)."""
        url = urljoin(self.base_url, path.lstrip("/")) if not path.startswith("http") else path
        attempt = 0
        while True:
            body = data() if data is not None else None
            try:
                response = self.session.request(
                    method, url, params=params, json=json_body, data=body,
                    headers=headers, timeout=self.timeout, stream=stream,
                )
            finally:
                if hasattr(body, "close"):
                    body.close()
            if response.status_code in (429, 503) and attempt < self.max_retries:
                retry_after = response.headers.get("Retry-After")
                if retry_after is not None or response.status_code == 429:
                    response.close()
                    attempt += 1
                    self.retried += 1
                    time.sleep(self._wait(retry_after, attempt))
                    continue
            if response.status_code >= 400:
                raise self._error(response)
            return response

    def _wait(self, retry_after: Optional[str], attempt: int) -> float:
        try:
            seconds = float(retry_after) if retry_after is not None else float(attempt)
        except ValueError:  # an HTTP date: wait a second a try
            seconds = float(attempt)
        return max(0.0, min(seconds, self.max_wait))

    @staticmethod
    def _error(response: requests.Response) -> IncidentDBError:
        try:
            problem = response.json()
            if not isinstance(problem, dict):
                problem = {}
        except ValueError:
            problem = {"detail": response.text[:1000]} if response.text else {}
        return IncidentDBError(response.status_code, problem, response)

    # -- single incidents -------------------------------------------------------------------

    def get(self, id: int, *, version: Optional[int] = None, as_of: Any = None) -> Dict[str, Any]:
        """The incident `id` as served (a dict), or an older `version` of it, or as it was
        at `as_of`. Raises `IncidentDBError` (status 404) when there is none."""
        params = _params({"version": version, "as_of": as_of})
        return self._request("GET", f"v1/incidents/{int(id)}", params=params).json()

    def create(self, incident: Dict[str, Any], *, reason: Optional[str] = None) -> Dict[str, Any]:
        """Creates an incident (editor key) and returns it as stored, with its `id` and
        `version`. `incident` is the API's input shape (see `POST /v1/incidents`); `reason`
        goes to its history. Raises `IncidentDBError` (409: its dataset + external_id exist;
        422: invalid fields, listed in `errors`)."""
        headers = {"X-Change-Reason": reason} if reason else None
        return self._request("POST", "v1/incidents", json_body=incident, headers=headers).json()

    def update(
        self, id: int, patch: Dict[str, Any], *, if_match: Optional[int] = None,
        reason: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Changes incident `id` with a JSON merge patch (editor key) and returns it.
        `if_match`, a version, refuses the change (412) when the incident moved on since."""
        headers = {"Content-Type": "application/merge-patch+json"}
        if if_match is not None:
            headers["If-Match"] = f'"{int(if_match)}"'
        if reason:
            headers["X-Change-Reason"] = reason
        response = self._request(
            "PATCH", f"v1/incidents/{int(id)}", headers=headers,
            data=lambda: json.dumps(patch).encode(),
        )
        return response.json()

    def delete(self, id: int, *, if_match: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Deletes incident `id` (editor key); it then appears in the deletions feed."""
        headers = {}
        if if_match is not None:
            headers["If-Match"] = f'"{int(if_match)}"'
        if reason:
            headers["X-Change-Reason"] = reason
        self._request("DELETE", f"v1/incidents/{int(id)}", headers=headers or None)

    # -- lists ------------------------------------------------------------------------------

    def page(self, **filters: Any) -> Dict[str, Any]:
        """One page of `GET /v1/incidents` as the API answers it (`data`, `next_cursor`,
        `total` with `count=True`). Filters as for `iter_incidents`."""
        return self._request("GET", "v1/incidents", params=_params(filters)).json()

    def iter_incidents(self, **filters: Any) -> Iterator[Dict[str, Any]]:
        """Every incident matching the filters, as dicts, page by page (1000 a page unless
        `limit` is given), following each page's `Link: rel="next"`, which carries the cursor.

        Filters are `GET /v1/incidents`' parameters as keywords: `country=["AF", "IQ"]` (a
        list means any of them; it is sent comma-joined, so a value may not contain a comma
        there), `region="Southern Asia"`, `from_="2020-11"` (`from` is a Python keyword),
        `to="2020-11"`, `perpetrator`, `claim`, `killed_min`, `q`, `updated_since`, `sort`, ...
        Pages are stable while incidents are written (the cursor is a position, not an
        offset)."""
        params = _params(filters)
        params.setdefault("limit", "1000")
        url: Optional[str] = "v1/incidents"
        while url:
            response = self._request("GET", url, params=params)
            for incident in response.json()["data"]:
                yield incident
            following = response.links.get("next")
            url, params = (following["url"], None) if following else (None, None)

    def count(self, **filters: Any) -> int:
        """How many incidents match the filters (`count=true`, one incident fetched)."""
        filters = dict(filters, count=True, limit=1)
        return int(self.page(**filters)["total"])

    def export(self, format: str = "csv", **filters: Any) -> bytes:
        """The export of every match in `format` (`csv`, `geojson` or `ndjson`), as bytes.
        CSV takes `columns=[...]` and `bom=True` too."""
        filters = dict(filters, format=format)
        return self._request("GET", "v1/incidents", params=_params(filters)).content

    def incidents(self, **filters: Any):
        """Every incident matching the filters as a pandas DataFrame (needs
        `incidentdb[pandas]`), one row an incident, in the flat columns of the CSV export:
        `id`, `dataset`, `external_id`, `occurred_on`, ..., `country_code` ... `place`,
        `latitude`, `longitude`, `killed_low` ... `injured_high`, `perpetrators`,
        `perpetrator_claims`, `source_urls`, `source_titles` (joined by ` | `), `attributes`
        (JSON), `version`, `created_at`, `updated_at`.

        It reads the service's CSV export: one streamed answer with every match (no page
        limit) whose columns are the service's own flattening, so the DataFrame has exactly
        the columns `pd.read_csv` of the export URL would. Casualty figures are nullable
        integers (unknown stays <NA>, never 0); text is kept as written ("NA" is a place, not
        a missing value); dates stay ISO strings. `columns=[...]` chooses columns."""
        pd = _pandas()
        raw = self.export("csv", **filters)
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig")
        return self._typed(frame, CASUALTY_COLUMNS + ("id", "version"), ("latitude", "longitude"))

    @staticmethod
    def _typed(frame, integers, floats):
        pd = _pandas()
        for column in integers:
            if column in frame:
                frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        for column in floats:
            if column in frame:
                frame[column] = pd.to_numeric(frame[column]).astype("float64")
        return frame

    def stats(self, group_by: Any = None, **filters: Any):
        """Counts and casualty sums of the matching incidents, grouped by up to three keys
        (`group_by="country"` or `["country", "year"]`: `country`, `region`, `subregion`,
        `source_region`, `admin1`, `year`, `month`, `event_type`, `perpetrator`, `claim`,
        `dataset`, `geo_precision`, `cell`), as a pandas DataFrame: one column per key, then
        `incidents`, `killed_low`, `killed_best`, `killed_high`, `killed_unknown` (incidents
        without a best figure), the same for `injured`, and with `cell` the mean `latitude`
        and `longitude`. Sums cover the known figures only; a sum with no known figure is <NA>.
        Without `group_by`: one row, the totals."""
        pd = _pandas()
        params = _params(dict(filters, group_by=group_by))
        answer = self._request("GET", "v1/stats", params=params).json()
        keys = answer["group_by"]
        rows = []
        for row in answer["data"]:
            flat = {key: row["group"].get(key) for key in keys}
            flat["incidents"] = row["incidents"]
            for kind in ("killed", "injured"):
                for part in ("low", "best", "high", "unknown"):
                    flat[f"{kind}_{part}"] = row[kind].get(part)
            if "cell" in keys:
                flat["latitude"] = row.get("latitude")
                flat["longitude"] = row.get("longitude")
            rows.append(flat)
        columns = list(keys) + list(_STATS_COUNT_COLUMNS)
        if "cell" in keys:
            columns += ["latitude", "longitude"]
        frame = pd.DataFrame(rows, columns=columns)
        for key in keys:
            frame[key] = frame[key].astype("object")
        return self._typed(frame, _STATS_COUNT_COLUMNS, ("latitude", "longitude"))

    # -- imports ----------------------------------------------------------------------------

    def import_file(
        self, path: str, format: str, *, dataset: Optional[str] = None,
        on_error: Optional[str] = None, on_conflict: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Imports a file (editor key) of `format` `acled`, `ucdp`, `gtd` or `ndjson`,
        streamed from disk, and returns the report: `inserted`, `updated`, `unchanged`,
        `skipped`, `error_count`, `errors`, `warning_count`, `warnings`, `conflict_count`,
        `conflicts`. `on_error="skip"` writes the valid rows (default `abort`: a file with a
        bad row writes nothing and raises `IncidentDBError` whose `errors` list the rows);
        `on_conflict="overwrite"` drops corrections made through the API since."""
        params = _params({"format": format, "dataset": dataset, "on_error": on_error,
                          "on_conflict": on_conflict})
        response = self._request(
            "POST", "v1/imports", params=params, data=lambda: open(path, "rb"),
            headers={"Content-Type": "application/octet-stream"},
        )
        return response.json()

    # -- a local mirror ---------------------------------------------------------------------

    def sync(self, path: str, **filters: Any) -> Dict[str, Any]:
        """Keeps `path`, a local NDJSON file (one incident a line, as the NDJSON export serves
        them), a current copy of the service, by the README's recipe ("Keeping a mirror in
        sync"). Its state, the `as_of` of the last sync, is kept beside it in
        `path + ".state.json"`.

        First sync (no state): read `GET /v1/incidents/deleted` and keep its `as_of`, then
        write the whole NDJSON export. Every later sync: with T = the last `as_of` minus a
        minute, read `GET /v1/incidents/deleted?since=T` (keep the new `as_of`) and remove
        those incidents (matched by `dataset` + `external_id`), then read the NDJSON export
        with `updated_since=T` and add or replace its incidents (same key). The file is
        rewritten whole and renamed into place, then the state; an interrupted sync leaves
        the last good pair. `filters` (e.g. `country=["AF"]`) narrow the export; keep them the
        same from one sync to the next.

        Returns `{"as_of", "since", "deleted", "upserted", "incidents"}`: `since` is None on
        the first sync; `deleted` and `upserted` count the lines removed and written from
        the service this time; `incidents` is the mirror's size."""
        state_path = path + ".state.json"
        state = None
        if os.path.exists(state_path) and os.path.exists(path):
            with open(state_path, encoding="utf-8") as file:
                state = json.load(file)
        export_filters = dict(filters, format="ndjson")
        if state is None:
            as_of = self._request("GET", "v1/incidents/deleted").json()["as_of"]
            mirror: Dict[Tuple, Dict[str, Any]] = {}
            upserted = self._read_ndjson(export_filters, mirror)
            since, deleted = None, 0
        else:
            since = _format_time(_parse_time(state["as_of"]) - SYNC_MARGIN)
            feed = self._request("GET", "v1/incidents/deleted", params={"since": since}).json()
            as_of = feed["as_of"]
            mirror = self._load(path)
            deleted = 0
            for gone in feed["data"]:
                if mirror.pop(self._key(gone), None) is not None:
                    deleted += 1
            upserted = self._read_ndjson(dict(export_filters, updated_since=since), mirror)
        self._write_atomically(path, "".join(
            json.dumps(incident, ensure_ascii=False, separators=(",", ":")) + "\n"
            for incident in sorted(mirror.values(), key=lambda i: i.get("id") or 0)
        ))
        self._write_atomically(state_path, json.dumps({"as_of": as_of, "since": since}) + "\n")
        return {"as_of": as_of, "since": since, "deleted": deleted, "upserted": upserted,
                "incidents": len(mirror)}

    @staticmethod
    def _key(incident: Dict[str, Any]) -> Tuple:
        """The public key a mirror knows an incident by: dataset + external_id (the id only
        for the rare incident without an external_id)."""
        if incident.get("external_id") is None:
            return (incident.get("dataset"), None, incident.get("id"))
        return (incident.get("dataset"), incident["external_id"])

    def _read_ndjson(self, filters: Dict[str, Any], mirror: Dict[Tuple, Dict[str, Any]]) -> int:
        count = 0
        response = self._request("GET", "v1/incidents", params=_params(filters), stream=True)
        with response:
            for line in response.iter_lines():
                if line.strip():
                    incident = json.loads(line)
                    mirror[self._key(incident)] = incident
                    count += 1
        return count

    def _load(self, path: str) -> Dict[Tuple, Dict[str, Any]]:
        mirror = {}
        with open(path, encoding="utf-8") as file:
            for line in file:
                if line.strip():
                    incident = json.loads(line)
                    mirror[self._key(incident)] = incident
        return mirror

    @staticmethod
    def _write_atomically(path: str, text: str) -> None:
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incidentdb-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    @staticmethod
    def read_mirror(path: str) -> List[Dict[str, Any]]:
        """The incidents of a mirror written by `sync`, as dicts."""
        with open(path, encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]
