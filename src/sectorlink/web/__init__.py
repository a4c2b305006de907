"""The web app: the registry's REST API and a few HTML pages. `create_app()` builds it;
`sectorlink serve` runs it. See docs/api.md."""

from sectorlink.web.app import create_app
from sectorlink.web.settings import InsecureSettings, Settings

__all__ = ["InsecureSettings", "Settings", "create_app"]
