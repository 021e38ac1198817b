"""Real Open311 GeoReport v2 clients from PyPI against a live `aduan serve` (tests/it/open311.rs).

    python open311_client.py BASE_URL API_KEY FORMAT

BASE_URL is the endpoint (`http://127.0.0.1:PORT/open311/v2`), FORMAT `json` or `xml`. Reads go
through georeport 0.3.1 (`GeoReport`: services, a service definition, requests filtered and one
request by id); georeport cannot file a request, so the POST goes through civicbot 0.4.0's
`Open311Client` (its form builder and validation; in JSON its own transport sends it, in XML, which its
transport does not read, `requests` posts the form it built and xmltodict reads the answer, the two
libraries georeport itself uses). Both are pinned in deploy/requirements-open311.txt and installed by
deploy/open311-client.sh.

Prints one JSON object on stdout: what the clients read back, for the Rust test to check. Exits
non-zero (with the traceback on stderr) when a client fails.
"""

import json
import sys

import requests
import xmltodict
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

JURISDICTION = "35.78"


def as_list(value):
    """xmltodict reads one repeated element as a dict and none as None: a list either way."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def main(base, api_key, fmt):
    reader = GeoReport(base, jurisdiction=JURISDICTION, output_format=fmt)
    services = as_list(reader.get_service_list())
    definition = reader.get_service_definition("infrastruktur")

    form = dict(
        lat=-7.2575,
        lng=112.7521,
        address_string="Jl. Genteng Kali No. 1, Surabaya",
        description=f"Lampu jalan mati ({fmt})\nSudah tiga malam gelap.",
        media_url="https://example.org/foto/lampu.jpg",
        email="warga@example.org",
        first_name="Sri",
        last_name="Wahyuni",
    )
    endpoint = Endpoint(id="aduan", name="Aduan", base_url=base, write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0.0))
    writer = Open311Client(endpoint, transport=transport, jurisdiction_id=JURISDICTION, fmt=fmt)
    if fmt == "json":
        sent = writer.create_request(
            "infrastruktur", dry_run=False, confirm="SEND", api_key=api_key, validate_remote=True, **form
        )
        created = sent.response
    else:
        prepared = writer.build_request("infrastruktur", api_key=api_key, known_services=services, **form)
        answer = requests.post(prepared.url, data=prepared.form, timeout=20)
        answer.raise_for_status()
        created = as_list(xmltodict.parse(answer.content)["service_requests"]["request"])
    request_id = created[0]["service_request_id"]

    one = reader.get_service_request(request_id)
    by_id = as_list(reader.get_service_requests(service_request_id=request_id))
    listed = as_list(reader.get_service_requests(service_code="infrastruktur", status="open"))

    # In XML every value is text: numbers are compared as numbers.
    def number(v):
        return None if v is None else float(v)

    print(
        json.dumps(
            {
                "format": fmt,
                "service_codes": [s["service_code"] for s in services],
                "metadata": sorted({str(s["metadata"]).lower() for s in services}),
                "definition": {"service_code": definition["service_code"], "attributes": as_list(definition.get("attributes"))},
                "created": {k: created[0].get(k) for k in ("service_request_id", "service_notice", "account_id")},
                "created_keys": sorted(created[0].keys()),
                "request": {
                    "service_request_id": one["service_request_id"],
                    "status": one["status"],
                    "service_code": one["service_code"],
                    "service_name": one["service_name"],
                    "description": one["description"],
                    "address": one["address"],
                    "lat": number(one["lat"]),
                    "long": number(one["long"]),
                    "media_url": one["media_url"],
                    "requested_datetime": one["requested_datetime"],
                },
                "by_id": [r["service_request_id"] for r in by_id],
                "listed": [r["service_request_id"] for r in listed],
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("json", "xml"):
        sys.exit(__doc__)
    main(*sys.argv[1:])
