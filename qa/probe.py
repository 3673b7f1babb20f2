"""`python -m qa.probe [URL]`: exit 0 when /healthz answers 200, else 1, printing the answer.

Standard library only and no Django setup, so a container HEALTHCHECK can run it every few seconds
cheaply. With DEBUG off Django refuses a Host header that is not in ALLOWED_HOSTS (400), so the
probe sends the first allowed host rather than the address it connects to.
"""

import http.client
import os
import sys
from urllib.parse import urlsplit


def probe_host_header() -> str:
    """A Host header the service accepts: the first ALLOWED_HOSTS entry (a leading-dot domain
    becomes that domain; "*" or nothing becomes localhost)."""
    for host in os.getenv("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def probe(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET url with an accepted Host header; (status, body), or (0, the error) when nothing answered."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/", headers={"Host": probe_host_header()})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as error:
        return 0, str(error).encode()
    finally:
        connection.close()


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else f"http://127.0.0.1:{os.getenv('PORT', '8000')}/healthz"
    status, body = probe(url)
    print(status, body.decode(errors="replace")[:500])
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
