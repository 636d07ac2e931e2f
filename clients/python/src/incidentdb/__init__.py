"""A Python client for the incidentdb REST API.

    from incidentdb import Client
    client = Client("http://127.0.0.1:8080", token="...")
    df = client.incidents(region="Southern Asia", from_="2020-11", to="2020-11")
"""

from .client import CASUALTY_COLUMNS, Client, IncidentDBError

__all__ = ["Client", "IncidentDBError", "CASUALTY_COLUMNS"]
__version__ = "0.1.0"
